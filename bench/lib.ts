/**
 * Helpers of the benchmarks: the timing loop that alternates two contenders in blocks, percentiles, the result table and the Lambda bundle size.
 */
import type { WorkflowStarter } from '../src/core/ports';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

import { type Item, toItem } from '../src/adapters/dynamodb/codec';
import { RequestCounter } from '../src/adapters/dynamodb/request-counter';
import type { Fields } from '../src/core/record-view';
import { newIncarnation } from '../src/core/records';

export { RequestCounter };

/**
 * One contender's single operation: `step(i)` does the untimed work (building the event or the
 * command input) and returns the timed part.
 */
export type Step = (i: number) => () => Promise<void>;

/** A contender: its step, the counter of its client, and how many operations it has run. */
export class Contender {
  private done = 0;

  public constructor(
    private readonly step: Step,
    public readonly counter: RequestCounter,
  ) {}

  public get runs(): number {
    return this.done;
  }

  /** Prepares the next operation (untimed) and returns its timed part. */
  public next(): () => Promise<void> {
    return this.step(this.done++);
  }
}

export interface SideResult {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  readonly requestsPerOp: number;
  readonly requestsByCommand: Record<string, number>;
}

export interface LoopOptions {
  readonly iterations: number;
  /** Iterations per block; blocks alternate A-B, B-A, ... so drift hits both sides alike. */
  readonly blockSize: number;
}

/** Nearest-rank percentile of ascending-sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function summarize(samples: number[], counter: RequestCounter, iterations: number): SideResult {
  const sorted = [...samples].sort((a, b) => a - b);
  const snap = counter.snapshot();
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.reduce((s, x) => s + x, 0) / sorted.length,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    requestsPerOp: snap.total / iterations,
    requestsByCommand: snap.byCommand,
  };
}

async function timed(run: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
}

/** Runs both contenders `n` times, interleaved and not recorded (JIT of the JVM and of Node). */
export async function warmUp(a: Contender, b: Contender, n: number): Promise<void> {
  for (let w = 0; w < n; w++) {
    await a.next()();
    await b.next()();
  }
}

/**
 * Runs `iterations` timed operations of each contender in alternating blocks. Requests are
 * counted over these operations only.
 */
export async function compare(a: Contender, b: Contender, opts: LoopOptions): Promise<[SideResult, SideResult]> {
  a.counter.reset();
  b.counter.reset();
  const sa: number[] = [];
  const sb: number[] = [];
  for (let block = 0; sa.length < opts.iterations; block++) {
    const n = Math.min(opts.blockSize, opts.iterations - sa.length);
    const order: Array<[Contender, number[]]> =
      block % 2 === 0
        ? [
            [a, sa],
            [b, sb],
          ]
        : [
            [b, sb],
            [a, sa],
          ];
    for (const [c, samples] of order) {
      for (let k = 0; k < n; k++) samples.push(await timed(c.next()));
    }
  }
  return [summarize(sa, a.counter, opts.iterations), summarize(sb, b.counter, opts.iterations)];
}

export interface OpResult {
  readonly op: string;
  readonly vesta: SideResult;
  readonly raw: SideResult;
  readonly ratio: { readonly p50: number; readonly p99: number };
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
}

/** The result table, one row per operation; `other` names the side Vesta is compared with. */
export function formatTable(rows: readonly OpResult[], other = 'raw'): string {
  const head = [
    'op',
    'vesta p50',
    'vesta p99',
    `${other} p50`,
    `${other} p99`,
    'ratio p50',
    'ratio p99',
    'vesta req/op',
    `${other} req/op`,
  ];
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const body = rows.map((r) => [
    r.op,
    ms(r.vesta.p50),
    ms(r.vesta.p99),
    ms(r.raw.p50),
    ms(r.raw.p99),
    `${r.ratio.p50.toFixed(2)}x`,
    `${r.ratio.p99.toFixed(2)}x`,
    r.vesta.requestsPerOp.toFixed(3),
    r.raw.requestsPerOp.toFixed(3),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [pad(head, widths), rule, ...body.map((row) => pad(row, widths))].join('\n');
}

export interface BundleSize {
  readonly entry: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

/**
 * Bundles a Lambda entry as it is deployed (minified, for the Node.js 24 runtime, AWS SDK left to
 * the runtime), in memory.
 */
export async function bundleSize(root: string, entry: string): Promise<BundleSize> {
  const out = await build({
    absWorkingDir: root,
    entryPoints: [resolve(root, entry)],
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    external: ['@aws-sdk/*'],
    write: false,
    logLevel: 'silent',
  });
  const js = out.outputFiles[0];
  if (!js || out.outputFiles.length !== 1) throw new Error(`esbuild did not produce one file for ${entry}`);
  return { entry, bytes: js.contents.byteLength, gzipBytes: gzipSync(js.contents, { level: 9 }).byteLength };
}

/** A workflow starter that starts nothing, for benches of routes that need none (wireApi asks for one). */
export const NO_WORKFLOWS: WorkflowStarter = {
  executionArn: (workflow, name) => `local:${workflow}:${name}`,
  start: () => Promise.reject(new Error('this bench starts no workflow')),
  redrive: () => Promise.reject(new Error('this bench redrives no workflow')),
};

/**
 * The DynamoDB item of a live record written once (rev 1) by the local replica at `at`, as the
 * record store itself writes it: what the benches seed with BatchWriteItem.
 */
export function seededRecordItem(namespace: string, key: string, fields: Fields, at: string): Item {
  return toItem({
    namespace,
    key,
    inc: newIncarnation(),
    rev: 1,
    vv: { local: 1 },
    siblings: [{ fields, dot: { replica: 'local', counter: 1 }, at }],
    deleted: false,
    updatedAt: at,
  });
}
