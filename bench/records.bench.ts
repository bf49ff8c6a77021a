/**
 * `npm run bench`: latency of the records API against the bare AWS SDK, and of leases and locks, on
 * one DynamoDB Local; then the local stack over HTTP, the change feed, snapshots, cold starts and
 * scaling; and last the targets table, one row per target with `pass` or `short`.
 *
 * Each operation goes through the real Lambda handler with the proxy events the local gateway
 * builds, and is compared with the hand-written DynamoDB request an application would send for
 * the same effect on an item of the same layout (record-ops.ts). Both sides use their own client on
 * the same endpoint; a middleware counts their requests. Runs alternate in blocks (A-B, B-A, ...).
 *
 * Environment: BENCH_ITERATIONS (default 300), BENCH_WARMUP (default 200), BENCH_BLOCK (default 25).
 * DynamoDB Local's JVM needs some thousand requests to reach steady speed, so every operation is
 * first warmed up (both sides, interleaved), then each is re-warmed briefly and measured.
 * Then, on the same DynamoDB Local:
 * - leases and locks (leases.bench.ts): lease keepalive, and lock acquire+release against the npm
 *   library dynamodb-lock-client;
 * - the local stack over HTTP (http.bench.ts): latency against the raw SDK, 32 clients on one
 *   key, and DynamoDB requests and WCU per write with the change feed's;
 * - the change feed (changes.bench.ts): publisher changes/s against a raw stream-to-table copy,
 *   and watch latency against reading the stream directly;
 * - snapshots (snapshots.bench.ts): export of 100,000 records against a raw parallel scan, and
 *   the restore of BENCH_RESTORE_RECORDS (10,000) against raw conditional puts;
 * - the field sweeper (sweeper.bench.ts): items read per removed field, among
 *   BENCH_SWEEPER_PLAIN (20,000) records without expiry;
 * - cold start of every Lambda function (coldstart.bench.ts);
 * - the scaling table (scaling.bench.ts).
 * Prints the tables and the targets (targets.ts), and writes them to bench/results/latest.json.
 *
 * BENCH_ONLY runs one part alone and writes bench/results/<part>.json, with that part's targets:
 * records (handler operations, leases and locks), http, changes, snapshots (the export), restore
 * (after one untimed export), sweeper, coldstart (no DynamoDB Local), scaling.
 */
import './env';
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type ApiHandler, createApiHandler } from '../src/api/app';
import { wireApi } from '../src/api/wiring';
import { CONTROL_TABLE, RECORDS_TABLE } from '../src/adapters/dynamodb/table-defs';
import { ensureTables } from '../src/local/bootstrap-tables';
import { type DynamoDbLocal, LOCAL_CREDENTIALS, localClient, startDynamoDbLocal } from '../src/local/dynamodb-local';
import { DYNAMODB_CLIENT_DEFAULTS } from '../src/adapters/dynamodb/client-config';
import { type ChangesBenchResult, changesBench } from './changes.bench';
import { type ColdStartResult, coldStartBench } from './coldstart.bench';
import { type HttpBenchResult, httpBench } from './http.bench';
import { type LeaseBenchResult, leaseBench } from './leases.bench';
import {
  type BundleSize,
  Contender,
  NO_WORKFLOWS,
  type OpResult,
  RequestCounter,
  bundleSize,
  compare,
  formatTable,
  warmUp,
} from './lib';
import { checkOutcome, operations, records } from './record-ops';
import { type ScalingResult, scalingBench } from './scaling.bench';
import { type SweeperBenchResult, sweeperBench } from './sweeper.bench';
import { type RestoreResult, type SnapshotBenchResult, snapshotBench } from './snapshots.bench';
import {
  type TargetRow,
  changeTargets,
  coldStartTargets,
  costTargets,
  formatTargets,
  httpTargets,
  lockTargets,
  recordTargets,
  snapshotTargets,
} from './targets';

const ROOT = resolve(__dirname, '..');
const RESULTS_DIR = resolve(__dirname, 'results');

function intEnv(name: string, dflt: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min)
    throw new Error(`${name} must be an integer >= ${min}; got ${JSON.stringify(raw)}`);
  return n;
}

