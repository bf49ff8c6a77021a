/**
 * The export Tasks of `statemachines/snapshot.asl.json`.
 *
 * - `exportPlan` reads the snapshot's record and returns its segments: one for a namespace (a
 *   Query of its partition, in key order), the recorded count for the whole store (a parallel Scan).
 * - `exportSegment` streams one segment, page by page, as gzip JSON lines into one part in the
 *   blob store; only live records are written (no tombstones, no records of a lease, expired or
 *   not). Memory holds one page and the compressor's window, whatever the segment's size. A retry
 *   rewrites the whole part under the same name.
 * - `exportFinish` writes the manifest (`vesta-snapshot/1`, per-part items, bytes, sha256) after
 *   every part is complete, then marks the snapshot COMPLETE; `exportFail` marks it FAILED.
 */
import { type AttributeValue, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { Readable, pipeline } from 'node:stream';
import { createGzip } from 'node:zlib';
import { z } from 'zod';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type PartInfo, SNAPSHOT_FORMAT, type SnapshotManifest, exportable, manifestName, partName, partPath, toLine } from '../core/snapshots';
import { type Item, fromItem } from '../adapters/dynamodb/codec';
import { guarded } from '../adapters/dynamodb/errors';
import { describeError } from '../sagas/step-handler';
import type { SnapshotWorkerDeps } from './deps';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

/** Lines gathered before they are handed to the compressor (fewer, larger writes). */
const LINES_PER_CHUNK = 256;

const snapshotRef = z.object({ snapshotId: z.string() }).passthrough();
const segmentRef = snapshotRef.extend({ segment: z.number().int().min(0), total: z.number().int().min(1) });
const partSchema = z.object({ name: z.string(), items: z.number().int().min(0), bytes: z.number().int().min(0), sha256: z.string() });

async function snapshotOf(deps: SnapshotWorkerDeps, input: unknown) {
  const { snapshotId } = snapshotRef.parse(input);
  const s = await deps.store.getSnapshot(snapshotId);
  if (!s) throw named('Vesta.StepFailed', `no snapshot ${snapshotId}`);
  return s;
}

/** Pages of raw items of one segment: a namespace's partition, or one segment of a parallel scan. */
async function* pagesOf(deps: SnapshotWorkerDeps, namespace: string | null, segment: number, total: number): AsyncGenerator<Item[]> {
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await guarded(() =>
      namespace !== null
        ? deps.client.send(
            new QueryCommand({
              TableName: deps.recordsTable,
              KeyConditionExpression: 'ns = :ns',
              ExpressionAttributeValues: { ':ns': { S: namespace } },
              ConsistentRead: true,
              ExclusiveStartKey: start,
            }),
          )
        : deps.client.send(
            new ScanCommand({ TableName: deps.recordsTable, Segment: segment, TotalSegments: total, ConsistentRead: true, ExclusiveStartKey: start }),
          ),
    );
    yield (out.Items ?? []) as Item[];
    start = out.LastEvaluatedKey;
  } while (start);
}

/** The part's lines (uncompressed), in chunks; counts the records it writes. */
async function* linesOf(pages: AsyncIterable<Item[]>, counter: { items: number }): AsyncGenerator<Buffer> {
  let batch: string[] = [];
  for await (const page of pages) {
    for (const item of page) {
      const state = fromItem(item);
      if (!exportable(state)) continue;
      batch.push(`${toLine(state)}\n`);
      counter.items++;
      if (batch.length >= LINES_PER_CHUNK) {
        yield Buffer.from(batch.join(''), 'utf8');
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield Buffer.from(batch.join(''), 'utf8');
}

/** Streams one segment into its part; returns the part's name, items, bytes and sha256. */
export async function exportSegment(deps: SnapshotWorkerDeps, snapshotId: string, namespace: string | null, segment: number, total: number): Promise<PartInfo> {
  const counter = { items: 0 };
  const gzip = createGzip({ level: 6 });
  // pipeline, not pipe: a failed read of the table destroys the gzip stream with its error, so the
  // blob store's write fails (and removes its temporary object) instead of waiting for an end that
  // never comes, and the error is not left unhandled on the source stream.
  pipeline(Readable.from(linesOf(pagesOf(deps, namespace, segment, total), counter)), gzip, () => undefined);
  const name = partName(segment);
  const written = await deps.blobs.write(partPath(snapshotId, name), gzip);
  return { name, items: counter.items, bytes: written.bytes, sha256: written.sha256 };
}

export function exportActions(
  deps: SnapshotWorkerDeps,
): Record<'exportPlan' | 'exportSegment' | 'exportFinish' | 'exportFail', (input: Record<string, unknown>) => Promise<unknown>> {
  return {
    async exportPlan(input) {
      const s = await snapshotOf(deps, input);
      if (s.status !== 'RUNNING') throw named('Vesta.StepFailed', `snapshot ${s.id} is ${s.status}`);
      const total = s.namespace !== null ? 1 : s.segments;
      return { segments: Array.from({ length: total }, (_, segment) => ({ segment, total })) };
    },

    async exportSegment(input) {
      const { segment, total } = segmentRef.parse(input);
      const s = await snapshotOf(deps, input);
      if (segment >= total) throw named('Vesta.StepFailed', `segment ${segment} of ${total}`);
      const started = Date.now();
      const part = await exportSegment(deps, s.id, s.namespace, segment, total);
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
      const manifest: SnapshotManifest = {
        id: s.id,
        namespace: s.namespace,
        status: 'COMPLETE',
        items,
        bytes,
        parts,
        startedAt: s.startedAt,
        finishedAt: deps.clock.now().toISOString(),
        format: SNAPSHOT_FORMAT,
      };
      // The manifest is written last: once it exists, every part it names is complete.
      await deps.blobs.write(manifestName(s.id), Readable.from([Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8')]));
      const done = await deps.store.completeSnapshot(s.id, parts);
      deps.metrics?.addMetric('SnapshotCompleted', MetricUnit.Count, 1);
      deps.metrics?.addMetric('SnapshotItems', MetricUnit.Count, items);
      deps.logger?.info('snapshot complete', { snapshotId: s.id, namespace: s.namespace, items, bytes, parts: parts.length });
      return { items: done.items, bytes: done.bytes };
    },

    async exportFail(input) {
      const s = await snapshotOf(deps, input);
      const e = describeError(input.error as { Error?: string; Cause?: string } | undefined);
      await deps.store.failSnapshot(s.id, `${e.error}: ${e.cause}`);
      deps.metrics?.addMetric('SnapshotFailed', MetricUnit.Count, 1);
      deps.logger?.error('snapshot failed', { snapshotId: s.id, ...e });
      return { status: 'FAILED' };
    },
  };
}
