/**
 * `npm run bench`: latency of the records API against the bare AWS SDK, and of leases and locks, on
 * one DynamoDB Local.
 *
 * Each operation goes through the real Lambda handler with the proxy events the local gateway
 * builds, and is compared with the hand-written DynamoDB request an application would send for
 * the same effect on an item of the same layout. Both sides use their own client on the same
 * endpoint; a middleware counts their requests. Runs alternate in blocks (A-B, B-A, ...).
 *
 * Environment: BENCH_ITERATIONS (default 300), BENCH_WARMUP (default 200), BENCH_BLOCK (default 25).
 * DynamoDB Local's JVM needs some thousand requests to reach steady speed, so every operation is
 * first warmed up (both sides, interleaved), then each is re-warmed briefly and measured.
 * Then, on the same DynamoDB Local, leases and locks (leases.bench.ts): lease keepalive, and lock
 * acquire+release against the npm library dynamodb-lock-client.
 * Then snapshot export (snapshots.bench.ts): items/s and peak memory of the export workflow for
 * 100,000 records against a raw parallel scan of the same table.
 * Then the change feed (changes.bench.ts): publisher changes/s against a raw stream-to-table copy,
 * and watch latency against reading the stream directly.
 * Prints the tables and the API Lambda bundle size, and writes them to bench/results/latest.json.
 * BENCH_ONLY=snapshots runs the snapshot part alone (and writes bench/results/snapshots.json);
 * BENCH_ONLY=changes runs the change feed part alone (and writes bench/results/changes.json).
 */
import './env';
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { type DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type ApiHandler, createApiHandler } from '../src/api/app';
import { wireApi } from '../src/api/wiring';
import { type Item, keyOf, marshallFields } from '../src/adapters/dynamodb/codec';
import { CONTROL_TABLE, RECORDS_TABLE } from '../src/adapters/dynamodb/table-defs';
import { ensureTables } from '../src/local/bootstrap-tables';
import { type DynamoDbLocal, localClient, startDynamoDbLocal } from '../src/local/dynamodb-local';
import { expectStatus, gateway } from './gateway';
import { changesBench } from './changes.bench';
import { leaseBench } from './leases.bench';
import { snapshotBench } from './snapshots.bench';
import {
  type BundleSize,
  Contender,
  type OpResult,
  RequestCounter,
  type Step,
  bundleSize,
  compare,
  formatTable,
  warmUp,
  NO_WORKFLOWS,
} from './lib';

const ROOT = resolve(__dirname, '..');
const RESULTS_FILE = resolve(__dirname, 'results', 'latest.json');
const NS = 'bench';

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

/** A record of a few hundred bytes, the same on both sides. */
const FIELDS = {
  name: 'benchmark record',
  count: 0,
  n: 0,
  active: true,
  tags: ['alpha', 'beta', 'gamma'],
  address: { city: 'Lisbon', zip: '1000-001', lines: ['Rua Augusta 1', '2nd floor'] },
  note: 'x'.repeat(200),
};

/** The records API of namespace NS, through the handler. */
function records(handler: ApiHandler) {
  const call = gateway(handler);
  return (method: string, key: string, body?: unknown, extra: Record<string, string> = {}) =>
    call(method, `/v1/ns/${NS}/keys/${encodeURIComponent(key)}`, body, extra);
}

const expect = expectStatus;

interface Op {
  readonly name: string;
  /** What the raw side sends, for the results file. */
  readonly baseline: string;
  readonly vesta: Step;
  readonly raw: Step;
}

