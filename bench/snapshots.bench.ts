/**
 * Snapshot export, run by `npm run bench` (records.bench.ts) on the same DynamoDB Local.
 *
 * A records table of its own is filled with BENCH_SNAPSHOT_RECORDS records (default 100,000) in
 * 20 namespaces, then two contenders read the whole table, alternately, BENCH_SNAPSHOT_ROUNDS
 * times each (default 2):
 *
 * - raw: a parallel Scan of the same segments with the bare SDK, each item decoded, nothing written
 *   (the least any export must do);
 * - vesta: the snapshot workflow as `POST /v1/snapshots` runs it (the ASL through the local runner,
 *   the export handler streaming every segment as gzip JSON lines to a file-system blob store,
 *   sha256 on the way, then the manifest).
 *
 * Reported per contender: items/s (best round), and peak memory while it ran, as the growth of
 * the process's RSS and of its live V8 heap (measured after a full GC) over what they were just
 * before.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  ScanCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { wireSnapshotWorker } from '../src/api/wiring';
import { FsBlobStore } from '../src/adapters/blob/fs-blob-store';
import type { Item } from '../src/adapters/dynamodb/codec';
import { RECORDS_TABLE } from '../src/adapters/dynamodb/table-defs';
import { ensureTables } from '../src/local/bootstrap-tables';
import { LocalExecutions } from '../src/local/executions';
import { LocalWorkflows } from '../src/local/workflows';
import { newId } from '../src/core/snapshots';
import { createExportHandler } from '../src/snapshots/worker';
import { seededRecordItem } from './lib';

const RECORDS = Number(process.env.BENCH_SNAPSHOT_RECORDS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_SNAPSHOT_ROUNDS ?? 2);
const SEGMENTS = Number(process.env.BENCH_SNAPSHOT_SEGMENTS ?? 4);
const NAMESPACES = 20;

export interface ExportSide {
  readonly seconds: number;
  readonly itemsPerSecond: number;
  readonly items: number;
  /** Peak growth over the start of the round, MiB. */
  readonly peakRssMiB: number;
  readonly peakHeapMiB: number;
}

export interface SnapshotBenchResult {
  readonly records: number;
  readonly segments: number;
  readonly rounds: number;
  readonly seedSeconds: number;
  readonly raw: ExportSide;
  readonly vesta: ExportSide & { readonly partBytes: number; readonly jsonBytesPerItem: number };
  readonly ratio: { readonly itemsPerSecond: number };
  readonly text: string;
}

async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** Records of a realistic size (about 300 bytes of fields), 25 to a BatchWriteItem. */
async function seed(client: DynamoDBClient, table: string): Promise<void> {
  const at = new Date().toISOString();
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < RECORDS; i += 25) {
    const batch: WriteRequest[] = [];
    for (let j = i; j < Math.min(RECORDS, i + 25); j++) {
      const fields = {
        sku: `sku-${j}`,
        name: `Product number ${j}`,
        price: (j % 997) + 0.99,
        stock: j % 50,
        tags: ['bench', `t${j % 7}`],
        attrs: { color: 'blue', size: j % 5, note: randomBytes(60).toString('base64') },
      };
      batch.push({ PutRequest: { Item: seededRecordItem(`ns${j % NAMESPACES}`, `item/${j}`, fields, at) } });
    }
    batches.push(batch);
  }
  await pool(batches, 8, async (batch) => {
    let left: WriteRequest[] | undefined = batch;
    while (left && left.length > 0) {
      const out: { UnprocessedItems?: Record<string, WriteRequest[]> } = await client.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: left } }),
      );
      left = out.UnprocessedItems?.[table];
    }
  });
}

/**
 * Runs `fn`, sampling memory: RSS every 20 ms, and the live V8 heap (right after a full GC) every
 * 250 ms when the process runs with `--expose-gc` (`npm run bench` does); returns its result,
 * seconds and peak growth over the start.
 */
async function measured<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; seconds: number; peakRssMiB: number; peakHeapMiB: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await sleep(200);
  gc?.();
  const base = process.memoryUsage();
  let rss = base.rss;
  let heap = base.heapUsed;
  const sampleRss = setInterval(() => {
    rss = Math.max(rss, process.memoryUsage().rss);
  }, 20);
  const sampleHeap = setInterval(() => {
    gc?.();
    heap = Math.max(heap, process.memoryUsage().heapUsed);
  }, 250);
  const t0 = performance.now();
  try {
    const value = await fn();
    const seconds = (performance.now() - t0) / 1000;
    const mib = (b: number) => Number((b / 1024 / 1024).toFixed(1));
    return {
      value,
      seconds,
      peakRssMiB: mib(rss - base.rss),
      peakHeapMiB: gc ? mib(heap - base.heapUsed) : Number.NaN,
    };
  } finally {
    clearInterval(sampleRss);
    clearInterval(sampleHeap);
  }
}

