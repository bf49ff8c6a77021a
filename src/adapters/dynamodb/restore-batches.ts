/**
 * What every restore writer on DynamoDB shares (`restore-writer.ts` in one Region,
 * `regional-restore-writer.ts` in several): reading a part's lines from its checkpoint on, parsing
 * them, setting aside the lines that cannot be parsed, cutting the rest into batches and handing
 * each batch to the writer's commit, which writes its records and moves the checkpoint in one
 * transaction; a batch the store refuses without pinning the failure on one record is committed a
 * record at a time; another run of the same part that moved the checkpoint first is followed. Also
 * how a refused batch transaction is read, and how a record that keeps failing is set aside.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ITEM_ATTEMPTS, ITEM_BACKOFF_MS, type SetAside, errorOf, isDependencyFailure } from '../../core/dead-letters';
import { ThrottledError } from '../../core/errors';
import type { RecordState } from '../../core/record-view';
import type { PartCounts, PartTarget, RestorePayload } from '../../core/snapshot-ports';
import { type RestoreView, fromLine } from '../../core/snapshots';
import { type CancellationReason, cancellationReasons, conditionFailed } from './cancellation';
import { translate } from './errors';
import { loadCheckpoint } from './restore-checkpoints';

/**
 * Records of one batch (the transaction also holds the checkpoint: at most 100 items). Small
 * enough that a transaction stays well inside the client's request timeout on a busy store: one
 * that times out is sent again, and its first sending, still applied, costs the store twice.
 */
export const RESTORE_BATCH_RECORDS = 25;
/** Line bytes of one batch, well below a transaction's 4 MB (an item may be larger than its line). */
export const RESTORE_BATCH_BYTES = 1_000_000;
/** Conditional writes of one record before it is counted skipped (a key written concurrently). */
export const MAX_RECORD_ATTEMPTS = 5;
/** Attempts of one batch before the part gives up with a retryable error. */
export const MAX_BATCH_ATTEMPTS = 10;
/** Pause after a record of a batch failed for itself, before the batch is tried again (no jitter). */
export const RECORD_FAILURE_BACKOFF = { baseMs: ITEM_BACKOFF_MS, capMs: ITEM_BACKOFF_MS * 2 ** 6 } as const;
/** Backoff after a batch lost to contention with other writers, before everything is read again. */
export const CONTENTION_BACKOFF = { baseMs: 10, capMs: 10 * 2 ** 6 } as const;
/** Cancellation reasons that are the store's (retry the part later), not the record's. */
const THROTTLED = new Set(['ProvisionedThroughputExceeded', 'ThrottlingError', 'RequestLimitExceeded']);

/** What running a part needs: the store of the checkpoints and where lines are set aside. */
export interface PartDeps {
  readonly client: DynamoDBClient;
  /** The control table (physical name): the restore checkpoints. */
  readonly controlTable: string;
  /** Where lines that cannot be restored are set aside (`deadLetterSink`). */
  readonly setAside: SetAside;
}

/** One line of a part that holds a record to restore. */
export interface Line {
  /** Index of the line in the part (0-based, empty lines not counted). */
  readonly index: number;
  readonly text: string;
  readonly snap: RecordState;
}

/** A record of a batch being committed, with its failures so far. */
export interface Tried extends Line {
  /** Failed conditions (the key changed under the restore). */
  attempts: number;
  /** Failures of the record itself, and the last one. */
  failures: number;
  error?: unknown;
}

/**
 * Commits lines `[from, to)` of a part: `batch` are its records, `parsedAside` lines before them
 * were set aside unread. Returns the batch's counts.
 */
export type CommitBatch = (
  from: number,
  to: number,
  batch: readonly Line[],
  parsedAside: number,
) => Promise<PartCounts>;

/** Another run of the same part moved its checkpoint: this run must re-read it and go on from there. */
export class CheckpointMoved extends Error {}

/** The store refused a batch for a reason it did not pin on one record: commit its records one at a time. */
export class NotPinned extends Error {}

/** Sets one line aside as a dead letter; throws what the dead-letter store throws. */
export async function setAsideLine(
  deps: PartDeps,
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

/**
 * Counts one failure of a record for itself; at `ITEM_ATTEMPTS` failures sets its line aside and
 * returns true (the record leaves the batch, counted `setAside`). Throws what setting aside throws.
 */
export async function recordFailed(
  deps: PartDeps,
  r: RestoreView,
  part: string,
  target: PartTarget,
  p: Tried,
  e: unknown,
): Promise<boolean> {
  p.failures++;
  p.error = e;
  if (p.failures < ITEM_ATTEMPTS) return false;
  await setAsideLine(deps, r, part, p, target, e, p.failures);
  return true;
}

/**
 * What a refused batch transaction of `writes` record puts and the checkpoint (last) means: the
 * cancellation reasons, one per item; or, for a request refused without them carrying one put,
 * the error, which is that record's. Throws dependency failures (`ThrottledError` also when a
 * reason is throttling), `NotPinned` for a refusal without reasons of several puts, and
 * `CheckpointMoved` when the checkpoint's condition failed.
 */
export function refusalOf(
  e: unknown,
  writes: number,
  part: string,
): { readonly reasons: readonly CancellationReason[] } | { readonly error: unknown } {
  const reasons = cancellationReasons(e);
  if (!reasons) {
    const err = translate(e);
    if (isDependencyFailure(err)) throw err;
    if (writes !== 1) throw new NotPinned(String((err as Error)?.message ?? err));
    return { error: err };
  }
  if (conditionFailed(reasons[writes])) throw new CheckpointMoved(`the checkpoint of part ${part} moved`);
  if (reasons.some((x) => THROTTLED.has(x.Code ?? '')))
    throw new ThrottledError('the store throttled a restore batch; the part resumes from its checkpoint', 1, {
      cause: e,
    });
  return { reasons };
}

/** The error a cancellation reason stands for (a failure of that record). Never throws. */
export const reasonError = (reason: CancellationReason): Error =>
  Object.assign(new Error(reason.Message ?? reason.Code ?? 'None'), { name: reason.Code ?? 'None' });

/**
 * Restores one part from its checkpoint on, committing batches of at most `batchRecords` records
 * with `commit`; returns the part's counts, those of earlier runs included. Throws dependency
 * failures and store errors (a retry resumes from the checkpoint), what `commit` and reading
 * `lines` throw, and what setting a line aside throws.
 */
export async function restorePartLines(
  deps: PartDeps,
  r: RestoreView,
  part: string,
  lines: () => AsyncIterable<string>,
  target: PartTarget,
  commit: CommitBatch,
  batchRecords = RESTORE_BATCH_RECORDS,
): Promise<PartCounts> {
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
            await commit(next, to, batch, parsedAside);
          } catch (e) {
            if (!(e instanceof NotPinned)) throw e;
            for (const [i, line] of batch.entries()) {
              const end = i + 1 < batch.length ? batch[i + 1].index : to;
              await commit(i === 0 ? next : line.index, end, [line], i === 0 ? parsedAside : 0);
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
          batch.length >= batchRecords ||
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
