/**
 * The restore writer (`RestoreWriter`, `src/core/snapshot-ports.ts`) of a deployment in several
 * Regions (docs/regions.md): this Region writes only its own item of each key, as every write there
 * does. The part's lines, its checkpoint, the batches and what is set aside are those of one Region
 * (`restore-batches.ts`); each batch is:
 *
 * - one consistent `BatchGetItem` of the batch's keys in every Region's partition (a batch holds at
 *   most 100 / Regions records, so this is one request);
 * - per record, the key's items joined and settled in the namespace's conflict mode, as a read sees
 *   it (the records store's `resolve`: expired leases, due fields), and the decision of one Region
 *   (`restorePlan`); a record to write becomes this Region's new own item, a PUT of the snapshot's
 *   values whose context covers everything read (`src/core/regions/restores.ts`);
 * - one `TransactWriteItems`: each own item's put, conditioned on the own item being exactly the
 *   version read, and the move of the part's checkpoint with the batch's counts.
 *
 * A put whose own item changed since it was read (a lost race with a writer of this Region) cancels
 * the batch: the batch is read and planned again. Other Regions' concurrent writes never cancel
 * it; they meet the restored item when the items join, as any concurrent write does. A record
 * whose plan fails (an item that cannot be decoded, a counter the restore would store past
 * DynamoDB's range, a record too large) is set aside at once: the plan is a function of what was
 * read. One the store refuses for itself is set aside after `ITEM_ATTEMPTS` failures, as in one
 * Region. There is no blind first write: a key absent in this Region's partition may be present in
 * another's.
 */
import {
  ConditionalCheckFailedException,
  PutItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { backoffCeilingMs, backoffMs, sleep } from '../../core/backoff';
import { UnavailableError } from '../../core/errors';
import type { RecordState } from '../../core/record-view';
import { type RegionalState, joinAll, settle } from '../../core/regions/merge';
import { restoreRegional } from '../../core/regions/restores';
import type { PartCounts, PartTarget, RestoreWriter } from '../../core/snapshot-ports';
import { type RestoreView, keptAt } from '../../core/snapshots';
import type { ConflictMode } from '../../core/wire/records';
import { batchGetItems } from './batch-get';
import type { Item } from './codec';
import { conditionFailed } from './cancellation';
import { guarded } from './errors';
import { Expr } from './expressions';
import { unchangedClause } from './record-clauses';
import { advanceCheckpoint } from './restore-checkpoints';
import { fromRegionalItem, regionPartition, regionalKeyOf, toRegionalItem } from './regional-codec';
import {
  CONTENTION_BACKOFF,
  type Line,
  MAX_BATCH_ATTEMPTS,
  MAX_RECORD_ATTEMPTS,
  RECORD_FAILURE_BACKOFF,
  RESTORE_BATCH_RECORDS,
  type Tried,
  reasonError,
  recordFailed,
  refusalOf,
  restorePartLines,
  setAsideLine,
} from './restore-batches';
import { DynamoRestoreWriter, type RestoreWriterDeps } from './restore-writer';

/** What the writer works with: the single-Region writer's, the Regions and the namespaces' modes. */
export interface RegionalRestoreWriterDeps extends RestoreWriterDeps {
  /** Every Region of the deployment, the first one first; `replica` is this one. */
  readonly regions: readonly string[];
  /** The conflict mode of a namespace (its settings), which restored items are written in. */
  conflictMode(ns: string): Promise<ConflictMode>;
}

/** Keys one `BatchGetItem` reads. */
const BATCH_GET_KEYS = 100;

const idOf = (ns: string, key: string) => `${ns}\u0000${key}`;

/** A failure of one record's plan that is the record's own: its line is set aside. */
class RecordFault extends Error {
  public constructor(public override readonly cause: unknown) {
    super(String((cause as Error)?.message ?? cause));
  }
}

/** `run()`, its error wrapped as the record's own (`RecordFault`). */
function fault<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    throw new RecordFault(e);
  }
}

/** A record's put: this Region's new own item, conditioned on the own item as read. */
type Put = TransactWriteItem & { Put: NonNullable<TransactWriteItem['Put']> };

export class RegionalRestoreWriter implements RestoreWriter {
  private readonly first: string;
  /** Records of a batch: every Region's item of each is read with one request. */
  private readonly batchRecords: number;

