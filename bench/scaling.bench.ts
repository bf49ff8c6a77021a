/**
 * The scaling table, run by `npm run bench` (records.bench.ts) or alone with `BENCH_ONLY=scaling`.
 *
 * - get, put and patch (increment) through the real handler and with the raw SDK call, at 1, 8 and
 *   32 concurrent callers: each caller works on keys of its own namespace (no contention), for
 *   BENCH_SCALING_SECONDS per side and level (default 3, after a second of warm-up), the sides
 *   alternating; p50 of every operation and operations per second.
 * - snapshot export and restore at 10,000 records (BENCH_SCALING_SNAPSHOT_RECORDS; one round each), and at 100,000 only when
 *   BENCH_SCALING_100K=1 (seeding, exporting and restoring 100,000 records takes many minutes on
 *   DynamoDB Local, the restore most: it writes in transactions); without it, a full run's row of
 *   100,000 records has the export target's figures and no restore.
 */
import { performance } from 'node:perf_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ApiHandler } from '../src/api/app';
import { gateway } from './gateway';
import { percentile } from './lib';
import { type Op, type OpName, operations, recordsOf } from './record-ops';
import { type RestoreResult, type SnapshotBenchResult, snapshotBench } from './snapshots.bench';

const SECONDS = Number(process.env.BENCH_SCALING_SECONDS ?? 3);
const LEVELS = [1, 8, 32] as const;
const SCALING_OPS: readonly OpName[] = ['get', 'put', 'increment'];
/** Records of the smaller snapshot row (a quick check may lower it). */
const SMALL = Number(process.env.BENCH_SCALING_SNAPSHOT_RECORDS ?? 10_000);

export interface ScalingRow {
  readonly op: string;
  readonly callers: number;
  readonly vesta: { readonly p50: number; readonly opsPerSecond: number };
  readonly raw: { readonly p50: number; readonly opsPerSecond: number };
}

export interface SnapshotScalingRow {
  readonly records: number;
  readonly exportItemsPerSecond: { readonly vesta: number; readonly raw: number };
  /** Absent when not measured at this size. */
  readonly restoreItemsPerSecond?: { readonly vesta: number; readonly raw: number };
  readonly source: string;
}

export interface ScalingResult {
  readonly secondsPerSide: number;
  readonly operations: ScalingRow[];
  readonly snapshots: SnapshotScalingRow[];
  readonly text: string;
}

async function run(steps: readonly Op['vesta'][], seconds: number): Promise<{ p50: number; opsPerSecond: number }> {
  const latencies: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let i = 0;
  await Promise.all(
    steps.map(async (step) => {
      while (performance.now() < end) {
        const timed = step(i++);
        const s = performance.now();
        await timed();
        latencies.push(performance.now() - s);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { p50: Number(percentile(latencies, 50).toFixed(2)), opsPerSecond: Math.round(latencies.length / elapsed) };
}

function snapshotRow(e: SnapshotBenchResult, r: RestoreResult | undefined, source: string): SnapshotScalingRow {
  return {
    records: e.records,
    exportItemsPerSecond: { vesta: e.vesta.itemsPerSecond, raw: e.raw.itemsPerSecond },
    restoreItemsPerSecond:
      r && r.records === e.records ? { vesta: r.vesta.itemsPerSecond, raw: r.raw.itemsPerSecond } : undefined,
    source,
  };
}

export async function scalingBench(input: {
  readonly handler: ApiHandler;
  readonly rawClient: DynamoDBClient;
  readonly recordsTable: string;
  /** The full run's 100,000-record export and restore, when it ran them. */
  readonly large?: { readonly export?: SnapshotBenchResult; readonly restore?: RestoreResult };
}): Promise<ScalingResult> {
  const { handler, rawClient, recordsTable } = input;
  const call = gateway(handler);
  const max = Math.max(...LEVELS);
  // One set of operations (and keys) per caller, each in a namespace of its own.
  const perCaller: Op[][] = [];
  for (let c = 0; c < max; c++)
    perCaller.push(await operations(recordsOf(call, `scale${c}`), rawClient, recordsTable, SCALING_OPS, `scale${c}`));
  const rows: ScalingRow[] = [];
  for (const [o, name] of SCALING_OPS.entries()) {
    for (const callers of LEVELS) {
      const vestaSteps = perCaller.slice(0, callers).map((ops) => ops[o].vesta);
      const rawSteps = perCaller.slice(0, callers).map((ops) => ops[o].raw);
      await run(vestaSteps, 1);
      await run(rawSteps, 1);
      const order = (rows.length % 2 === 0 ? ['raw', 'vesta'] : ['vesta', 'raw']) as Array<'raw' | 'vesta'>;
      const got: Partial<Record<'raw' | 'vesta', { p50: number; opsPerSecond: number }>> = {};
      for (const side of order) got[side] = await run(side === 'raw' ? rawSteps : vestaSteps, SECONDS);
      rows.push({ op: name, callers, vesta: got.vesta!, raw: got.raw! });
    }
  }

  const snapshots: SnapshotScalingRow[] = [];
  const small = await snapshotBench(rawClient, {
    records: SMALL,
    rounds: 1,
    prefix: 'vesta-bench-scale-small',
    restore: true,
  });
  snapshots.push(snapshotRow(small.export!, small.restore!, 'one round each'));
  if (process.env.BENCH_SCALING_100K === '1') {
    const large = await snapshotBench(rawClient, {
      records: 100_000,
      rounds: 1,
      prefix: 'vesta-bench-scale100k',
      restore: true,
    });
    snapshots.push(snapshotRow(large.export!, large.restore!, 'one round each'));
  } else if (input.large?.export?.records === 100_000)
    snapshots.push(snapshotRow(input.large.export, input.large.restore, 'the export target above'));

  const head = ['op', 'callers', 'vesta p50', 'raw p50', 'ratio p50', 'vesta ops/s', 'raw ops/s', 'ratio ops/s'];
  const body = rows.map((r) => [
    r.op,
    String(r.callers),
    `${r.vesta.p50.toFixed(2)} ms`,
    `${r.raw.p50.toFixed(2)} ms`,
    `${(r.vesta.p50 / r.raw.p50).toFixed(2)}x`,
    String(r.vesta.opsPerSecond),
    String(r.raw.opsPerSecond),
    `${(r.vesta.opsPerSecond / r.raw.opsPerSecond).toFixed(2)}x`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const text = [
    `Scaling through the handler against the raw SDK call (${SECONDS} s per side and level, alternating; each caller on keys of its own):`,
    line(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
    '',
    'Snapshot export and restore by size (items/s, vesta vs raw):',
    ...snapshots.map(
      (s) =>
        `  ${String(s.records).padStart(7)} records: export ${s.exportItemsPerSecond.vesta} vs ${s.exportItemsPerSecond.raw} (${(s.exportItemsPerSecond.vesta / s.exportItemsPerSecond.raw).toFixed(2)}x), ${s.restoreItemsPerSecond ? `restore ${s.restoreItemsPerSecond.vesta} vs ${s.restoreItemsPerSecond.raw} (${(s.restoreItemsPerSecond.vesta / s.restoreItemsPerSecond.raw).toFixed(2)}x)` : 'restore not measured at this size (BENCH_SCALING_100K=1)'}; ${s.source}`,
    ),
    ...(snapshots.some((s) => s.records === 100_000)
      ? []
      : ['  100000 records: not measured (BENCH_SCALING_100K=1 measures export and restore)']),
  ].join('\n');
  return { secondsPerSide: SECONDS, operations: rows, snapshots, text };
}
