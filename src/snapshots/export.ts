/**
 * The export Tasks of `statemachines/snapshot.asl.json`.
 *
 * - `exportPlan` reads the snapshot's record and returns its segments: one for a namespace (a
 *   Query of its partition, in key order), the recorded count for the whole store (a parallel Scan).
 * - `exportSegment` streams one segment, page by page, as gzip JSON lines into one part in the
 *   blob store; only live records are written (no tombstones, no records of a lease, expired or
 *   not), each as it stood at the cut: without its fields due by then, and not at all when none
 *   is left (`keptAt`); the fields left keep their expiries in the line. Memory holds one page and the compressor's window, whatever the segment's size. A retry
 *   rewrites the whole part under the same name.
 *   In a deployment of several Regions each record is written once, as a read returns it at the
 *   cut: its Region items rolled back to the cut each, then joined (`at-cut.ts`, `regional-scan.ts`).
 * - `exportFinish` writes the manifest (`vesta-snapshot/1`, per-part items, bytes, sha256) after
 *   every part is complete, then marks the snapshot COMPLETE; `exportFail` marks it FAILED.
 *
 * One record never fails a snapshot: a stored item that cannot be decoded or written as a line is
 * set aside as a dead letter (source `snapshot`, with the item as read, which a replay needs) and
 * the export goes on. The snapshot is still COMPLETE, and says how many records it set aside
 * (`setAside`, per part and in all): a whole-store backup missing one damaged record is worth more
 * than none, and the `DeadLetters` alarm and the entries say which record is missing. A replay
 * adds the record to the snapshot as a part of its own (`replay.ts`).
 */
import { performance } from 'node:perf_hooks';
import { Readable, pipeline } from 'node:stream';
import { createGzip } from 'node:zlib';
import { z } from 'zod';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMES } from '../core/metric-names';
import {
  type PartInfo,
  SNAPSHOT_FORMAT,
  type SnapshotManifest,
  keptAt,
  manifestName,
  partName,
  partPath,
  toLine,
} from '../core/snapshots';
import { type StoredItem, isGrouped } from '../core/snapshot-ports';
import { CUTS_CACHE_MS, CUT_LEAD_MS } from '../core/snapshot-cut';
import { type LineSource, atCutPages, groupsAtCut } from './at-cut';
import { sleep } from '../core/backoff';
import { describeError } from '../sagas/step-errors';
import { errorOf } from '../core/dead-letters';
import type { SnapshotWorkerDeps } from './deps';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

/** Lines gathered before they are handed to the compressor (fewer, larger writes). */
const LINES_PER_CHUNK = 256;

const snapshotRef = z.object({ snapshotId: z.string() }).passthrough();
const segmentRef = snapshotRef.extend({ segment: z.number().int().min(0), total: z.number().int().min(1) });
const partSchema = z.object({
  name: z.string(),
  items: z.number().int().min(0),
  bytes: z.number().int().min(0),
  sha256: z.string(),
  setAside: z.number().int().min(0).optional(),
});

async function snapshotOf(deps: SnapshotWorkerDeps, input: unknown) {
  const { snapshotId } = snapshotRef.parse(input);
  const s = await deps.store.getSnapshot(snapshotId);
  if (!s) throw named('Vesta.StepFailed', `no snapshot ${snapshotId}`);
  return s;
}

/** What a snapshot export dead letter keeps: the record item as the scan read it. */
export interface SnapshotPayload {
  readonly item: StoredItem;
}

/**
 * The part's lines (uncompressed), in chunks, from pages of records as they stood at the cut; counts the
 * records it writes and those it sets aside: an item that cannot be decoded or written as a line
 * becomes a dead letter (source `snapshot`) and the part goes on. Throws when an item cannot even
 * be set aside, or when the publisher has not kept a pre-image in time.
 */
