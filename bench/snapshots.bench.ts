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
 *
 * Then, with `restore: true` (records.bench.ts asks for it on a table of BENCH_RESTORE_RECORDS
 * records, default 10,000, after one untimed export; `BENCH_ONLY=restore` runs it alone), the
 * restore of the last exported snapshot, BENCH_SNAPSHOT_ROUNDS times per contender, alternating,
 * each round into an empty records table of its own (dropped after the round):
 *
 * - raw: the same records (the seed's items, rebuilt the same way) written with one PutItem each,
 *   conditioned on attribute_not_exists, by as many writers in parallel as the restore has parts
 *   in flight (its parts, at most the Map's MaxConcurrency of 8);
 * - vesta: the restore workflow as `POST /v1/snapshots/{id}/restore` (mode `missing`) runs it (the
 *   ASL through the local runner: every part's sha256 checked, then each part streamed and written
 *   in transactions of conditional writes with the part's checkpoint).
 */
import { WritesInFlight } from '../src/core/snapshot-cut';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
  waitUntilTableExists,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { wireSnapshotWorker } from '../src/api/wiring';
import { FsBlobStore } from '../src/adapters/blob/fs-blob-store';
import type { Item } from '../src/adapters/dynamodb/codec';
import { RECORDS_TABLE } from '../src/adapters/dynamodb/table-defs';
import { createTableInput, ensureTables } from '../src/local/bootstrap-tables';
import { LocalExecutions } from '../src/local/executions';
import { LocalWorkflows } from '../src/local/workflows';
import { newId } from '../src/core/snapshots';
import { createExportHandler, createRestoreHandler } from '../src/snapshots/worker';
import { seededRecordItem } from './lib';

export const SNAPSHOT_RECORDS = Number(process.env.BENCH_SNAPSHOT_RECORDS ?? 100_000);
const ROUNDS_DEFAULT = Number(process.env.BENCH_SNAPSHOT_ROUNDS ?? 2);
const SEGMENTS = Number(process.env.BENCH_SNAPSHOT_SEGMENTS ?? 4);
const NAMESPACES = 20;
/** The restore workflow's Map state runs at most this many parts at once (statemachines/restore.asl.json). */
const RESTORE_MAX_CONCURRENCY = 8;

export interface ExportSide {
  readonly seconds: number;
  readonly itemsPerSecond: number;
  readonly items: number;
  /** Peak growth over the start of the round, MiB. */
  readonly peakRssMiB: number;
  readonly peakHeapMiB: number;
}

export interface RestoreResult {
  readonly records: number;
  readonly rounds: number;
  /** Parts the restore writes at once, and the raw writers. */
  readonly parallelism: number;
  readonly raw: ExportSide;
  readonly vesta: ExportSide;
  readonly ratio: { readonly itemsPerSecond: number };
  readonly text: string;
}

export interface SnapshotBenchOptions {
  /** @default BENCH_SNAPSHOT_RECORDS, else 100,000 */
  readonly records?: number;
  /** @default BENCH_SNAPSHOT_ROUNDS, else 2 */
  readonly rounds?: number;
  /** Table prefix, so that runs of different sizes do not share tables. */
  readonly prefix?: string;
  /** Measure the export (else one untimed export makes the snapshot the restore needs). @default true */
  readonly export?: boolean;
  /** Measure the restore too. @default false */
  readonly restore?: boolean;
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

export interface SnapshotPartResult {
  readonly export?: SnapshotBenchResult;
  readonly restore?: RestoreResult;
}

async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/**
 * Record `j` as seeded: about 300 bytes of fields, with 60 bytes that do not compress (derived from
 * `j`, so that the raw restore writes the very records the snapshot holds).
 */
function recordItem(j: number, at: string): Item {
  const note = createHash('sha512').update(`note-${j}`).digest().subarray(0, 60).toString('base64');
  const fields = {
    sku: `sku-${j}`,
    name: `Product number ${j}`,
    price: (j % 997) + 0.99,
    stock: j % 50,
    tags: ['bench', `t${j % 7}`],
    attrs: { color: 'blue', size: j % 5, note },
  };
  return seededRecordItem(`ns${j % NAMESPACES}`, `item/${j}`, fields, at);
}

/** Records of a realistic size (about 300 bytes of fields), 25 to a BatchWriteItem. */
async function seed(client: DynamoDBClient, table: string, records: number, at: string): Promise<void> {
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < records; i += 25) {
    const batch: WriteRequest[] = [];
    for (let j = i; j < Math.min(records, i + 25); j++) batch.push({ PutRequest: { Item: recordItem(j, at) } });
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

type Sample = { seconds: number; items: number; peakRssMiB: number; peakHeapMiB: number };

const best = (sides: Sample[]): ExportSide => {
  const fastest = [...sides].sort((a, b) => a.seconds - b.seconds)[0];
  return {
    seconds: Number(fastest.seconds.toFixed(2)),
    items: fastest.items,
    itemsPerSecond: Math.round(fastest.items / fastest.seconds),
    peakRssMiB: Math.max(...sides.map((s) => s.peakRssMiB)),
    peakHeapMiB: Math.max(...sides.map((s) => s.peakHeapMiB)),
  };
};

/** The raw restore: every record put once, if absent, by `width` writers (record j by writer j % width). */
async function rawRestore(client: DynamoDBClient, table: string, records: number, width: number, at: string) {
  let written = 0;
  await Promise.all(
    Array.from({ length: width }, async (_, w) => {
      for (let j = w; j < records; j += width) {
        try {
          await client.send(
            new PutItemCommand({
              TableName: table,
              Item: recordItem(j, at),
              ConditionExpression: 'attribute_not_exists(k)',
            }),
          );
          written++;
        } catch (e) {
          if (!(e instanceof ConditionalCheckFailedException)) throw e;
        }
      }
    }),
  );
  return written;
}

/** An empty records table (with the records table's key schema and stream), for one restore round. */
async function emptyRecordsTable(client: DynamoDBClient, prefix: string): Promise<string> {
  const input = createTableInput(prefix, RECORDS_TABLE);
  await client.send(new CreateTableCommand(input));
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: input.TableName! });
  return input.TableName!;
}

export async function snapshotBench(
  client: DynamoDBClient,
  opts: SnapshotBenchOptions = {},
): Promise<SnapshotPartResult> {
  const RECORDS = opts.records ?? SNAPSHOT_RECORDS;
  const ROUNDS = opts.rounds ?? ROUNDS_DEFAULT;
  const prefix = opts.prefix ?? 'vesta-bench-snap';
  const tables = await ensureTables(client, prefix);
  const table = tables[RECORDS_TABLE.envVar];
  const blobDir = mkdtempSync(join(tmpdir(), 'vesta-bench-snap-'));
  try {
    const t0 = performance.now();
    const at = new Date().toISOString();
    await seed(client, table, RECORDS, at);
    const seedSeconds = Number(((performance.now() - t0) / 1000).toFixed(1));
    const blobs = new FsBlobStore(blobDir);
    // Nothing writes records while it exports: no write is in flight across a cut.
    const deps = wireSnapshotWorker({
      client,
      env: { ...tables, VESTA_REPLICA: 'local' },
      blobs,
      inFlight: new WritesInFlight(),
    });
    const executions = new LocalExecutions();
    const workflows = new LocalWorkflows({ step: async () => ({}), export: createExportHandler(deps), executions });
    const settle = async (name: string) => {
      const [outcome] = (await workflows.settled()).filter((o) => o.executionArn.endsWith(name));
      if (outcome.status !== 'SUCCEEDED') throw new Error(`${name} failed: ${outcome.error}`);
    };
    /** One export; its parts are removed unless `keep` (the restore reads the last one). */
    const vestaExport = async (keep = false) => {
      const id = newId('snap', new Date());
      await deps.store.createSnapshot(id, null, SEGMENTS);
      await workflows.start('snapshot', id, { snapshotId: id });
      await settle(id);
      const s = (await deps.store.getSnapshot(id))!;
      if (!keep) rmSync(join(blobDir, 'snapshots', id), { recursive: true, force: true });
      return s;
    };
    let exported: SnapshotBenchResult | undefined;
    let kept: Awaited<ReturnType<typeof vestaExport>> | undefined;
    if (opts.export ?? true) {
      const raws: Sample[] = [];
      const vestas: Sample[] = [];
      let partBytes = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? (['raw', 'vesta'] as const) : (['vesta', 'raw'] as const);
        for (const side of order) {
          if (side === 'raw') {
            const m = await measured(() => rawScan(client, table));
            if (m.value !== RECORDS) throw new Error(`the raw scan saw ${m.value} records, not ${RECORDS}`);
            raws.push({ ...m, items: m.value });
          } else {
            const last = opts.restore === true && vestas.length === ROUNDS - 1;
            const m = await measured(() => vestaExport(last));
            if (m.value.items !== RECORDS) throw new Error(`the export holds ${m.value.items} records, not ${RECORDS}`);
            partBytes = m.value.bytes;
            if (last) kept = m.value;
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
      exported = { records: RECORDS, segments: SEGMENTS, rounds: ROUNDS, seedSeconds, raw, vesta, ratio, text };
    }
    if (!opts.restore) return { export: exported };
    kept ??= await vestaExport(true);

    const parallelism = Math.min(kept.parts.length || kept.segments, RESTORE_MAX_CONCURRENCY);
    const raws: Sample[] = [];
    const vestas: Sample[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['raw', 'vesta'] as const) : (['vesta', 'raw'] as const);
      for (const side of order) {
        const target = await emptyRecordsTable(client, `${prefix}-restore-${side}-${round}`);
        try {
          if (side === 'raw') {
            const m = await measured(() => rawRestore(client, target, RECORDS, parallelism, at));
            if (m.value !== RECORDS) throw new Error(`the raw restore wrote ${m.value} records, not ${RECORDS}`);
            raws.push({ ...m, items: m.value });
          } else {
            const into = wireSnapshotWorker({
              client,
              env: { ...tables, [RECORDS_TABLE.envVar]: target, VESTA_REPLICA: 'local' },
              blobs,
            });
            const restoring = new LocalWorkflows({
              step: async () => ({}),
              export: createExportHandler(into),
              restore: createRestoreHandler(into),
              executions,
            });
            const m = await measured(async () => {
              const id = newId('rest', new Date());
              await into.store.createRestore({
                id,
                snapshotId: kept.id,
                namespace: null,
                mode: 'missing',
                startedAt: new Date().toISOString(),
              });
              await restoring.start('restore', id, { restoreId: id });
              const [outcome] = (await restoring.settled()).filter((o) => o.executionArn.endsWith(id));
              if (outcome.status !== 'SUCCEEDED') throw new Error(`the restore failed: ${outcome.error}`);
              return (await into.store.getRestore(id))!;
            });
            if (m.value.status !== 'COMPLETE' || m.value.written !== RECORDS)
              throw new Error(
                `the restore is ${m.value.status} with ${m.value.written} records written, not ${RECORDS}`,
              );
            vestas.push({ ...m, items: m.value.written });
          }
        } finally {
          await client.send(new DeleteTableCommand({ TableName: target }));
        }
      }
    }
    const raw = best(raws);
    const vesta = best(vestas);
    const ratio = { itemsPerSecond: Number((vesta.itemsPerSecond / raw.itemsPerSecond).toFixed(2)) };
    const text = [
      `Restore of ${RECORDS} records into an empty table, ${parallelism} parts/writers at once (best of ${ROUNDS} rounds each, alternating):`,
      `  raw conditional puts : ${raw.itemsPerSecond} items/s (${raw.seconds} s), peak memory +${raw.peakRssMiB} MiB RSS, +${raw.peakHeapMiB} MiB live heap`,
      `  vesta restore        : ${vesta.itemsPerSecond} items/s (${vesta.seconds} s), peak memory +${vesta.peakRssMiB} MiB RSS, +${vesta.peakHeapMiB} MiB live heap`,
      `  ratio vesta/raw      : ${ratio.itemsPerSecond}x items/s`,
    ].join('\n');
    return { export: exported, restore: { records: RECORDS, rounds: ROUNDS, parallelism, raw, vesta, ratio, text } };
  } finally {
    rmSync(blobDir, { recursive: true, force: true });
  }
}
