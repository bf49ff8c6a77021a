/**
 * The restore Tasks of `statemachines/restore.asl.json`.
 *
 * - `restoreVerify` reads the manifest and checks every part's size and sha256 against it (and
 *   against the snapshot as recorded when it completed) before anything is written; a mismatch
 *   or a missing part raises `Vesta.ChecksumMismatch`, which is not retried.
 * - `restorePart` streams one part (gunzip, one record a line) and writes each record with a
 *   condition: first `attribute_not_exists` (a key never written: one request), otherwise the
 *   stored state as read, after `restorePlan` decided (never overwriting a newer record).
 * - `restoreFinish` adds up the parts' counts; `restoreFail` records the error.
 *
 * Counts: a part retried after a partial write counts the records its first attempt wrote as
 * skipped (they are then at the snapshot's revision); the records themselves are right.
 *
 * One line never fails a restore: a line that cannot be parsed, or a record that cannot be
 * written after `ITEM_ATTEMPTS` tries for another reason than a dependency failure, is set aside
 * as a dead letter (source `restore`, with the line's exact text, which a replay needs) and
 * counted in the restore's `setAside`; the rest is restored and the restore is COMPLETE.
 */
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ConditionalCheckFailedException, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { NotFoundError } from '../core/errors';
import type { RecordState } from '../core/record-view';
import {
  type PartInfo,
  type RestoreView,
  SNAPSHOT_FORMAT,
  type SnapshotManifest,
  fromLine,
  manifestName,
  partPath,
  restorePlan,
} from '../core/snapshots';
import { type Item, fromItem, toItem } from '../adapters/dynamodb/codec';
import { describeError } from '../sagas/step-handler';
import { type DeadLetter, type DeadLetterItem, errorOf, tryItem } from '../core/dead-letters';
import { guarded, translate } from '../adapters/dynamodb/errors';
import type { SnapshotWorkerDeps } from './deps';

/** Records written at once by one part. */
export const RESTORE_CONCURRENCY = 16;
/** Conditional writes of one record before it is counted skipped (a key written concurrently). */
const MAX_RECORD_ATTEMPTS = 5;

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

const restoreRef = z.object({ restoreId: z.string() }).passthrough();

async function restoreOf(deps: SnapshotWorkerDeps, input: unknown): Promise<RestoreView> {
  const { restoreId } = restoreRef.parse(input);
  const r = await deps.store.getRestore(restoreId);
  if (!r) throw named('Vesta.StepFailed', `no restore ${restoreId}`);
  return r;
}

async function readAll(deps: SnapshotWorkerDeps, name: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of await deps.blobs.read(name)) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Size and sha256 of a stored object, streamed. */
async function digest(deps: SnapshotWorkerDeps, name: string): Promise<{ bytes: number; sha256: string }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const c of await deps.blobs.read(name)) {
    h.update(c);
    bytes += c.length;
  }
  return { bytes, sha256: h.digest('hex') };
}

/** The manifest as written in the blob store, checked against the snapshot's record. */
async function manifestOf(deps: SnapshotWorkerDeps, snapshotId: string): Promise<SnapshotManifest> {
  const recorded = await deps.store.getSnapshot(snapshotId);
  if (!recorded || recorded.status !== 'COMPLETE') throw named('Vesta.StepFailed', `snapshot ${snapshotId} is not COMPLETE`);
  let manifest: SnapshotManifest;
  try {
    manifest = JSON.parse((await readAll(deps, manifestName(snapshotId))).toString('utf8')) as SnapshotManifest;
  } catch (e) {
    if (e instanceof NotFoundError) throw named('Vesta.ChecksumMismatch', `snapshot ${snapshotId} has no manifest`);
    if (e instanceof SyntaxError) throw named('Vesta.ChecksumMismatch', `the manifest of snapshot ${snapshotId} is not JSON`);
    throw e;
  }
  if (manifest.format !== SNAPSHOT_FORMAT) throw named('Vesta.ChecksumMismatch', `unknown snapshot format ${JSON.stringify(manifest.format)}`);
  const key = (p: PartInfo) => `${p.name}:${p.bytes}:${p.sha256}`;
  if (JSON.stringify(manifest.parts.map(key)) !== JSON.stringify(recorded.parts.map(key))) {
    throw named('Vesta.ChecksumMismatch', `the manifest of snapshot ${snapshotId} does not match the parts recorded when it completed`);
  }
  return manifest;
}

/** Lines of a part, decompressed, streamed. */
async function* linesOf(deps: SnapshotWorkerDeps, name: string): AsyncGenerator<string> {
  const gunzip = Readable.from(await deps.blobs.read(name)).pipe(createGunzip());
  for await (const line of createInterface({ input: gunzip, crlfDelay: Infinity })) if (line.length > 0) yield line;
}