/** The four operations; each keeps the state it chains on (ETag, rev) in its closures. */
async function operations(call: ReturnType<typeof records>, client: DynamoDBClient, table: string): Promise<Op[]> {
  const seeded: Record<string, string> = {};
  for (const key of ['get', 'put', 'patch', 'incr']) {
    const reply = expect(await call('PUT', key, { fields: FIELDS })(), [201], `seed ${key}`);
    seeded[key] = reply.etag ?? '';
    // The raw side works on a copy of the very item Vesta wrote.
    const out = await client.send(new GetItemCommand({ TableName: table, Key: keyOf(NS, key), ConsistentRead: true }));
    await client.send(new PutItemCommand({ TableName: table, Item: { ...out.Item!, k: { S: `raw-${key}` } } }));
  }
  const now = () => ({ S: new Date().toISOString() });
  const update = (key: string, input: Omit<ConstructorParameters<typeof UpdateItemCommand>[0], 'TableName' | 'Key'>) =>
    new UpdateItemCommand({ TableName: table, Key: keyOf(NS, `raw-${key}`), ReturnValues: 'ALL_NEW', ...input });

  let etag = seeded.patch;
  let rev = 1;
  return [
    {
      name: 'get',
      baseline: 'GetItem, ConsistentRead',
      vesta: () => {
        const run = call('GET', 'get');
        return async () => void expect(await run(), [200], 'GET');
      },
      raw: () => {
        const cmd = new GetItemCommand({ TableName: table, Key: keyOf(NS, 'raw-get'), ConsistentRead: true });
        return async () => {
          if (!(await client.send(cmd)).Item) throw new Error('raw GetItem: no item');
        };
      },
    },
    {
      name: 'put',
      baseline: 'UpdateItem SET f, rev + 1, at; ReturnValues ALL_NEW',
      vesta: (i) => {
        const run = call('PUT', 'put', { fields: { ...FIELDS, count: i } });
        return async () => void expect(await run(), [200], 'PUT');
      },
      raw: (i) => {
        const cmd = update('put', {
          UpdateExpression: 'SET #f = :f, #rev = if_not_exists(#rev, :0) + :1, #at = :at',
          ExpressionAttributeNames: { '#f': 'f', '#rev': 'rev', '#at': 'at' },
          ExpressionAttributeValues: {
            ':f': marshallFields({ ...FIELDS, count: i }),
            ':0': { N: '0' },
            ':1': { N: '1' },
            ':at': now(),
          },
        });
        return async () => void (await client.send(cmd));
      },
    },
    {
      name: 'patch If-Match',
      baseline: 'UpdateItem SET f.count, rev + 1, at IF rev = :seen; ReturnValues ALL_NEW',
      vesta: (i) => {
        const run = call('PATCH', 'patch', { set: { count: i } }, { 'if-match': etag });
        return async () => {
          etag = expect(await run(), [200], 'PATCH If-Match').etag ?? '';
        };
      },
      raw: (i) => {
        const cmd = update('patch', {
          UpdateExpression: 'SET #f.#c = :c, #rev = #rev + :1, #at = :at',
          ConditionExpression: '#rev = :rev',
          ExpressionAttributeNames: { '#f': 'f', '#c': 'count', '#rev': 'rev', '#at': 'at' },
          ExpressionAttributeValues: {
            ':c': { N: String(i) },
            ':1': { N: '1' },
            ':rev': { N: String(rev) },
            ':at': now(),
          },
        });
        return async () => {
          rev = Number((await client.send(cmd)).Attributes!.rev.N);
        };
      },
    },
    {
      name: 'increment',
      baseline: 'UpdateItem SET f.n = if_not_exists(f.n, 0) + 1; ReturnValues ALL_NEW',
      vesta: () => {
        const run = call('PATCH', 'incr', { increment: { n: 1 } });
        return async () => void expect(await run(), [200], 'PATCH increment');
      },
      raw: () => {
        const cmd = update('incr', {
          UpdateExpression: 'SET #f.#n = if_not_exists(#f.#n, :0) + :1',
          ExpressionAttributeNames: { '#f': 'f', '#n': 'n' },
          ExpressionAttributeValues: { ':0': { N: '0' }, ':1': { N: '1' } },
        });
        return async () => void (await client.send(cmd));
      },
    },
  ];
}

/** Both sides must have done every write: rev after the patches, the counter after the increments. */
async function checkOutcome(client: DynamoDBClient, table: string, patches: number, increments: number): Promise<void> {
  const item = async (key: string): Promise<Item> =>
    (await client.send(new GetItemCommand({ TableName: table, Key: keyOf(NS, key), ConsistentRead: true }))).Item!;
  const [patched, rawPatched, incr, rawIncr] = await Promise.all(['patch', 'raw-patch', 'incr', 'raw-incr'].map(item));
  const checks: Array<[string, string | undefined, number]> = [
    ['vesta patch rev', patched.rev.N, 1 + patches],
    ['raw patch rev', rawPatched.rev.N, 1 + patches],
    ['vesta counter', incr.f.M?.n.N, increments],
    ['raw counter', rawIncr.f.M?.n.N, increments],
  ];
  for (const [what, got, want] of checks) {
    if (Number(got) !== want) throw new Error(`outcome check: ${what} is ${got}, expected ${want}`);
  }
}

