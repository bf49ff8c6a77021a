/**
 * The restore writer (`RestoreWriter`, `src/core/snapshot-ports.ts`) on DynamoDB: writes the lines
 * of one snapshot part into the records table, in batches. Each batch is one
 * DynamoDB transaction: the conditional puts of the batch's records that `restorePlan` says to
 * write, and the move of the part's checkpoint over the batch's lines with its counts (see
 * `src/adapters/dynamodb/restore-checkpoints.ts`). So a batch is committed whole, records and
 * counts together, or not at all; a part that is retried or resumed starts after its checkpoint,
 * and a record restored before an interruption is counted once, as written, whatever happens
 * later. Skipping is decided from the record as read just before its batch commits.
 *
 * A record is written as it stands at the batch's time by the service clock (`keptAt`): fields
 * already due are left out, the others keep their due instants; a record with no field left is
 * not written and counts as skipped, like one the store holds newer.
 *
 * A batch is first written blind when the part's previous batch found none of its keys stored
 * (and, for the first batch, in mode `missing`): every record as the snapshot has it, each put
 * conditioned on its key being absent, with no read before. A key that turns out to be stored
 * fails its condition, which cancels the batch and returns the stored item; that record is planned
 * again against it, the others are read, and the batch is tried again. So a restore into an empty
 * table costs one write request per batch and no read, and a key is still never written over
 * unless `restorePlan` says so against the item as stored.
 *
 * One line never fails a part. A line that cannot be parsed, or a record that fails for itself
 * `ITEM_ATTEMPTS` times (not throttling or an unreachable store: those stop the part, which is
 * retried from its checkpoint), is set aside as a dead letter (source `restore`, with the line's
 * exact text) and counted `setAside` with the batch. A failure the store does not pin on one
 * record of a batch is narrowed down by committing that batch's records one at a time. Setting
 * the same line aside again (a resumed part) updates the same entry.
 *
 * Batches are small enough for one transaction (`RESTORE_BATCH_RECORDS` records plus the
 * checkpoint, at most `RESTORE_BATCH_BYTES` of lines, below DynamoDB's 100 items and 4 MB).
 */