/** Writes one snapshot record if the plan says so; true when written. */
async function restoreRecord(deps: SnapshotWorkerDeps, snap: RecordState, mode: RestoreView['mode']): Promise<boolean> {
  const put = (state: RecordState, condition: string, values?: Item) =>
    guarded(() =>
      deps.client.send(
        new PutItemCommand({
          TableName: deps.recordsTable,
          Item: toItem(state),
          ConditionExpression: condition,
          ...(values ? { ExpressionAttributeValues: values } : {}),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );
  let target: RecordState | undefined = snap;
  let condition = 'attribute_not_exists(rev)';
  let values: Item | undefined;
  for (let attempt = 0; attempt < MAX_RECORD_ATTEMPTS; attempt++) {
    try {
      await put(target, condition, values);
      return true;
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      const existing = await deps.resolve(e.Item ? fromItem(e.Item as Item) : undefined);
      target = restorePlan(existing, snap, mode, deps.replica);
      if (!target) return false;
      if (existing) {
        condition = 'inc = :inc AND rev = :rev';
        values = { ':inc': { S: e.Item!.inc?.S ?? '' }, ':rev': { N: e.Item!.rev?.N ?? '0' } };
      } else {
        condition = 'attribute_not_exists(rev)';
        values = undefined;
      }
    }
  }
  return false;
}

/** What a restore dead letter keeps: the snapshot line as read (exact text) and how to write it. */
export interface RestorePayload {
  readonly line: string;
  /** Target namespace of the restore, `null`: each record's own. */
  readonly target: string | null;
  readonly mode: RestoreView['mode'];
}

async function setAsideLine(deps: SnapshotWorkerDeps, item: DeadLetterItem, payload: RestorePayload, e: unknown, attempts: number): Promise<void> {
  await deps.setAside({ source: 'restore', item, error: errorOf(e), attempts, payload });
}

/**
 * Replays a restore dead letter: parses the kept line and writes it as the restore would have
 * (same target and mode, never over a newer record), then moves it from the restore's `setAside`
 * to `written` or `skipped`. Throws what parsing or writing throws (the entry is then kept).
 */
export async function replayRestoreEntry(entry: DeadLetter, deps: SnapshotWorkerDeps): Promise<void> {
  const p = entry.payload as RestorePayload;
  const snap = fromLine(p.line, p.target ?? undefined);
  const written = await restoreRecord(deps, snap, p.mode);
  await deps.store.settleSetAside(String(entry.item.restoreId), written);
}

export function restoreActions(
  deps: SnapshotWorkerDeps,
): Record<'restoreVerify' | 'restorePart' | 'restoreFinish' | 'restoreFail', (input: Record<string, unknown>) => Promise<unknown>> {
  return {
    async restoreVerify(input) {
      const r = await restoreOf(deps, input);
      const manifest = await manifestOf(deps, r.snapshotId);
      for (const p of manifest.parts) {
        let got: { bytes: number; sha256: string };
        try {
          got = await digest(deps, partPath(r.snapshotId, p.name));
        } catch (e) {
          if (e instanceof NotFoundError) throw named('Vesta.ChecksumMismatch', `part ${p.name} of snapshot ${r.snapshotId} is missing`);
          throw e;
        }
        if (got.bytes !== p.bytes || got.sha256 !== p.sha256) {
          throw named(
            'Vesta.ChecksumMismatch',
            `part ${p.name} of snapshot ${r.snapshotId} is corrupt: ${got.bytes} bytes with sha256 ${got.sha256}, the manifest says ${p.bytes} bytes with sha256 ${p.sha256}; nothing was written`,
          );
        }
      }
      return { parts: manifest.parts.map((p) => ({ part: p.name })) };
    },

    async restorePart(input) {
      const r = await restoreOf(deps, input);
      const { part } = z.object({ part: z.string() }).passthrough().parse(input);
      const snapshot = await deps.store.getSnapshot(r.snapshotId);
      // A whole-store snapshot restored into one namespace takes only that namespace's records.
      const only = snapshot?.namespace === null && r.namespace !== null ? r.namespace : undefined;
      const target = snapshot?.namespace !== null && r.namespace !== null ? r.namespace : undefined;
      let written = 0;
      let skipped = 0;
      let setAside = 0;
      const inFlight = new Set<Promise<void>>();
      let lineNo = 0;
      for await (const line of linesOf(deps, partPath(r.snapshotId, part))) {
        const at = { restoreId: r.id, snapshotId: r.snapshotId, part, line: ++lineNo };
        let snap: RecordState;
        try {
          snap = fromLine(line, target);
        } catch (e) {
          // Parsing is deterministic: trying again gives the same error, so it is tried once.
          await setAsideLine(deps, at, { line, target: target ?? null, mode: r.mode }, e, 1);
          setAside++;
          continue;
        }
        if (only !== undefined && snap.namespace !== only) continue;
        const p: Promise<void> = tryItem(() => restoreRecord(deps, snap, r.mode), { translate }).then(async (out) => {
          if (out.ok) {
            if (out.value) written++;
            else skipped++;
            return;
          }
          await setAsideLine(deps, { ...at, namespace: snap.namespace, key: snap.key }, { line, target: target ?? null, mode: r.mode }, out.error, out.attempts);
          setAside++;
        });
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p)).catch(() => undefined);
        if (inFlight.size >= RESTORE_CONCURRENCY) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      await deps.store.restoreProgress(r.id, written, skipped, setAside);
      return { written, skipped, setAside };
    },

    async restoreFinish(input) {
      const r = await restoreOf(deps, input);
      const results = z.array(z.object({ written: z.number(), skipped: z.number(), setAside: z.number().optional() })).parse(input.results);
      const written = results.reduce((n, x) => n + x.written, 0);
      const skipped = results.reduce((n, x) => n + x.skipped, 0);
      const setAside = results.reduce((n, x) => n + (x.setAside ?? 0), 0);
      const done = await deps.store.finishRestore(r.id, written, skipped, setAside);
      deps.metrics?.addMetric('RestoreCompleted', MetricUnit.Count, 1);
      deps.logger?.info('restore complete', { restoreId: r.id, snapshotId: r.snapshotId, written, skipped, setAside });
      return { written: done.written, skipped: done.skipped, setAside };
    },

    async restoreFail(input) {
      const r = await restoreOf(deps, input);
      const e = describeError(input.error as { Error?: string; Cause?: string } | undefined);
      await deps.store.failRestore(r.id, `${e.error}: ${e.cause}`);
      deps.logger?.error('restore failed', { restoreId: r.id, error: e });
      return {};
    },
  };
}