const ITERATIONS = intEnv('BENCH_ITERATIONS', 300, 1);
const WARMUP = intEnv('BENCH_WARMUP', 200, 0);
/** Operations of each side run again right before an operation is measured. */
const REWARM = Math.min(WARMUP, 10);
const BLOCK = intEnv('BENCH_BLOCK', 25, 1);
/** Records of the restore target (a restore of 100,000 takes many minutes on DynamoDB Local). */
const RESTORE_RECORDS = intEnv('BENCH_RESTORE_RECORDS', 10_000, 1);
/** Records without expiry in the field sweeper's table. */
const SWEEPER_PLAIN = intEnv('BENCH_SWEEPER_PLAIN', 20_000, 0);
const SETTINGS = { iterations: ITERATIONS, warmup: WARMUP, rewarm: REWARM, blockSize: BLOCK };

const PARTS = ['records', 'http', 'changes', 'snapshots', 'restore', 'sweeper', 'coldstart', 'scaling'] as const;
type Part = (typeof PARTS)[number];
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== '' && !(PARTS as readonly string[]).includes(ONLY))
  throw new Error(`BENCH_ONLY must be one of ${PARTS.join(', ')}; got ${JSON.stringify(ONLY)}`);
const runs = (part: Part) => !ONLY || ONLY === part;

/** What the parts that ran measured. */
interface Results {
  handler?: { baselines: Record<string, string>; operations: OpResult[] };
  leases?: LeaseBenchResult;
  http?: HttpBenchResult;
  changes?: ChangesBenchResult;
  snapshots?: SnapshotBenchResult;
  restore?: RestoreResult;
  sweeper?: SweeperBenchResult;
  coldStart?: ColdStartResult;
  scaling?: ScalingResult;
}

/** The handler's records table on the bench's DynamoDB Local, and both sides' clients. */
interface HandlerSetup {
  readonly handler: ApiHandler;
  readonly vestaClient: DynamoDBClient;
  readonly rawClient: DynamoDBClient;
  readonly vestaRequests: RequestCounter;
  readonly rawRequests: RequestCounter;
  readonly tables: Record<string, string>;
}

async function handlerSetup(ddb: DynamoDbLocal): Promise<HandlerSetup> {
  const vestaClient = localClient(ddb.endpoint);
  const rawClient = localClient(ddb.endpoint);
  const tables = await ensureTables(rawClient, 'vesta-bench');
  const vestaRequests = new RequestCounter();
  const rawRequests = new RequestCounter();
  vestaRequests.attach(vestaClient);
  rawRequests.attach(rawClient);
  const handler = createApiHandler(
    wireApi({ client: vestaClient, env: { ...tables, VESTA_REPLICA: 'local' }, workflows: NO_WORKFLOWS }),
  );
  return { handler, vestaClient, rawClient, vestaRequests, rawRequests, tables };
}

/** Target 1's operations through the handler against the raw SDK. */
async function handlerOps(h: HandlerSetup): Promise<NonNullable<Results['handler']>> {
  const table = h.tables[RECORDS_TABLE.envVar];
  const ops = await operations(records(h.handler), h.rawClient, table);
  const sides = ops.map(
    (op) => [new Contender(op.vesta, h.vestaRequests), new Contender(op.raw, h.rawRequests)] as const,
  );
  for (const [vesta, raw] of sides) await warmUp(vesta, raw, WARMUP);
  const rows: OpResult[] = [];
  for (const [i, [vesta, raw]] of sides.entries()) {
    await warmUp(vesta, raw, REWARM);
    const [v, r] = await compare(vesta, raw, { iterations: ITERATIONS, blockSize: BLOCK });
    rows.push({ op: ops[i].name, vesta: v, raw: r, ratio: { p50: v.p50 / r.p50, p99: v.p99 / r.p99 } });
  }
  const count = (name: string) => sides[ops.findIndex((o) => o.name === name)][0].runs;
  await checkOutcome(h.rawClient, table, count('patch If-Match'), count('increment'));
  return { baselines: Object.fromEntries(ops.map((o) => [o.name, o.baseline])), operations: rows };
}

