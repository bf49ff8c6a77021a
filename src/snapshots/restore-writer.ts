/**
 * Writes the lines of one snapshot part into the records table, in batches. Each batch is one
 * DynamoDB transaction: the conditional puts of the batch's records that `restorePlan` says to
 * write, and the move of the part's checkpoint over the batch's lines with its counts (see
 * `src/adapters/dynamodb/restore-checkpoints.ts`). So a batch is committed whole, records and
 * counts together, or not at all; a part that is retried or resumed starts after its checkpoint,
 * and a record restored before an interruption is counted once, as written, whatever happens
 * later. Skipping is decided from the record as read just before its batch commits.
 *
 * Batches are small enough for one transaction (`RESTORE_BATCH_RECORDS` records plus the
 * checkpoint, at most `RESTORE_BATCH_BYTES` of lines, below DynamoDB's 100 items and 4 MB).
 */
import { BatchGetItemCommand, type TransactWriteItem, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { UnavailableError } from '../core/errors';
import type { RecordState } from '../core/record-view';
import { type RestoreView, fromLine, restorePlan } from '../core/snapshots';
import { type Item, fromItem, keyOf, toItem } from '../adapters/dynamodb/codec';
import { errorName, guarded } from '../adapters/dynamodb/errors';
import { type Checkpoint, advanceCheckpoint, loadCheckpoint } from '../adapters/dynamodb/restore-checkpoints';
import type { SnapshotWorkerDeps } from './deps';

/** Records of one batch (the transaction also holds the checkpoint: at most 100 items). */
export const RESTORE_BATCH_RECORDS = 50;
/** Line bytes of one batch, well below a transaction's 4 MB (an item may be larger than its line). */
export const RESTORE_BATCH_BYTES = 1_000_000;
/** Conditional writes of one record before it is counted skipped (a key written concurrently). */
const MAX_RECORD_ATTEMPTS = 5;
/** Attempts of one batch before the part gives up with a retryable error. */
const MAX_BATCH_ATTEMPTS = 10;

/** Which lines of a part a restore takes, and into which namespace. */
export interface PartTarget {
  /** Only records of this namespace (a whole-store snapshot restored into one namespace). */
  readonly only?: string;
  /** Every record goes into this namespace (a namespace snapshot restored elsewhere). */
  readonly into?: string;
}

interface Pending {
  readonly snap: RecordState;
  /** The stored item as last seen; `undefined` until read, `null` when absent. */
  stored: Item | null | undefined;
  attempts: number;
}

/** Another run of the same part moved its checkpoint: this run must re-read it and go on from there. */
class CheckpointMoved extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads the stored items of the records not yet read (consistently), `null` for absent keys. */
async function readStored(deps: SnapshotWorkerDeps, pending: readonly Pending[]): Promise<void> {
  const unread = pending.filter((p) => p.stored === undefined);
  for (const p of unread) p.stored = null;
  const byKey = new Map(unread.map((p) => [`${p.snap.namespace}\u0000${p.snap.key}`, p]));
  let keys: Item[] | undefined = unread.map((p) => keyOf(p.snap.namespace, p.snap.key));
  while (keys && keys.length > 0) {
    const req: Item[] = keys;
    const out = await guarded(() => deps.client.send(new BatchGetItemCommand({ RequestItems: { [deps.recordsTable]: { Keys: req, ConsistentRead: true } } })));
    for (const it of (out.Responses?.[deps.recordsTable] ?? []) as Item[]) {
      const p = byKey.get(`${it.ns?.S}\u0000${it.k?.S}`);
      if (p) p.stored = it;
    }
    keys = out.UnprocessedKeys?.[deps.recordsTable]?.Keys as Item[] | undefined;
  }
}

/**
 * Commits one batch: lines `[from.next, to)` of the part, whose records are `batch`. Returns the
 * batch's counts. Throws `CheckpointMoved` when another run moved the checkpoint first, store
 * errors as they come, and `UnavailableError` after too many cancelled attempts.
 */
async function commitBatch(deps: SnapshotWorkerDeps, r: RestoreView, part: string, from: Checkpoint, to: number, batch: readonly RecordState[]): Promise<{ written: number; skipped: number }> {
  const pending: Pending[] = batch.map((snap) => ({ snap, stored: undefined, attempts: 0 }));
  let skipped = 0;
  for (let attempt = 0; attempt < MAX_BATCH_ATTEMPTS; attempt++) {
    await readStored(deps, pending);
    const writes: { p: Pending; item: TransactWriteItem }[] = [];
    for (const p of [...pending]) {
      const existing = await deps.resolve(p.stored ? fromItem(p.stored) : undefined);
      const target = p.attempts < MAX_RECORD_ATTEMPTS ? restorePlan(existing, p.snap, r.mode, deps.replica) : undefined;
      if (!target) {
        skipped++;
        pending.splice(pending.indexOf(p), 1);
        continue;
      }
      const s = p.stored;
      writes.push({
        p,
        item: {
          Put: {
            TableName: deps.recordsTable,
            Item: toItem(target),
            ...(s
              ? { ConditionExpression: 'inc = :inc AND rev = :rev', ExpressionAttributeValues: { ':inc': { S: s.inc?.S ?? '' }, ':rev': { N: s.rev?.N ?? '0' } } }
              : { ConditionExpression: 'attribute_not_exists(rev)' }),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      });
    }
    const counts = { written: writes.length, skipped };
    const checkpoint = advanceCheckpoint(deps.controlTable, r.id, part, from, to, counts, deps.clock.now().getTime());
    try {
      await deps.client.send(new TransactWriteItemsCommand({ TransactItems: [...writes.map((w) => w.item), checkpoint] }));
      return counts;
    } catch (e) {
      if (errorName(e) !== 'TransactionCanceledException') return guarded(() => Promise.reject(e));
      const reasons = (e as { CancellationReasons?: { Code?: string; Item?: Item }[] }).CancellationReasons ?? [];
      if (reasons[writes.length]?.Code === 'ConditionalCheckFailed') throw new CheckpointMoved(`the checkpoint of part ${part} moved`);
      let changed = false;
      writes.forEach((w, i) => {
        if (reasons[i]?.Code !== 'ConditionalCheckFailed') return;
        // The record changed since it was read: plan it again against what is stored now.
        w.p.stored = reasons[i].Item ?? null;
        w.p.attempts++;
        changed = true;
      });
      if (!changed) {
        // Contention with other writers (TransactionConflict): read everything again, after a pause.
        for (const p of pending) p.stored = undefined;
        await sleep(10 * 2 ** Math.min(attempt, 6) * Math.random());
      }
    }
  }
  throw new UnavailableError(`part ${part} of restore ${r.id}: too many concurrent writes to its keys; the part resumes from its checkpoint`);
}

/**
 * Restores one part from its checkpoint on; returns the part's counts, those of earlier runs
 * included. Throws store errors (a retry resumes from the checkpoint), `ValidationError` for a
 * line that is not a snapshot record.
 */
export async function restorePartLines(deps: SnapshotWorkerDeps, r: RestoreView, part: string, lines: () => AsyncIterable<string>, target: PartTarget): Promise<{ written: number; skipped: number }> {
  for (;;) {
    let cp = await loadCheckpoint(deps.client, deps.controlTable, r.id, part);
    try {
      let index = 0;
      let batch: RecordState[] = [];
      let keys = new Set<string>();
      let bytes = 0;
      const flush = async (to: number) => {
        if (batch.length > 0) {
          const c = await commitBatch(deps, r, part, cp, to, batch);
          cp = { next: to, written: cp.written + c.written, skipped: cp.skipped + c.skipped };
        }
        batch = [];
        keys = new Set();
        bytes = 0;
      };
      for await (const line of lines()) {
        const i = index++;
        if (i < cp.next) continue;
        const snap = fromLine(line, target.into);
        if (target.only !== undefined && snap.namespace !== target.only) continue;
        const id = `${snap.namespace}\u0000${snap.key}`;
        if (batch.length >= RESTORE_BATCH_RECORDS || keys.has(id) || (batch.length > 0 && bytes + line.length > RESTORE_BATCH_BYTES)) await flush(i);
        batch.push(snap);
        keys.add(id);
        bytes += line.length;
      }
      await flush(index);
      return { written: cp.written, skipped: cp.skipped };
    } catch (e) {
      if (!(e instanceof CheckpointMoved)) throw e;
      // Another run of this part got ahead: read its checkpoint and go on after it.
    }
  }
}