import {
  type DynamoDBClient,
  ConditionalCheckFailedException,
  PutItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { ITEM_ATTEMPTS, ITEM_BACKOFF_MS, type SetAside, errorOf, isDependencyFailure } from '../../core/dead-letters';
import { backoffCeilingMs, backoffMs, sleep } from '../../core/backoff';
import { ThrottledError, UnavailableError } from '../../core/errors';
import type { Clock } from '../../core/ports';
import type { RecordState } from '../../core/record-view';
import type { PartCounts, PartTarget, RestorePayload, RestoreWriter } from '../../core/snapshot-ports';
import { type RestoreView, fromLine, keptAt, restorePlan } from '../../core/snapshots';
import { type Item, fromItem, keyOf, toItem } from './codec';
import { batchGetItems } from './batch-get';
import { cancellationReasons, conditionFailed } from './cancellation';
import { guarded, translate } from './errors';
import { Expr, attributeNotExists } from './expressions';
import { advanceCheckpoint, loadCheckpoint } from './restore-checkpoints';

/**
 * Records of one batch (the transaction also holds the checkpoint: at most 100 items). Small
 * enough that a transaction stays well inside the client's request timeout on a busy store: one
 * that times out is sent again, and its first sending, still applied, costs the store twice.
 */
export const RESTORE_BATCH_RECORDS = 25;
/** Line bytes of one batch, well below a transaction's 4 MB (an item may be larger than its line). */
export const RESTORE_BATCH_BYTES = 1_000_000;
/** Conditional writes of one record before it is counted skipped (a key written concurrently). */
const MAX_RECORD_ATTEMPTS = 5;
/** Attempts of one batch before the part gives up with a retryable error. */
const MAX_BATCH_ATTEMPTS = 10;
/** Cancellation reasons that are the store's (retry the part later), not the record's. */
const THROTTLED = new Set(['ProvisionedThroughputExceeded', 'ThrottlingError', 'RequestLimitExceeded']);
/** Pause after a record of a batch failed for itself, before the batch is tried again (no jitter). */
const RECORD_FAILURE_BACKOFF = { baseMs: ITEM_BACKOFF_MS, capMs: ITEM_BACKOFF_MS * 2 ** 6 } as const;
/** Backoff after a batch lost to contention with other writers, before everything is read again. */
const CONTENTION_BACKOFF = { baseMs: 10, capMs: 10 * 2 ** 6 } as const;

/** What the writer works with. */
export interface RestoreWriterDeps {
  readonly client: DynamoDBClient;
  /** The records table (physical name). */
  readonly recordsTable: string;
  /** The control table (physical name): the restore checkpoints. */
  readonly controlTable: string;
  readonly clock: Clock;
  /** The replica id a restore writes its new dots with (as the record store's writes). */
  readonly replica: string;
  /** Resolves a stored state whose lease may have expired (as reads see it). */
  resolve(s: RecordState | undefined): Promise<RecordState | undefined>;
  /** Where lines that cannot be restored are set aside (`deadLetterSink`). */
  readonly setAside: SetAside;
}

export class DynamoRestoreWriter implements RestoreWriter {
  public constructor(private readonly deps: RestoreWriterDeps) {}

  public restorePart(
    restore: RestoreView,
    part: string,
    lines: () => AsyncIterable<string>,
    target: PartTarget,
  ): Promise<PartCounts> {
    return restorePartLines(this.deps, restore, part, lines, target);
  }

  public restoreOne(snap: RecordState, mode: RestoreView['mode']): Promise<boolean> {
    return restoreOne(this.deps, snap, mode);
  }
}

/** One line of a part that holds a record to restore. */
interface Line {
  /** Index of the line in the part (0-based, empty lines not counted). */
  readonly index: number;
  readonly text: string;
  readonly snap: RecordState;
}

interface Pending extends Line {
  /** The stored item as last seen; `undefined` until read, `null` when absent. */
  stored: Item | null | undefined;
  /** Failed conditions (the key changed under the restore). */
  attempts: number;
  /** Failures of the record itself, and the last one. */
  failures: number;
  error?: unknown;
}

/** Whether a part's next batch is written blind (its keys assumed absent, no read first). */
interface BlindState {
  blind: boolean;
}

/** Another run of the same part moved its checkpoint: this run must re-read it and go on from there. */
class CheckpointMoved extends Error {}

/** The store refused a batch for a reason it did not pin on one record: commit its records one at a time. */
class NotPinned extends Error {}

/** Sets one line aside as a dead letter; throws what the dead-letter store throws. */
async function setAsideLine(
  deps: RestoreWriterDeps,
  r: RestoreView,
  part: string,
  line: { index: number; text: string; snap?: RecordState },
  target: PartTarget,
  e: unknown,
  attempts: number,
): Promise<void> {
  const item = {
    restoreId: r.id,
    snapshotId: r.snapshotId,
    part,
    line: line.index + 1,
    ...(line.snap ? { namespace: line.snap.namespace, key: line.snap.key } : {}),
  };
  const payload: RestorePayload = { line: line.text, target: target.into ?? null, mode: r.mode };
  await deps.setAside({ source: 'restore', item, error: errorOf(e), attempts, payload });
}

/** Reads the stored items of the records not yet read (consistently), `null` for absent keys. */
async function readStored(deps: RestoreWriterDeps, pending: readonly Pending[]): Promise<void> {
  const unread = pending.filter((p) => p.stored === undefined);
  for (const p of unread) p.stored = null;
  const byKey = new Map(unread.map((p) => [`${p.snap.namespace}\u0000${p.snap.key}`, p]));
  const keys = unread.map((p) => keyOf(p.snap.namespace, p.snap.key));
  for (const it of await batchGetItems(deps.client, deps.recordsTable, keys)) {
    const p = byKey.get(`${it.ns?.S}\u0000${it.k?.S}`);
    if (p) p.stored = it;
  }
}

/** The conditional put of a planned record: over the stored item as read, or of an absent key. */
function putOf(deps: RestoreWriterDeps, target: RecordState, stored: Item | null | undefined): TransactWriteItem {
  const e = new Expr();
  const rev = e.name('rev');
  // The stored attributes as read, not decoded: a record that cannot be decoded is still overwritten only as it was.
  e.require(
    stored
      ? `${e.name('inc')} = ${e.value({ S: stored.inc?.S ?? '' })} AND ${rev} = ${e.value({ N: stored.rev?.N ?? '0' })}`
      : attributeNotExists(rev),
  );
  return {
    Put: {
      TableName: deps.recordsTable,
      Item: toItem(target),
      ...e.params(),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * Commits one batch: lines `[from, to)` of the part, whose records are `batch` and of which
 * `parsedAside` were set aside unread; its first attempt is blind when `state.blind` is, and
 * `state.blind` is left set for the next batch when this one found none of its keys stored.
 * Returns the batch's counts. Throws `CheckpointMoved` when
 * another run moved the checkpoint first, `NotPinned` for a failure of several records that the
 * store does not pin on one, dependency failures as they come, and `UnavailableError` after too
 * many cancelled attempts.
 */
async function commitBatch(
  deps: RestoreWriterDeps,
  r: RestoreView,
  part: string,
  target: PartTarget,
  from: number,
  to: number,
  batch: readonly Line[],
  parsedAside: number,
  state: BlindState,
): Promise<PartCounts> {
  let pending: Pending[] = batch.map((l) => ({ ...l, stored: undefined, attempts: 0, failures: 0 }));
  let found = false;
  let skipped = 0;
  let setAside = parsedAside;
  const failed = async (p: Pending, e: unknown) => {
    p.failures++;
    p.error = e;
    if (p.failures < ITEM_ATTEMPTS) return;
    await setAsideLine(deps, r, part, p, target, e, p.failures);
    setAside++;
    pending = pending.filter((x) => x !== p);
  };
  for (let attempt = 0; attempt < MAX_BATCH_ATTEMPTS; attempt++) {
    const nowMs = deps.clock.now().getTime();
    // A blind first attempt leaves every key unread: its put requires the key to be absent.
    if (attempt > 0 || !state.blind) await readStored(deps, pending);
    const writes: { p: Pending; item: TransactWriteItem; blind: boolean }[] = [];
    for (const p of [...pending]) {
      if (p.stored) found = true;
      const existing = p.stored ? await deps.resolve(fromItem(p.stored)) : undefined;
      const snap = keptAt(p.snap, nowMs);
      const planned =
        snap && p.attempts < MAX_RECORD_ATTEMPTS ? restorePlan(existing, snap, r.mode, deps.replica) : undefined;
      if (planned) writes.push({ p, item: putOf(deps, planned, p.stored), blind: p.stored === undefined });
      else {
        skipped++;
        pending = pending.filter((x) => x !== p);
      }
    }
    const counts = { written: writes.length, skipped, setAside };
    const checkpoint = advanceCheckpoint(deps.controlTable, r.id, part, from, to, counts, deps.clock.now().getTime());
    try {
      await deps.client.send(
        new TransactWriteItemsCommand({ TransactItems: [...writes.map((w) => w.item), checkpoint] }),
      );
      state.blind = !found;
      return counts;
    } catch (e) {
      const reasons = cancellationReasons(e);
      if (!reasons) {
        const err = translate(e);
        if (isDependencyFailure(err)) throw err;
        if (writes.length !== 1) throw new NotPinned(String((err as Error)?.message ?? err));
        await failed(writes[0].p, err);
        await sleep(backoffCeilingMs(writes[0].p.failures, RECORD_FAILURE_BACKOFF));
        continue;
      }
      if (conditionFailed(reasons[writes.length])) throw new CheckpointMoved(`the checkpoint of part ${part} moved`);
      if (reasons.some((x) => THROTTLED.has(x.Code ?? '')))
        throw new ThrottledError('the store throttled a restore batch; the part resumes from its checkpoint', 1, {
          cause: e,
        });
      let pinned = false;
      for (const [i, w] of writes.entries()) {
        const code = reasons[i]?.Code ?? 'None';
        if (code === 'None' || code === 'TransactionConflict') continue;
        pinned = true;
        if (conditionFailed(reasons[i])) {
          // The record changed since it was read, or a blind put found it stored: plan it again
          // against what is stored now (a blind miss is not a change under the restore).
          w.p.stored = reasons[i].Item ?? null;
          if (!w.blind) w.p.attempts++;
        } else await failed(w.p, Object.assign(new Error(reasons[i].Message ?? code), { name: code }));
      }
      if (!pinned) {
        // Contention with other writers (TransactionConflict): read everything again, after a pause.
        for (const p of pending) p.stored = undefined;
        await sleep(backoffMs(attempt, CONTENTION_BACKOFF));
      }
    }
  }
  throw new UnavailableError(
    `part ${part} of restore ${r.id}: too many concurrent writes to its keys; the part resumes from its checkpoint`,
  );
}

/**
 * Restores one part from its checkpoint on; returns the part's counts, those of earlier runs
 * included. Throws dependency failures and store errors (a retry resumes from the checkpoint), and
 * what setting a line aside throws.
 */
async function restorePartLines(
  deps: RestoreWriterDeps,
  r: RestoreView,
  part: string,
  lines: () => AsyncIterable<string>,
  target: PartTarget,
): Promise<PartCounts> {
  // Blind from the start in mode `missing` (usually into a table without the keys); in mode
  // `newer` (usually over older records) once a batch found none of its keys stored.
  const state: BlindState = { blind: r.mode === 'missing' };
  for (;;) {
    let next = (await loadCheckpoint(deps.client, deps.controlTable, r.id, part)).next;
    try {
      let index = 0;
      let batch: Line[] = [];
      let parsedAside = 0;
      let keys = new Set<string>();
      let bytes = 0;
      /** Commits lines `[next, to)`; a batch the store refuses whole is committed a record at a time. */
      const flush = async (to: number) => {
        if (batch.length > 0 || parsedAside > 0) {
          try {
            await commitBatch(deps, r, part, target, next, to, batch, parsedAside, state);
          } catch (e) {
            if (!(e instanceof NotPinned)) throw e;
            for (const [i, line] of batch.entries()) {
              const end = i + 1 < batch.length ? batch[i + 1].index : to;
              await commitBatch(
                deps,
                r,
                part,
                target,
                i === 0 ? next : line.index,
                end,
                [line],
                i === 0 ? parsedAside : 0,
                state,
              );
            }
          }
          next = to;
        }
        batch = [];
        parsedAside = 0;
        keys = new Set();
        bytes = 0;
      };
      for await (const text of lines()) {
        const i = index++;
        if (i < next) continue;
        let snap: RecordState;
        try {
          snap = fromLine(text, target.into);
        } catch (e) {
          // Parsing is deterministic: trying again gives the same error, so it is tried once.
          await setAsideLine(deps, r, part, { index: i, text }, target, e, 1);
          parsedAside++;
          continue;
        }
        if (target.only !== undefined && snap.namespace !== target.only) continue;
        const id = `${snap.namespace}\u0000${snap.key}`;
        if (
          batch.length >= RESTORE_BATCH_RECORDS ||
          keys.has(id) ||
          (batch.length > 0 && bytes + text.length > RESTORE_BATCH_BYTES)
        )
          await flush(i);
        batch.push({ index: i, text, snap });
        keys.add(id);
        bytes += text.length;
      }
      await flush(index);
      const { next: _, ...counts } = await loadCheckpoint(deps.client, deps.controlTable, r.id, part);
      return counts;
    } catch (e) {
      if (!(e instanceof CheckpointMoved)) throw e;
      // Another run of this part got ahead: read its checkpoint and go on after it.
    }
  }
}

/**
 * Writes one snapshot record alone, as a restore would (never over a newer record, without the
 * fields due by now): a replayed dead letter. True when written, false when skipped. Throws store errors.
 */
async function restoreOne(deps: RestoreWriterDeps, line: RecordState, mode: RestoreView['mode']): Promise<boolean> {
  const snap = keptAt(line, deps.clock.now().getTime());
  if (!snap) return false;
  let planned: RecordState | undefined = snap;
  let stored: Item | null = null;
  for (let attempt = 0; attempt < MAX_RECORD_ATTEMPTS; attempt++) {
    try {
      await guarded(() => deps.client.send(new PutItemCommand(putOf(deps, planned!, stored).Put!)));
      return true;
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      stored = (e.Item as Item | undefined) ?? null;
      planned = restorePlan(await deps.resolve(stored ? fromItem(stored) : undefined), snap, mode, deps.replica);
      if (!planned) return false;
    }
  }
  return false;
}