  /** Throws an `Error` when `deps.regions` does not name `deps.replica`. */
  public constructor(private readonly deps: RegionalRestoreWriterDeps) {
    if (!deps.regions.includes(deps.replica))
      throw new Error(`the Regions ${deps.regions.join(', ')} do not include this one, ${deps.replica}`);
    this.first = deps.regions[0];
    this.batchRecords = Math.max(1, Math.min(RESTORE_BATCH_RECORDS, Math.floor(BATCH_GET_KEYS / deps.regions.length)));
  }

  public restorePart(
    restore: RestoreView,
    part: string,
    lines: () => AsyncIterable<string>,
    target: PartTarget,
  ): Promise<PartCounts> {
    return restorePartLines(
      this.deps,
      restore,
      part,
      lines,
      target,
      (from, to, batch, parsedAside) => this.commitBatch(restore, part, target, from, to, batch, parsedAside),
      this.batchRecords,
    );
  }

  /** See `RestoreWriter.restoreOne`. Throws store errors and what planning the record throws. */
  public async restoreOne(line: RecordState, mode: RestoreView['mode']): Promise<boolean> {
    const snap = keptAt(line, this.deps.clock.now().getTime());
    if (!snap) return false;
    for (let attempt = 0; attempt < MAX_RECORD_ATTEMPTS; attempt++) {
      const items = (await this.read([snap])).get(idOf(snap.namespace, snap.key)) ?? [];
      let put: Put | undefined;
      try {
        put = await this.plan(snap, items, mode);
      } catch (e) {
        throw e instanceof RecordFault ? e.cause : e;
      }
      if (!put) return false;
      try {
        await guarded(() => this.deps.client.send(new PutItemCommand(put.Put)));
        return true;
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
        // This Region's item changed since it was read: read and plan again.
      }
    }
    return false;
  }

  /** Every Region's item of each record's key, as stored, by `idOf`: one request per 100 items. */
  private async read(snaps: readonly RecordState[]): Promise<Map<string, Item[]>> {
    const out = new Map<string, Item[]>();
    const keys: Item[] = [];
    for (const s of snaps) {
      out.set(idOf(s.namespace, s.key), []);
      for (const r of this.deps.regions) keys.push(regionalKeyOf(s.namespace, s.key, r, this.first));
    }
    const byPartition = new Map<string, string>();
    for (const s of snaps)
      for (const r of this.deps.regions)
        byPartition.set(idOf(regionPartition(s.namespace, r, this.first), s.key), idOf(s.namespace, s.key));
    for (const it of await batchGetItems(this.deps.client, this.deps.recordsTable, keys)) {
      const id = byPartition.get(idOf(it.ns?.S ?? '', it.k?.S ?? ''));
      if (id !== undefined) out.get(id)?.push(it);
    }
    return out;
  }

  /**
   * The put that restores `snap` (as `keptAt` leaves it) over the key's `items` in `mode`;
   * undefined when it is to be skipped. Throws `RecordFault` for what is the record's own (an item
   * that cannot be decoded, what `restoreRegional` throws), and what `resolve` and the
   * namespace's settings throw as they throw it.
   */
  private async plan(snap: RecordState, items: readonly Item[], mode: RestoreView['mode']): Promise<Put | undefined> {
    const { clock, replica: self, recordsTable } = this.deps;
    const ns = snap.namespace;
    const conflicts = await this.deps.conflictMode(ns);
    const decoded = fault(() => items.map((i) => fromRegionalItem(i, ns, this.first)));
    const own = decoded.find((i) => i.region === self)?.state;
    const joined: RegionalState | undefined = joinAll(decoded.map((i) => i.state));
    const visible = joined ? await this.deps.resolve(settle(joined, conflicts).state) : undefined;
    // Stamped no earlier than what was read (stamps never go down).
    const now = clock.now().toISOString();
    const stamp = joined && joined.updatedAt > now ? joined.updatedAt : now;
    const env = { replica: self, now: stamp, mode: conflicts };
    const w = fault(() => restoreRegional(joined, visible, snap, mode, env));
    if (!w) return undefined;
    const e = new Expr();
    e.require(unchangedClause(e, own));
    return {
      Put: { TableName: recordsTable, Item: toRegionalItem(w.item, self, this.first, 'put', conflicts), ...e.params() },
    };
  }

