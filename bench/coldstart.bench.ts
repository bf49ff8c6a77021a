/**
 * Cold start of every Lambda function (`lambdas/*.ts`), run by `npm run bench` (records.bench.ts)
 * or alone with `BENCH_ONLY=coldstart`.
 *
 * Each entry is bundled as the CDK app bundles it at synth time (lib/constructs/lambda-bundling.json,
 * passed to esbuild as NodejsFunction passes them: CommonJS for Node, `module` before `main`, the
 * AWS SDK left to the runtime), into a temporary folder. Then a fresh `node` process times
 * `require` of the bundle alone (module init: the bundle's top level, the AWS SDK modules it loads,
 * the clients and wiring it builds; no handler call), BENCH_COLDSTART_RUNS times (default 7); the
 * median is reported. The process gets the environment the functions get in AWS (table names,
 * state machine ARNs, function names, dummy credentials), so the wiring runs as it does there.
 * Node's own start-up is not counted; Lambda's sandbox start and code download are not either.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { TABLE_DEFS } from '../src/adapters/dynamodb/table-defs';

const ROOT = resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_COLDSTART_RUNS ?? 7);
const run = promisify(execFile);

export interface ColdStart {
  readonly fn: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Median of the runs, ms. */
  readonly initMs: number;
  readonly runsMs: number[];
}

export interface ColdStartResult {
  readonly runs: number;
  readonly functions: ColdStart[];
  readonly text: string;
}

interface Bundling {
  readonly minify: boolean;
  readonly sourceMap: boolean;
  readonly sourcesContent: boolean;
  readonly target: string;
  readonly externalModules: string[];
}

/** What the functions find in their environment in AWS, with placeholder values. */
function lambdaEnvironment(fn: string): NodeJS.ProcessEnv {
  const arn = (kind: string, name: string) => `arn:aws:${kind}:us-east-1:123456789012:${name}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_PATH: join(ROOT, 'node_modules'),
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIAVESTABENCH000000',
    AWS_SECRET_ACCESS_KEY: 'vesta-bench-not-a-secret',
    AWS_LAMBDA_FUNCTION_NAME: `vesta-${fn}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    VESTA_REPLICA: 'us-east-1',
    VESTA_STAGE: 'bench',
    VESTA_EVENT_BUS: 'vesta-bench-bus',
    VESTA_SNAPSHOT_BUCKET: 'vesta-bench-snapshots',
    POWERTOOLS_SERVICE_NAME: 'vesta',
    POWERTOOLS_METRICS_NAMESPACE: 'Vesta',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
  for (const def of TABLE_DEFS) env[def.envVar] = `vesta-bench-${def.id}`;
  for (const m of ['SAGA', 'TRANSFER', 'SNAPSHOT', 'RESTORE'])
    env[`VESTA_${m}_STATE_MACHINE_ARN`] = arn('states', `stateMachine:vesta-bench-${m.toLowerCase()}`);
  for (const f of ['SNAPSHOT_EXPORT', 'SNAPSHOT_RESTORE', 'PUBLISHER', 'LEASE_REAPER', 'LEASE_RENEWER'])
    env[`VESTA_${f}_FUNCTION`] = `vesta-bench-${f.toLowerCase().replace('_', '-')}`;
  return env;
}

/** Times `require` of the bundle in a fresh process: module init only. */
const PROBE = `
const { performance } = require('node:perf_hooks');
const t0 = performance.now();
require(process.argv[1]);
process.stdout.write(String(performance.now() - t0));
`;

async function initTime(file: string, env: NodeJS.ProcessEnv): Promise<number> {
  const { stdout } = await run(process.execPath, ['-e', PROBE, file], { env, cwd: ROOT, timeout: 60_000 });
  const ms = Number(stdout.trim());
  if (!Number.isFinite(ms)) throw new Error(`cold start probe of ${file} printed ${JSON.stringify(stdout)}`);
  return ms;
}

export async function coldStartBench(): Promise<ColdStartResult> {
  const bundling = JSON.parse(
    readFileSync(join(ROOT, 'lib', 'constructs', 'lambda-bundling.json'), 'utf8'),
  ) as Bundling;
  const entries = readdirSync(join(ROOT, 'lambdas'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort();
  const dir = mkdtempSync(join(tmpdir(), 'vesta-bench-coldstart-'));
  try {
    const bundles: Array<{ fn: string; file: string; bytes: number; gzipBytes: number }> = [];
    for (const entry of entries) {
      const fn = entry.replace(/\.ts$/, '');
      const out = await build({
        absWorkingDir: ROOT,
        entryPoints: [join(ROOT, 'lambdas', entry)],
        outfile: join(dir, fn, 'index.js'),
        bundle: true,
        format: 'cjs',
        platform: 'node',
        mainFields: ['module', 'main'],
        target: bundling.target,
        minify: bundling.minify,
        sourcemap: bundling.sourceMap,
        sourcesContent: bundling.sourcesContent,
        external: [...bundling.externalModules],
        legalComments: 'none',
        write: false,
        logLevel: 'silent',
      });
      const js = out.outputFiles.find((f) => f.path.endsWith('.js'));
      if (!js) throw new Error(`esbuild produced no JavaScript for ${entry}`);
      for (const f of out.outputFiles) {
        mkdirSync(dirname(f.path), { recursive: true });
        writeFileSync(f.path, f.contents);
      }
      bundles.push({
        fn,
        file: js.path,
        bytes: js.contents.byteLength,
        gzipBytes: gzipSync(js.contents, { level: 9 }).byteLength,
      });
    }
    const runsMs: Record<string, number[]> = Object.fromEntries(bundles.map((b) => [b.fn, []]));
    // One run of every function per round, so that a busy moment of the machine hits them all alike.
    for (let r = 0; r < RUNS; r++) {
      for (const b of bundles) runsMs[b.fn].push(await initTime(b.file, lambdaEnvironment(b.fn)));
    }
    const functions = bundles.map((b) => {
      const sorted = [...runsMs[b.fn]].sort((x, y) => x - y);
      const median = sorted[Math.floor((sorted.length - 1) / 2)];
      return {
        fn: b.fn,
        bytes: b.bytes,
        gzipBytes: b.gzipBytes,
        initMs: Number(median.toFixed(1)),
        runsMs: runsMs[b.fn].map((x) => Number(x.toFixed(1))),
      };
    });
    const width = Math.max(...functions.map((f) => f.fn.length));
    const text = [
      `Cold start (require of the bundle in a fresh node ${process.version}, median of ${RUNS}; bundled as lib/constructs/lambda-bundling.json says, @aws-sdk/* external):`,
      ...functions.map(
        (f) =>
          `  ${f.fn.padEnd(width)}  init ${f.initMs.toFixed(1).padStart(6)} ms  bundle ${(f.bytes / 1024).toFixed(1).padStart(6)} KB minified, ${(f.gzipBytes / 1024).toFixed(1)} KB gzipped`,
      ),
    ].join('\n');
    return { runs: RUNS, functions, text };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