async function bench(ddb: DynamoDbLocal, bundle: BundleSize): Promise<void> {
  const vestaClient = localClient(ddb.endpoint);
  const rawClient = localClient(ddb.endpoint);
  try {
    const tables = await ensureTables(rawClient, 'vesta-bench');
    const table = tables[RECORDS_TABLE.envVar];
    const vestaRequests = new RequestCounter();
    const rawRequests = new RequestCounter();
    vestaRequests.attach(vestaClient);
    rawRequests.attach(rawClient);
    const handler = createApiHandler(
      wireApi({ client: vestaClient, env: { ...tables, VESTA_REPLICA: 'local' }, workflows: NO_WORKFLOWS }),
    );
    const ops = await operations(records(handler), rawClient, table);

    const sides = ops.map(
      (op) => [new Contender(op.vesta, vestaRequests), new Contender(op.raw, rawRequests)] as const,
    );
    for (const [vesta, raw] of sides) await warmUp(vesta, raw, WARMUP);
    const rows: OpResult[] = [];
    for (const [i, [vesta, raw]] of sides.entries()) {
      await warmUp(vesta, raw, REWARM);
      const [v, r] = await compare(vesta, raw, { iterations: ITERATIONS, blockSize: BLOCK });
      rows.push({ op: ops[i].name, vesta: v, raw: r, ratio: { p50: v.p50 / r.p50, p99: v.p99 / r.p99 } });
    }
    const runs = (name: string) => sides[ops.findIndex((o) => o.name === name)][0].runs;
    await checkOutcome(rawClient, table, runs('patch If-Match'), runs('increment'));

    const leases = await leaseBench({
      endpoint: ddb.endpoint,
      handler,
      vestaRequests,
      rawClient,
      rawRequests,
      controlTable: tables[CONTROL_TABLE.envVar],
      settings: { iterations: ITERATIONS, warmup: WARMUP, rewarm: REWARM, blockSize: BLOCK },
    });

    const snapshots = await snapshotBench(rawClient);
    const changes = await changesBench(ddb.endpoint);

    const load = loadavg();
    console.log(formatTable(rows));
    console.log('');
    console.log(leases.text);
    console.log('');
    console.log(snapshots.text);
    console.log('');
    console.log(changes.text);
    console.log('');
    console.log(
      `API Lambda bundle (${bundle.entry}, esbuild minified, node24, @aws-sdk/* external): ${bundle.bytes} bytes, ${bundle.gzipBytes} bytes gzipped`,
    );

    const cpu = cpus();
    const results = {
      generatedAt: new Date().toISOString(),
      environment: {
        node: process.version,
        platform: platform(),
        arch: arch(),
        cpus: cpu.length,
        cpuModel: cpu[0]?.model ?? 'unknown',
        loadAverageAtEnd: load.map((x) => Number(x.toFixed(2))),
      },
      settings: {
        iterations: ITERATIONS,
        warmup: WARMUP,
        rewarm: REWARM,
        blockSize: BLOCK,
        store: 'DynamoDB Local (in memory, sharedDb)',
      },
      unit: 'ms',
      baselines: Object.fromEntries(ops.map((o) => [o.name, o.baseline])),
      operations: rows,
      leases: {
        baselines: leases.baselines,
        operations: leases.leases,
      },
      locks: {
        baselines: { [leases.locks[0].op]: leases.baselines[leases.locks[0].op] },
        library: leases.library,
        note: 'In these operations, "raw" is the library.',
        operations: leases.locks,
      },
      snapshots,
      changes,
      bundle,
    };
    mkdirSync(dirname(RESULTS_FILE), { recursive: true });
    writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
    console.log(
      `load average at the end (1, 5, 15 min): ${load.map((x) => x.toFixed(2)).join(', ')} on ${cpu.length} CPUs`,
    );
    console.log(`results written to ${relative(ROOT, RESULTS_FILE)}`);
  } finally {
    vestaClient.destroy();
    rawClient.destroy();
  }
}

/** `BENCH_ONLY=snapshots`: the snapshot export part alone. */
async function snapshotsOnly(ddb: DynamoDbLocal): Promise<void> {
  const client = localClient(ddb.endpoint);
  try {
    const result = await snapshotBench(client);
    console.log(result.text);
    const file = resolve(__dirname, 'results', 'snapshots.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      `${JSON.stringify({ generatedAt: new Date().toISOString(), cpus: cpus().length, loadAverageAtEnd: loadavg(), ...result }, null, 2)}\n`,
    );
    console.log(`results written to ${relative(ROOT, file)}`);
  } finally {
    client.destroy();
  }
}

/** `BENCH_ONLY=changes`: the change feed part alone. */
async function changesOnly(ddb: DynamoDbLocal): Promise<void> {
  const result = await changesBench(ddb.endpoint);
  console.log(result.text);
  const file = resolve(__dirname, 'results', 'changes.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify({ generatedAt: new Date().toISOString(), cpus: cpus().length, loadAverageAtEnd: loadavg(), ...result }, null, 2)}\n`,
  );
  console.log(`results written to ${relative(ROOT, file)}`);
}

async function main(): Promise<void> {
  const bundle = await bundleSize(ROOT, 'lambdas/api.ts');
  console.log(
    `Vesta records benchmark: ${ITERATIONS} timed iterations per side and operation (after ${WARMUP} + ${REWARM} warm-up), alternating blocks of ${BLOCK}`,
  );
  let ddb: DynamoDbLocal | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`${signal}: stopping DynamoDB Local`);
    void (ddb?.stop() ?? Promise.resolve()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    ddb = await startDynamoDbLocal();
    if (process.env.BENCH_ONLY === 'snapshots') await snapshotsOnly(ddb);
    else if (process.env.BENCH_ONLY === 'changes') await changesOnly(ddb);
    else await bench(ddb, bundle);
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