  /**
   * Commits lines `[from, to)` of the part (see the file comment); returns the batch's counts.
   * Throws `CheckpointMoved` when another run moved the checkpoint first, `NotPinned` for a
   * failure of several records the store does not pin on one, dependency failures as they come,
   * what setting a line aside throws, and `UnavailableError` after too many cancelled attempts.
   */
  private async commitBatch(
    r: RestoreView,
    part: string,
    target: PartTarget,
    from: number,
    to: number,
    batch: readonly Line[],
    parsedAside: number,
  ): Promise<PartCounts> {
    const deps = this.deps;
    let pending: Tried[] = batch.map((l) => ({ ...l, attempts: 0, failures: 0 }));
    let skipped = 0;
    let setAside = parsedAside;
    const drop = (p: Tried) => {
      pending = pending.filter((x) => x !== p);
    };
    const failed = async (p: Tried, e: unknown) => {
      if (!(await recordFailed(deps, r, part, target, p, e))) return;
      setAside++;
      drop(p);
    };
    for (let attempt = 0; attempt < MAX_BATCH_ATTEMPTS; attempt++) {
      const nowMs = deps.clock.now().getTime();
      const items = pending.length > 0 ? await this.read(pending.map((p) => p.snap)) : new Map<string, Item[]>();
      const writes: { p: Tried; put: Put }[] = [];
      for (const p of [...pending]) {
        const snap = keptAt(p.snap, nowMs);
        let put: Put | undefined;
        if (snap && p.attempts < MAX_RECORD_ATTEMPTS) {
          try {
            put = await this.plan(snap, items.get(idOf(p.snap.namespace, p.snap.key)) ?? [], r.mode);
          } catch (e) {
            if (!(e instanceof RecordFault)) throw e;
            // A function of what was read: planning it again gives the same error.
            await setAsideLine(deps, r, part, p, target, e.cause, 1);
            setAside++;
            drop(p);
            continue;
          }
        }
        if (put) writes.push({ p, put });
        else {
          skipped++;
          drop(p);
        }
      }
      const counts = { written: writes.length, skipped, setAside };
      const checkpoint = advanceCheckpoint(deps.controlTable, r.id, part, from, to, counts, deps.clock.now().getTime());
      try {
        await deps.client.send(
          new TransactWriteItemsCommand({ TransactItems: [...writes.map((w) => w.put), checkpoint] }),
        );
        return counts;
      } catch (e) {
        const refusal = refusalOf(e, writes.length, part);
        if ('error' in refusal) {
          await failed(writes[0].p, refusal.error);
          await sleep(backoffCeilingMs(writes[0].p.failures, RECORD_FAILURE_BACKOFF));
          continue;
        }
        const { reasons } = refusal;
        let pinned = false;
        for (const [i, w] of writes.entries()) {
          const code = reasons[i]?.Code ?? 'None';
          if (code === 'None' || code === 'TransactionConflict') continue;
          pinned = true;
          // This Region's item changed since it was read (a lost race): read and plan again.
          if (conditionFailed(reasons[i])) w.p.attempts++;
          else await failed(w.p, reasonError(reasons[i]));
        }
        // Contention with other writers (TransactionConflict): read again, after a pause.
        if (!pinned) await sleep(backoffMs(attempt, CONTENTION_BACKOFF));
      }
    }
    throw new UnavailableError(
      `part ${part} of restore ${r.id}: too many concurrent writes to its keys; the part resumes from its checkpoint`,
    );
  }
}

/**
 * The restore writer of a deployment in `regions` (the first one first): this one for several
 * Regions, writing in the namespaces' modes (`conflictMode`), else the single-Region writer,
 * exactly as it is. Throws an `Error` when several Regions do not include `deps.replica`.
 */
export function restoreWriterFor(
  deps: RestoreWriterDeps,
  regions: readonly string[],
  conflictMode: (ns: string) => Promise<ConflictMode>,
): RestoreWriter {
  return regions.length > 1
    ? new RegionalRestoreWriter({ ...deps, regions, conflictMode })
    : new DynamoRestoreWriter(deps);
}