function targetsOf(r: Results): { rows: TargetRow[]; notRun: string[] } {
  const rows: TargetRow[] = [];
  const notRun: string[] = [];
  const add = (name: string, got: TargetRow[] | undefined) => (got ? rows.push(...got) : notRun.push(name));
  add('1 (handler)', r.handler && recordTargets(r.handler.operations));
  add('2 (HTTP)', r.http && httpTargets(r.http));
  add('3 (locks)', r.leases && lockTargets(r.leases.locks));
  add('4 (cost)', r.http && costTargets(r.http));
  add('5 (change feed)', r.changes && changeTargets(r.changes));
  if (r.snapshots || r.restore) rows.push(...snapshotTargets(r.snapshots, r.restore));
  if (!r.snapshots) notRun.push('6 (export)');
  if (!r.restore) notRun.push('6 (restore)');
  add('7 (cold start)', r.coldStart && coldStartTargets(r.coldStart));
  rows.sort((a, b) => a.group - b.group);
  return { rows, notRun };
}

/** Progress on stderr, so that a long run shows where it is. */
const progress = (what: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${what}`);

function write(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

async function bench(ddb: DynamoDbLocal | undefined, bundle: BundleSize | undefined): Promise<void> {
  const r: Results = {};
  const setup = ddb && (runs('records') || runs('scaling')) ? await handlerSetup(ddb) : undefined;
  // The bulk parts move 10,000s of records through one DynamoDB Local, which then pauses now and
  // then for longer than the service's 5 s request timeout: their client (both sides) waits 30 s.
  const snapClient =
    ddb && (runs('snapshots') || runs('restore'))
      ? new DynamoDBClient({
          endpoint: ddb.endpoint,
          region: process.env.AWS_REGION ?? 'us-east-1',
          credentials: LOCAL_CREDENTIALS,
          maxAttempts: DYNAMODB_CLIENT_DEFAULTS.maxAttempts,
          requestHandler: { ...DYNAMODB_CLIENT_DEFAULTS.requestHandler, requestTimeout: 30_000 },
        })
      : undefined;
  /** Parts that threw: reported, and the run goes on with the next part (the exit code is 1). */
  const failed: Record<string, string> = {};
  const part = async (name: string, what: string, fn: () => Promise<void>) => {
    progress(what);
    try {
      await fn();
    } catch (e) {
      failed[name] = (e as Error).stack ?? String(e);
      console.error(`part ${name} failed: ${failed[name]}`);
    }
  };
  try {
    if (setup && runs('records'))
      await part('records', 'record operations through the handler, then leases and locks', async () => {
        r.handler = await handlerOps(setup);
        console.log(formatTable(r.handler.operations));
        r.leases = await leaseBench({
          endpoint: ddb!.endpoint,
          handler: setup.handler,
          vestaRequests: setup.vestaRequests,
          rawClient: setup.rawClient,
          rawRequests: setup.rawRequests,
          controlTable: setup.tables[CONTROL_TABLE.envVar],
          settings: SETTINGS,
        });
        console.log(`\n${r.leases.text}\n`);
      });
    if (ddb && runs('http'))
      await part('http', 'the local stack over HTTP: latency, one hot key, cost per write', async () => {
        r.http = await httpBench(ddb.endpoint, SETTINGS);
        console.log(`${r.http.text}\n`);
      });
    if (ddb && runs('changes'))
      await part('changes', 'the change feed', async () => {
        r.changes = await changesBench(ddb.endpoint);
        console.log(`${r.changes.text}\n`);
      });
    if (snapClient && runs('snapshots'))
      await part('snapshots', 'snapshot export', async () => {
        r.snapshots = (await snapshotBench(snapClient)).export;
        console.log(`${r.snapshots!.text}\n`);
      });
    if (snapClient && runs('restore'))
      await part('restore', 'restore', async () => {
        r.restore = (
          await snapshotBench(snapClient, {
            records: RESTORE_RECORDS,
            prefix: 'vesta-bench-rst',
            export: false,
            restore: true,
          })
        ).restore;
        console.log(`${r.restore!.text}\n`);
      });
    if (ddb && runs('sweeper'))
      await part('sweeper', 'the field sweeper', async () => {
        r.sweeper = await sweeperBench(ddb.endpoint, SWEEPER_PLAIN);
        console.log(`${r.sweeper.text}\n`);
      });
    if (runs('coldstart'))
      await part('coldstart', 'cold start of every Lambda', async () => {
        r.coldStart = await coldStartBench();
        console.log(`${r.coldStart.text}\n`);
      });
    if (setup && runs('scaling'))
      await part('scaling', 'scaling', async () => {
        r.scaling = await scalingBench({
          handler: setup.handler,
          rawClient: setup.rawClient,
          recordsTable: setup.tables[RECORDS_TABLE.envVar],
          large: { export: r.snapshots, restore: r.restore },
        });
        console.log(`${r.scaling.text}\n`);
      });
  } finally {
    setup?.vestaClient.destroy();
    setup?.rawClient.destroy();
    snapClient?.destroy();
  }
  if (bundle)
    console.log(
      `API Lambda bundle (${bundle.entry}, esbuild minified, node24, @aws-sdk/* external): ${bundle.bytes} bytes, ${bundle.gzipBytes} bytes gzipped\n`,
    );

  const targets = targetsOf(r);
  console.log(formatTargets(targets.rows, targets.notRun));
  if (Object.keys(failed).length > 0) console.log(`failed parts (see above): ${Object.keys(failed).join(', ')}`);
  const load = loadavg();
  const cpu = cpus();
  const environment = {
    node: process.version,
    platform: platform(),
    arch: arch(),
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    loadAverageAtEnd: load.map((x) => Number(x.toFixed(2))),
  };
  const file = resolve(RESULTS_DIR, ONLY ? `${ONLY}.json` : 'latest.json');
  if (ONLY) {
    write(file, {
      generatedAt: new Date().toISOString(),
      environment,
      settings: { ...SETTINGS, store: 'DynamoDB Local (in memory, sharedDb)' },
      ...r,
      targets: targets.rows,
      failed,
    });
  } else {
    const { handler, leases } = r;
    write(file, {
      generatedAt: new Date().toISOString(),
      environment,
      settings: { ...SETTINGS, store: 'DynamoDB Local (in memory, sharedDb)' },
      unit: 'ms',
      baselines: handler?.baselines,
      operations: handler?.operations,
      leases: leases && { baselines: leases.baselines, operations: leases.leases },
      locks: leases && {
        baselines: { [leases.locks[0].op]: leases.baselines[leases.locks[0].op] },
        library: leases.library,
        note: 'In these operations, "raw" is the library.',
        operations: leases.locks,
      },
      http: r.http,
      snapshots: r.snapshots,
      restore: r.restore,
      sweeper: r.sweeper,
      changes: r.changes,
      coldStart: r.coldStart,
      scaling: r.scaling,
      bundle,
      targets: targets.rows,
      failed,
    });
  }
  console.log(
    `load average at the end (1, 5, 15 min): ${load.map((x) => x.toFixed(2)).join(', ')} on ${cpu.length} CPUs`,
  );
  console.log(`results written to ${relative(ROOT, file)}`);
  if (Object.keys(failed).length > 0) throw new Error(`parts failed: ${Object.keys(failed).join(', ')}`);
}

async function main(): Promise<void> {
  const bundle = runs('records') ? await bundleSize(ROOT, 'lambdas/api.ts') : undefined;
  console.log(
    `Vesta benchmark${ONLY ? ` (BENCH_ONLY=${ONLY})` : ''}: ${ITERATIONS} timed iterations per side and operation (after ${WARMUP} + ${REWARM} warm-up), alternating blocks of ${BLOCK}`,
  );
  let ddb: DynamoDbLocal | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`${signal}: stopping DynamoDB Local`);
    void (ddb?.stop() ?? Promise.resolve()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (ONLY !== 'coldstart') ddb = await startDynamoDbLocal();
    await bench(ddb, bundle);
  } finally {
    await ddb?.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`benchmark failed: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
