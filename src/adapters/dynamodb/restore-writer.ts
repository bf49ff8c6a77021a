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
 * Reading the part, batching, narrowing and setting aside are shared with the writer of several
 * Regions (`restore-batches.ts`); this file is the single-Region commit of a batch.
 */
import {
  type DynamoDBClient,
  ConditionalCheckFailedException,
  PutItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import type { SetAside } from '../../core/dead-letters';
import { backoffCeilingMs, backoffMs, sleep } from '../../core/backoff';
import { UnavailableError } from '../../core/errors';
import type { Clock } from '../../core/ports';
import type { RecordState } from '../../core/record-view';
import type { PartCounts, PartTarget, RestoreWriter } from '../../core/snapshot-ports';
import { type RestoreView, keptAt, restorePlan } from '../../core/snapshots';
import { type Item, fromItem, keyOf, toItem } from './codec';
import { batchGetItems } from './batch-get';
import { conditionFailed } from './cancellation';
import { guarded } from './errors';
import { Expr, attributeNotExists } from './expressions';
import { advanceCheckpoint } from './restore-checkpoints';
import {
  CONTENTION_BACKOFF,
  type Line,
  MAX_BATCH_ATTEMPTS,
  MAX_RECORD_ATTEMPTS,
  RECORD_FAILURE_BACKOFF,
  type Tried,
  reasonError,
  recordFailed,
  refusalOf,
  restorePartLines,
} from './restore-batches';

export { RESTORE_BATCH_BYTES, RESTORE_BATCH_RECORDS } from './restore-batches';

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
    // Blind from the start in mode `missing` (usually into a table without the keys); in mode
    // `newer` (usually over older records) once a batch found none of its keys stored.
    const state: BlindState = { blind: restore.mode === 'missing' };
    return restorePartLines(this.deps, restore, part, lines, target, (from, to, batch, parsedAside) =>
      commitBatch(this.deps, restore, part, target, from, to, batch, parsedAside, state),
    );
  }

  public restoreOne(snap: RecordState, mode: RestoreView['mode']): Promise<boolean> {
    return restoreOne(this.deps, snap, mode);
  }
}

interface Pending extends Tried {
  /** The stored item as last seen; `undefined` until read, `null` when absent. */
  stored: Item | null | undefined;
}

/** Whether a part's next batch is written blind (its keys assumed absent, no read first). */
interface BlindState {
  blind: boolean;
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
    if (!(await recordFailed(deps, r, part, target, p, e))) return;
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
        if (conditionFailed(reasons[i])) {
          // The record changed since it was read, or a blind put found it stored: plan it again
          // against what is stored now (a blind miss is not a change under the restore).
          w.p.stored = reasons[i].Item ?? null;
          if (!w.blind) w.p.attempts++;
        } else await failed(w.p, reasonError(reasons[i]));
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