async function* linesOf(
  src: LineSource,
  pages: AsyncIterable<readonly StoredItem[]>,
  counter: { items: number; setAside: number },
  setAside: (item: StoredItem, e: unknown) => Promise<void>,
): AsyncGenerator<Buffer> {
  let batch: string[] = [];
  for await (const page of pages) {
    for (const item of page) {
      let line: string | undefined;
      try {
        const state = keptAt(src.scan.decode(item), src.atMs);
        if (!state) continue;
        line = `${toLine(state)}\n`;
      } catch (e) {
        await setAside(item, e);
        counter.setAside++;
        continue;
      }
      batch.push(line);
      counter.items++;
      if (batch.length >= LINES_PER_CHUNK) {
        yield Buffer.from(batch.join(''), 'utf8');
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield Buffer.from(batch.join(''), 'utf8');
}

/**
 * Streams one segment into its part; returns the part's name, items, bytes, sha256 and how many
 * records were set aside. Any failure (a page that cannot be read, an item that cannot be set
 * aside) rejects the returned promise; none escapes as a stream error.
 */
export async function exportSegment(
  deps: SnapshotWorkerDeps,
  snapshotId: string,
  namespace: string | null,
  segment: number,
  total: number,
  cut?: string,
): Promise<PartInfo> {
  const counter = { items: 0, setAside: 0 };
  const name = partName(segment);
  const setAside = async (item: StoredItem, e: unknown) => {
    // Decoding is deterministic: trying again gives the same error, so it is tried once.
    const ref = { snapshotId, part: name, ...deps.scan.locate(item) };
    const payload: SnapshotPayload = { item };
    await deps.setAside({ source: 'snapshot', item: ref, error: errorOf(e), attempts: 1, payload });
  };
  const src: LineSource = {
    scan: deps.scan,
    snapshotId,
    cut,
    atMs: cut !== undefined ? Date.parse(cut) : deps.clock.now().getTime(),
    cuts: deps.cuts,
    preImageWaitMs: deps.preImageWaitMs,
  };
  const scan = deps.scan;
  // Several Regions: each record's Region items, rolled back to the cut each, then joined.
  const atCutRecords = isGrouped(scan)
    ? groupsAtCut({ ...src, scan }, scan.groups(namespace, segment, total))
    : atCutPages(src, scan.pages(namespace, segment, total));
  // pipeline, not pipe: an error of the source reaches the compressor, and so the blob write.
  const gzip = pipeline(
    Readable.from(linesOf(src, atCutRecords, counter, setAside)),
    createGzip({ level: 6 }),
    () => undefined,
  );
  const written = await deps.blobs.write(partPath(snapshotId, name), gzip);
  return {
    name,
    items: counter.items,
    bytes: written.bytes,
    sha256: written.sha256,
    ...(counter.setAside > 0 ? { setAside: counter.setAside } : {}),
  };
}

/** Cuts an export tries before it gives up (each opened too late is replaced by a later one). */
const CUT_ATTEMPTS = 5;

/**
 * The snapshot's cut: `CUT_LEAD_MS` ahead, recorded on the snapshot and opened for the publisher.
 * A cut that was not open `CUTS_CACHE_MS` before it came (opening took too long, or a retried
 * plan finds its recorded cut already past) might have been missed by a publisher: a later cut
 * replaces it, twice as far ahead, whose pre-images are kept apart. Throws `Vesta.CutMissed`
 * after `CUT_ATTEMPTS`.
 */
async function openCut(deps: SnapshotWorkerDeps, snapshotId: string, recorded: string | undefined): Promise<string> {
  let previous = recorded;
  for (let attempt = 0; attempt < CUT_ATTEMPTS; attempt++) {
    const started = performance.now();
    const ahead = (cut: string) => Date.parse(cut) - deps.clock.now().getTime();
    // A recorded cut still far enough ahead is opened again (a retried plan); else a new one.
    // Each later try sets its cut twice as far ahead (a loaded control table answers slowly).
    const lead = CUT_LEAD_MS * 2 ** attempt;
    const wanted =
      previous !== undefined && attempt === 0 && ahead(previous) >= CUTS_CACHE_MS
        ? previous
        : new Date(deps.clock.now().getTime() + lead).toISOString();
    const cut = wanted === previous ? previous : await deps.store.setCut(snapshotId, wanted, previous);
    if (cut === undefined) throw named('Vesta.StepFailed', `snapshot ${snapshotId} is no longer running`);
    await deps.cuts.open(snapshotId, cut);
    // Stamps come from the clock; how long opening took, from the process's own timer.
    const left = Math.min(ahead(cut), Date.parse(cut) - Date.parse(wanted) + lead - (performance.now() - started));
    if (left >= CUTS_CACHE_MS) return cut;
    deps.logger?.warn('snapshot cut opened too late; taking a later one', { snapshotId, cut, leftMs: left });
    previous = cut;
  }
  throw named(
    'Vesta.CutMissed',
    `no cut could be opened ${CUTS_CACHE_MS} ms before it came in ${CUT_ATTEMPTS} tries (the control table answers slowly); take the snapshot again`,
  );
}

/**
 * Returns once every write stamped at or before the cut has ended: the workflow waited whole
 * seconds; the rest of the settle time is waited here, and where the writers run in this
 * process, until the last of them stamped before the cut ends.
 */
async function settled(deps: SnapshotWorkerDeps, cut: string): Promise<void> {
  const rest = Date.parse(cut) + deps.settleMs - deps.clock.now().getTime();
  if (rest > 0) await sleep(Math.min(rest, CUT_LEAD_MS * 2 ** (CUT_ATTEMPTS - 1) + deps.settleMs));
  await deps.inFlight?.quiet(cut);
}

/**
 * Closes the snapshot's cut once it ended. Not closing it only costs pre-images nobody reads
 * until the open cut expires (`CUT_KEEP_SECONDS`), so a failure is logged, not thrown: the
 * snapshot's outcome stands.
 */
async function closeCut(deps: SnapshotWorkerDeps, snapshotId: string): Promise<void> {
  try {
    await deps.cuts.close(snapshotId);
  } catch (e) {
    deps.logger?.warn('snapshot cut not closed; it expires by itself', { snapshotId, error: String(e) });
  }
}

export function exportActions(
  deps: SnapshotWorkerDeps,
): Record<
  'exportPlan' | 'exportSegment' | 'exportFinish' | 'exportFail',
  (input: Record<string, unknown>) => Promise<unknown>
> {
  return {
    async exportPlan(input) {
      const s = await snapshotOf(deps, input);
      if (s.status !== 'RUNNING') throw named('Vesta.StepFailed', `snapshot ${s.id} is ${s.status}`);
      const total = s.namespace !== null ? 1 : s.segments;
      const cut = await openCut(deps, s.id, s.cut);
      // Reading starts once every write stamped at or before the cut has committed.
      const untilRead = Math.max(0, Date.parse(cut) - deps.clock.now().getTime()) + deps.settleMs;
      // Whole seconds in the workflow (readable in the console); each segment waits the rest.
      const waitSeconds = Math.floor(untilRead / 1000);
      deps.logger?.info('snapshot cut', { snapshotId: s.id, cut, waitSeconds });
      return { segments: Array.from({ length: total }, (_, segment) => ({ segment, total })), cut, waitSeconds };
    },

    async exportSegment(input) {
      const { segment, total } = segmentRef.parse(input);
      const s = await snapshotOf(deps, input);
      if (segment >= total) throw named('Vesta.StepFailed', `segment ${segment} of ${total}`);
      const started = Date.now();
      if (s.cut) await settled(deps, s.cut);
      const part = await exportSegment(deps, s.id, s.namespace, segment, total, s.cut);
      await deps.store.partDone(s.id, part);
      deps.logger?.info('snapshot part written', { snapshotId: s.id, ...part, ms: Date.now() - started });
      return part;
    },

    async exportFinish(input) {
      const s = await snapshotOf(deps, input);
      const parts = z.array(partSchema).parse(input.parts);
      if (s.status === 'COMPLETE') return { items: s.items, bytes: s.bytes };
      const items = parts.reduce((n, p) => n + p.items, 0);
      const bytes = parts.reduce((n, p) => n + p.bytes, 0);
      const setAside = parts.reduce((n, p) => n + (p.setAside ?? 0), 0);
      const manifest: SnapshotManifest = {
        id: s.id,
        namespace: s.namespace,
        status: 'COMPLETE',
        items,
        bytes,
        setAside,
        parts,
        startedAt: s.startedAt,
        finishedAt: deps.clock.now().toISOString(),
        format: SNAPSHOT_FORMAT,
        ...(s.cut ? { cut: s.cut } : {}),
      };
      // The manifest is written last: once it exists, every part it names is complete.
      await deps.blobs.write(
        manifestName(s.id),
        Readable.from([Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8')]),
      );
      const done = await deps.store.completeSnapshot(s.id, parts);
      await closeCut(deps, s.id);
      deps.metrics?.addMetric(METRIC_NAMES.snapshotCompleted, MetricUnit.Count, 1);
      deps.metrics?.addMetric(METRIC_NAMES.snapshotItems, MetricUnit.Count, items);
      deps.logger?.info('snapshot complete', {
        snapshotId: s.id,
        namespace: s.namespace,
        items,
        bytes,
        setAside,
        parts: parts.length,
      });
      return { items: done.items, bytes: done.bytes };
    },

    async exportFail(input) {
      const s = await snapshotOf(deps, input);
      const e = describeError(input.error as { Error?: string; Cause?: string } | undefined);
      await deps.store.failSnapshot(s.id, `${e.error}: ${e.cause}`);
      await closeCut(deps, s.id);
      deps.metrics?.addMetric(METRIC_NAMES.snapshotFailed, MetricUnit.Count, 1);
      deps.logger?.error('snapshot failed', { snapshotId: s.id, ...e });
      return { status: 'FAILED' };
    },
  };
}
