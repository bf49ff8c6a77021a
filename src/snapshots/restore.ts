/**
 * The restore Tasks of `statemachines/restore.asl.json`.
 *
 * - `restoreVerify` reads the manifest and checks every part's size and sha256 against it (and
 *   against the snapshot as recorded when it completed) before anything is written; a mismatch
 *   or a missing part raises `Vesta.ChecksumMismatch`, which is not retried.
 * - `restorePart` streams one part (gunzip, one record a line) and writes its records in
 *   batches, each one transaction with the part's checkpoint (the `RestoreWriter`), never
 *   overwriting a newer record (`restorePlan`). A retried or resumed part goes on after its
 *   checkpoint, so its counts stay exact. It returns the part's counts.
 * - `restoreFinish` adds up the parts' counts; `restoreFail` records the error.
 *
 * One line never fails a restore: a line that cannot be parsed, or a record that cannot be
 * written after `ITEM_ATTEMPTS` tries for another reason than a dependency failure, is set aside
 * as a dead letter (source `restore`, with the line's exact text, which a replay needs) and
 * counted in the restore's `setAside`; the rest is restored and the restore is COMPLETE.
 */
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMES } from '../core/metric-names';
import { NotFoundError } from '../core/errors';
import {
  type PartInfo,
  type RestoreView,
  SNAPSHOT_FORMAT,
  type SnapshotManifest,
  fromLine,
  manifestName,
  partPath,
} from '../core/snapshots';
import { describeError } from '../sagas/step-errors';
import type { DeadLetter } from '../core/dead-letters';
import type { SnapshotWorkerDeps } from './deps';
import type { RestorePayload } from '../core/snapshot-ports';

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
  if (recorded?.status !== 'COMPLETE') throw named('Vesta.StepFailed', `snapshot ${snapshotId} is not COMPLETE`);
  let manifest: SnapshotManifest;
  try {
    manifest = JSON.parse((await readAll(deps, manifestName(snapshotId))).toString('utf8')) as SnapshotManifest;
  } catch (e) {
    if (e instanceof NotFoundError) throw named('Vesta.ChecksumMismatch', `snapshot ${snapshotId} has no manifest`);
    if (e instanceof SyntaxError)
      throw named('Vesta.ChecksumMismatch', `the manifest of snapshot ${snapshotId} is not JSON`);
    throw e;
  }
  if (manifest.format !== SNAPSHOT_FORMAT)
    throw named('Vesta.ChecksumMismatch', `unknown snapshot format ${JSON.stringify(manifest.format)}`);
  const key = (p: PartInfo) => `${p.name}:${p.bytes}:${p.sha256}`;
  if (JSON.stringify(manifest.parts.map(key)) !== JSON.stringify(recorded.parts.map(key))) {
    throw named(
      'Vesta.ChecksumMismatch',
      `the manifest of snapshot ${snapshotId} does not match the parts recorded when it completed`,
    );
  }
  return manifest;
}

/** Lines of a part, decompressed, streamed; a failure to read or decompress ends them with that error. */
async function* linesOf(deps: SnapshotWorkerDeps, name: string): AsyncGenerator<string> {
  const gunzip = createGunzip();
  // pipeline, not pipe: an error of the source (a dropped connection) destroys the gunzip stream
  // too, so the reader below fails instead of waiting for an end that never comes.
  const source = Readable.from(await deps.blobs.read(name));
  pipeline(source, gunzip, () => undefined);
  for await (const line of createInterface({ input: gunzip, crlfDelay: Infinity })) if (line.length > 0) yield line;
}

/**
 * Replays a restore dead letter: parses the kept line and writes it as the restore would have
 * (same target and mode, never over a newer record), then moves it from the restore's `setAside`
 * to `written` or `skipped`. Throws what parsing or writing throws (the entry is then kept).
 */
export async function replayRestoreEntry(entry: DeadLetter, deps: SnapshotWorkerDeps): Promise<void> {
  const p = entry.payload as RestorePayload;
  const snap = fromLine(p.line, p.target ?? undefined);
  const written = await deps.restoreWriter.restoreOne(snap, p.mode);
  await deps.store.settleSetAside(String(entry.item.restoreId), String(entry.item.part), written);
}

export function restoreActions(
  deps: SnapshotWorkerDeps,
): Record<
  'restoreVerify' | 'restorePart' | 'restoreFinish' | 'restoreFail',
  (input: Record<string, unknown>) => Promise<unknown>
> {
  return {
    async restoreVerify(input) {
      const r = await restoreOf(deps, input);
      const manifest = await manifestOf(deps, r.snapshotId);
      for (const p of manifest.parts) {
        let got: { bytes: number; sha256: string };
        try {
          got = await digest(deps, partPath(r.snapshotId, p.name));
        } catch (e) {
          if (e instanceof NotFoundError)
            throw named('Vesta.ChecksumMismatch', `part ${p.name} of snapshot ${r.snapshotId} is missing`);
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
      const into = snapshot?.namespace !== null && r.namespace !== null ? r.namespace : undefined;
      return deps.restoreWriter.restorePart(r, part, () => linesOf(deps, partPath(r.snapshotId, part)), { only, into });
    },

    async restoreFinish(input) {
      const r = await restoreOf(deps, input);
      const results = z
        .array(z.object({ written: z.number(), skipped: z.number(), setAside: z.number().optional() }))
        .parse(input.results);
      const written = results.reduce((n, x) => n + x.written, 0);
      const skipped = results.reduce((n, x) => n + x.skipped, 0);
      const setAside = results.reduce((n, x) => n + (x.setAside ?? 0), 0);
      const done = await deps.store.finishRestore(r.id, written, skipped, setAside);
      deps.metrics?.addMetric(METRIC_NAMES.restoreCompleted, MetricUnit.Count, 1);
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