/** The raw contender: every segment scanned in parallel, each item decoded. */
async function rawScan(client: DynamoDBClient, table: string): Promise<number> {
  const counts = await Promise.all(
    Array.from({ length: SEGMENTS }, async (_, segment) => {
      let n = 0;
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await client.send(
          new ScanCommand({
            TableName: table,
            Segment: segment,
            TotalSegments: SEGMENTS,
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of out.Items ?? []) if (unmarshall(item as Item)) n++;
        start = out.LastEvaluatedKey;
      } while (start);
      return n;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

const best = (sides: { seconds: number; items: number; peakRssMiB: number; peakHeapMiB: number }[]): ExportSide => {
  const fastest = [...sides].sort((a, b) => a.seconds - b.seconds)[0];
  return {
    seconds: Number(fastest.seconds.toFixed(2)),
    items: fastest.items,
    itemsPerSecond: Math.round(fastest.items / fastest.seconds),
    peakRssMiB: Math.max(...sides.map((s) => s.peakRssMiB)),
    peakHeapMiB: Math.max(...sides.map((s) => s.peakHeapMiB)),
  };
};

export async function snapshotBench(client: DynamoDBClient): Promise<SnapshotBenchResult> {
  const tables = await ensureTables(client, 'vesta-bench-snap');
  const table = tables[RECORDS_TABLE.envVar];
  const blobDir = mkdtempSync(join(tmpdir(), 'vesta-bench-snap-'));
  try {
    const t0 = performance.now();
    await seed(client, table);
    const seedSeconds = Number(((performance.now() - t0) / 1000).toFixed(1));
    const deps = wireSnapshotWorker({
      client,
      env: { ...tables, VESTA_REPLICA: 'local' },
      blobs: new FsBlobStore(blobDir),
    });
    const workflows = new LocalWorkflows({
      step: async () => ({}),
      export: createExportHandler(deps),
      executions: new LocalExecutions(),
    });
    const vestaExport = async () => {
      const id = newId('snap', new Date());
      await deps.store.createSnapshot(id, null, SEGMENTS);
      await workflows.start('snapshot', id, { snapshotId: id });
      const [outcome] = (await workflows.settled()).filter((o) => o.executionArn.endsWith(id));
      if (outcome.status !== 'SUCCEEDED') throw new Error(`the export failed: ${outcome.error}`);
      const s = (await deps.store.getSnapshot(id))!;
      rmSync(join(blobDir, 'snapshots', id), { recursive: true, force: true });
      return s;
    };
    const raws: { seconds: number; items: number; peakRssMiB: number; peakHeapMiB: number }[] = [];
    const vestas: typeof raws = [];
    let partBytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['raw', 'vesta'] as const) : (['vesta', 'raw'] as const);
      for (const side of order) {
        if (side === 'raw') {
          const m = await measured(() => rawScan(client, table));
          if (m.value !== RECORDS) throw new Error(`the raw scan saw ${m.value} records, not ${RECORDS}`);
          raws.push({ ...m, items: m.value });
        } else {
          const m = await measured(vestaExport);
          if (m.value.items !== RECORDS) throw new Error(`the export holds ${m.value.items} records, not ${RECORDS}`);
          partBytes = m.value.bytes;
          vestas.push({ ...m, items: m.value.items });
        }
      }
    }
    const raw = best(raws);
    const v = best(vestas);
    const vesta = { ...v, partBytes, jsonBytesPerItem: Number((partBytes / RECORDS).toFixed(1)) };
    const ratio = { itemsPerSecond: Number((vesta.itemsPerSecond / raw.itemsPerSecond).toFixed(2)) };
    const text = [
      `Snapshot export of ${RECORDS} records in ${SEGMENTS} segments (best of ${ROUNDS} rounds each, alternating; seeded in ${seedSeconds} s):`,
      `  raw parallel scan : ${raw.itemsPerSecond} items/s (${raw.seconds} s), peak memory +${raw.peakRssMiB} MiB RSS, +${raw.peakHeapMiB} MiB live heap`,
      `  vesta export      : ${vesta.itemsPerSecond} items/s (${vesta.seconds} s), peak memory +${vesta.peakRssMiB} MiB RSS, +${vesta.peakHeapMiB} MiB live heap; parts ${partBytes} bytes gzip (${vesta.jsonBytesPerItem} bytes/record)`,
      `  ratio vesta/raw   : ${ratio.itemsPerSecond}x items/s`,
    ].join('\n');
    return { records: RECORDS, segments: SEGMENTS, rounds: ROUNDS, seedSeconds, raw, vesta, ratio, text };
  } finally {
    rmSync(blobDir, { recursive: true, force: true });
  }
}
