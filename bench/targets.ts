/**
 * The targets of the performance work, checked against one run's results: one row per target,
 * with what was measured, the value compared (a ratio to the baseline, or a count, or a time),
 * the limit, and `pass` or `short`. A part that did not run (BENCH_ONLY) gives no rows.
 */
import type { ChangesBenchResult } from './changes.bench';
import type { ColdStartResult } from './coldstart.bench';
import type { HttpBenchResult } from './http.bench';
import type { OpResult } from './lib';
import type { RestoreResult, SnapshotBenchResult } from './snapshots.bench';

export interface TargetRow {
  /** The target's number in the list (README "Benchmarks"). */
  readonly group: number;
  readonly target: string;
  /** What was measured, both sides where there are two. */
  readonly measured: string;
  /** The value compared with the limit, as printed. */
  readonly value: string;
  readonly limit: string;
  readonly mark: 'pass' | 'short';
}

type Cmp = '<=' | '>=' | '==';

function row(
  group: number,
  target: string,
  measured: string,
  value: number,
  cmp: Cmp,
  limit: number,
  unit: 'x' | ' ms' | ' KB' | '',
  digits = 2,
): TargetRow {
  const ok = cmp === '<=' ? value <= limit : cmp === '>=' ? value >= limit : value === limit;
  const sign = cmp === '<=' ? '≤' : cmp === '>=' ? '≥' : '=';
  return {
    group,
    target,
    measured,
    value: Number.isFinite(value) ? `${value.toFixed(digits)}${unit}` : 'n/a',
    limit: `${sign} ${limit}${unit}`,
    mark: ok ? 'pass' : 'short',
  };
}

const ms = (x: number) => `${x.toFixed(2)} ms`;

/** Target 1: record operations through the handler against the raw SDK call. */
export function recordTargets(rows: readonly OpResult[]): TargetRow[] {
  return rows.flatMap((r) => [
    row(1, `handler ${r.op} p50`, `${ms(r.vesta.p50)} vs raw ${ms(r.raw.p50)}`, r.ratio.p50, '<=', 1.15, 'x'),
    row(1, `handler ${r.op} p99`, `${ms(r.vesta.p99)} vs raw ${ms(r.raw.p99)}`, r.ratio.p99, '<=', 1.5, 'x'),
    row(
      1,
      `handler ${r.op} DynamoDB requests/op`,
      `${JSON.stringify(r.vesta.requestsByCommand)}`,
      r.vesta.requestsPerOp,
      '==',
      1,
      '',
      3,
    ),
  ]);
}

/** Target 2: through the local stack over HTTP. */
export function httpTargets(h: HttpBenchResult): TargetRow[] {
  return [
    ...h.latency.map((r) =>
      row(2, `HTTP ${r.op} p50`, `${ms(r.vesta.p50)} vs raw ${ms(r.raw.p50)}`, r.ratio.p50, '<=', 2.0, 'x'),
    ),
    row(
      2,
      `HTTP ${h.contention.clients} clients incrementing one key, ops/s`,
      `${h.contention.vesta.opsPerSecond} vs raw conditional UpdateItem ${h.contention.raw.opsPerSecond} ops/s`,
      h.contention.ratio,
      '>=',
      0.6,
      'x',
    ),
  ];
}

/** Target 3: lock acquire+release against dynamodb-lock-client. */
export function lockTargets(locks: readonly OpResult[]): TargetRow[] {
  return locks.flatMap((r) => [
    row(3, `${r.op} p50`, `${ms(r.vesta.p50)} vs lib ${ms(r.raw.p50)}`, r.ratio.p50, '<=', 1.0, 'x'),
    row(
      3,
      `${r.op} DynamoDB requests`,
      `${JSON.stringify(r.vesta.requestsByCommand)} (lib ${r.raw.requestsPerOp.toFixed(2)})`,
      r.vesta.requestsPerOp,
      '==',
      2,
      '',
      3,
    ),
  ]);
}

/**
 * Target 4: the change feed's write requests per committed change under load (the last cost
 * phase); the sequential phases (few changes to a stream batch) are in the cost table only.
 */
export function costTargets(h: HttpBenchResult): TargetRow[] {
  const load = h.cost[h.cost.length - 1];
  if (!load) return [];
  const p = load.perOp;
  return [
    row(
      4,
      'change feed write requests per committed change, under load',
      `${load.committed} writes: feed ${p.feedWriteRequests.toFixed(2)} + API ${p.apiRequests.toFixed(2)} req, feed ${p.feedWcu.toFixed(2)} + API ${p.apiWcu.toFixed(2)} WCU per write`,
      p.feedWriteRequests,
      '<=',
      1,
      '',
    ),
  ];
}

/** Target 5: the change feed against the stream. */
export function changeTargets(c: ChangesBenchResult): TargetRow[] {
  const p1 = c.publisher.vesta['parallelism 1'];
  return [
    row(
      5,
      'write to watcher p50',
      `${c.watch.vesta.p50} ms vs stream reader ${c.watch.floor.p50} ms`,
      c.watch.vesta.p50 / c.watch.floor.p50,
      '<=',
      2,
      'x',
    ),
    row(
      5,
      'publisher throughput (parallelism 1, as the stack runs it)',
      `${p1.changesPerSecond} vs raw ${c.publisher.raw.changesPerSecond} changes/s`,
      p1.ratioToRaw,
      '>=',
      0.8,
      'x',
    ),
  ];
}

/** Target 6: export and restore against raw parallel reads and writes. */
export function snapshotTargets(s: SnapshotBenchResult | undefined, r: RestoreResult | undefined): TargetRow[] {
  const rows: TargetRow[] = [];
  if (s)
    rows.push(
      row(
        6,
        `snapshot export, ${s.records} records`,
        `${s.vesta.itemsPerSecond} vs raw scan ${s.raw.itemsPerSecond} items/s`,
        s.ratio.itemsPerSecond,
        '>=',
        0.8,
        'x',
      ),
    );
  if (r)
    rows.push(
      row(
        6,
        `restore, ${r.records} records`,
        `${r.vesta.itemsPerSecond} vs raw conditional puts ${r.raw.itemsPerSecond} items/s (${r.parallelism} in parallel)`,
        r.ratio.itemsPerSecond,
        '>=',
        0.8,
        'x',
      ),
    );
  return rows;
}

/** Target 7: every function's init time and bundle size. */
export function coldStartTargets(c: ColdStartResult): TargetRow[] {
  return c.functions.flatMap((f) => [
    row(7, `${f.fn} cold start init`, `median of ${c.runs}: ${f.runsMs.join(', ')} ms`, f.initMs, '<=', 60, ' ms', 1),
    row(
      7,
      `${f.fn} bundle (minified)`,
      `${f.bytes} bytes, ${f.gzipBytes} gzipped`,
      f.bytes / 1024,
      '<=',
      250,
      ' KB',
      1,
    ),
  ]);
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i])).join('  ');
}

/** The targets table as printed; parts that did not run are named under it. */
export function formatTargets(rows: readonly TargetRow[], notRun: readonly string[]): string {
  const head = ['#', 'target', 'measured', 'value', 'limit', 'mark'];
  const body = rows.map((r) => [String(r.group), r.target, r.measured, r.value, r.limit, r.mark]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const passed = rows.filter((r) => r.mark === 'pass').length;
  return [
    'Targets:',
    pad(head, widths),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map((b) => pad(b, widths)),
    `${passed} of ${rows.length} pass, ${rows.length - passed} short${notRun.length ? `; not run: ${notRun.join(', ')}` : ''}`,
  ].join('\n');
}
