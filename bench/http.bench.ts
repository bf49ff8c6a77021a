/**
 * The local stack over HTTP, run by `npm run bench` (records.bench.ts) on the same DynamoDB Local,
 * or alone with `BENCH_ONLY=http`.
 *
 * The stack is started as `npm start` starts it (`tsx bin/local.ts`, a child process, on a free
 * port with a data folder of its own), with AWS_ENDPOINT_URL_DYNAMODB pointing at a counting proxy
 * (ddb-proxy.ts) in front of the bench's DynamoDB Local: every request of every client of the
 * stack (API, change feed and its stream reads) passes through it. The lease jobs are off
 * (VESTA_LEASE_JOBS_SECONDS=0). The raw side's client goes through a proxy of its own, so both
 * sides pay the same extra hop.
 *
 * - Latency: get, put with If-Match and patch (increment) over HTTP (keep-alive connections)
 *   against the raw SDK call on a copy of the same item, alternating blocks after warm-up, as the
 *   handler bench does. The Vesta side's requests per operation are the stack's DynamoDB table
 *   requests over the operations, the change feed's included.
 * - Contention: BENCH_CONTENTION_CLIENTS clients (default 32) increment one key for
 *   BENCH_CONTENTION_SECONDS (default 5) per round, BENCH_CONTENTION_ROUNDS rounds (default 2),
 *   alternating: Vesta with `PATCH {increment}`, the raw side as an application would without an
 *   atomic increment (GetItem, then UpdateItem of the counter and a version attribute conditioned
 *   on the version read, again from the read on ConditionalCheckFailed).
 * - Cost per write: with the proxy recording, BENCH_COST_OPS (default 100) sequential PUTs with
 *   If-Match, then as many sequential PATCH increments, then BENCH_LOAD_OPS (default 2,000) PUTs and
 *   PATCHes from 32 concurrent clients on 1,000 keys in 4 namespaces; after each, the change feed
 *   is waited for (no write for 2 s). Requests are split by table: those on the change table (or
 *   the dead letters) are the change feed's, the rest the API's. WCU: wcu.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type Item, keyOf } from '../src/adapters/dynamodb/codec';
import { CHANGES_TABLE, DEAD_LETTERS_TABLE, RECORDS_TABLE } from '../src/adapters/dynamodb/table-defs';
import { ensureTables } from '../src/local/bootstrap-tables';
import { freePort, localClient } from '../src/local/dynamodb-local';
import { CountingProxy, type Recorded, isWrite } from './ddb-proxy';
import { type Call, type Reply, expectStatus } from './gateway';
import { Contender, type OpResult, RequestCounter, compare, formatTable, percentile, warmUp } from './lib';
import { FIELDS, type OpName, operations, recordsOf } from './record-ops';
import { type Unsized, type WriteCost, itemSize, tablesOf, wcuOf, writeCosts } from './wcu';

const ROOT = resolve(__dirname, '..');
const CLIENTS = Number(process.env.BENCH_CONTENTION_CLIENTS ?? 32);
const CONTENTION_SECONDS = Number(process.env.BENCH_CONTENTION_SECONDS ?? 5);
const CONTENTION_ROUNDS = Number(process.env.BENCH_CONTENTION_ROUNDS ?? 2);
const COST_OPS = Number(process.env.BENCH_COST_OPS ?? 100);
const LOAD_OPS = Number(process.env.BENCH_LOAD_OPS ?? 2000);
const LOAD_CLIENTS = 32;
const LOAD_KEYS = 1000;
const LOAD_NAMESPACES = 4;
/** The change feed is done when no write has passed the proxy for this long. */
const QUIET_MS = 2000;
const HTTP_OPS: readonly OpName[] = ['get', 'put If-Match', 'increment'];
const NS = 'http';

export interface HttpSettings {
  readonly iterations: number;
  readonly warmup: number;
  readonly rewarm: number;
  readonly blockSize: number;
}

export interface ContentionSide {
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
}

export interface CostPhase {
  readonly phase: string;
  /** Writes answered 2xx (each a change). */
  readonly committed: number;
  readonly failed: number;
  readonly perOp: {
    /** Every DynamoDB request of the API (reads too). */
    readonly apiRequests: number;
    readonly apiWcu: number;
    readonly feedWriteRequests: number;
    readonly feedReadRequests: number;
    readonly feedWcu: number;
  };
  /** Stream requests (GetRecords, GetShardIterator, ...) over the phase, polling included. */
  readonly streamRequests: number;
  readonly byTarget: Record<string, number>;
}

export interface HttpBenchResult {
  readonly stack: { readonly how: string; readonly startSeconds: number };
  readonly baselines: Record<string, string>;
  readonly latency: OpResult[];
  readonly contention: {
    readonly clients: number;
    readonly rounds: number;
    readonly secondsPerRound: number;
    readonly vesta: ContentionSide & { readonly failures: Record<string, number> };
    readonly raw: ContentionSide & { readonly conflictsPerOp: number };
    readonly ratio: number;
  };
  readonly cost: CostPhase[];
  readonly text: string;
}

/** Counts the stack's DynamoDB table requests (not stream reads) through its proxy, for `Contender`. */
class ProxyCounter extends RequestCounter {
  public constructor(private readonly proxy: CountingProxy) {
    super();
  }

  public override reset(): void {
    this.proxy.reset();
  }

  public override snapshot(): { total: number; byCommand: Record<string, number> } {
    const byCommand = Object.fromEntries(
      Object.entries(this.proxy.byTarget)
        .filter(([t]) => t.startsWith('DynamoDB_'))
        .map(([t, n]) => [`${t.slice(t.indexOf('.') + 1)}Command`, n]),
    );
    return { total: Object.values(byCommand).reduce((a, b) => a + b, 0), byCommand };
  }
}

/** HTTP requests to the stack on keep-alive connections; the body is built untimed. */
export function httpCall(base: string, agent: Agent): Call {
  const url = new URL(base);
  return (method, path, body, extra = {}) => {
    const raw = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    if (raw) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(raw.length) });
    return () =>
      new Promise<Reply>((ok, fail) => {
        const req = request({ host: url.hostname, port: url.port, method, path, headers, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const etag = res.headers.etag;
            ok({
              status: res.statusCode ?? 0,
              etag: typeof etag === 'string' ? etag : undefined,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
          res.on('error', fail);
        });
        req.on('error', fail);
        req.end(raw);
      });
  };
}

interface Stack {
  readonly url: string;
  readonly startSeconds: number;
  stop(): Promise<void>;
}

/** `npm start`'s command in a child process, its DynamoDB at `dynamoEndpoint`. */
async function startStack(dynamoEndpoint: string): Promise<Stack> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'vesta-bench-stack-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    VESTA_DATA_DIR: dataDir,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    VESTA_LEASE_JOBS_SECONDS: '0',
    LOG_LEVEL: 'WARN',
  };
  // DynamoDB Local with the local credentials, as `npm start` uses it.
  for (const k of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_ENDPOINT_URL',
  ])
    delete env[k];
  const t0 = performance.now();
  const child: ChildProcess = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), ['bin/local.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = sleep(10_000).then(() => child.kill('SIGKILL'));
      await Promise.race([exited, killed]);
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (const end = Date.now() + 120_000; ; ) {
      const m = /ready at (http:\/\/\S+)\/v1/.exec(out);
      if (m) return { url: m[1], startSeconds: Number(((performance.now() - t0) / 1000).toFixed(1)), stop };
      if (child.exitCode !== null) throw new Error(`the local stack exited: ${out}`);
      if (Date.now() > end) throw new Error(`the local stack was not ready in 120 s: ${out}`);
      await sleep(100);
    }
  } catch (e) {
    await stop();
    throw e;
  }
}

async function waitQuiet(proxy: CountingProxy): Promise<void> {
  const end = Date.now() + 120_000;
  while (Date.now() - proxy.lastWriteAt < QUIET_MS) {
    if (Date.now() > end) throw new Error('the change feed kept writing for 120 s');
    await sleep(200);
  }
}

/** Runs `loop(client)` for each of `clients` until `seconds` have passed; the last operations finish. */
async function forSeconds(
  clients: number,
  seconds: number,
  once: (client: number) => Promise<number | undefined>,
): Promise<{ ops: number; seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (performance.now() < end) {
        const ms = await once(c);
        if (ms !== undefined) latencies.push(ms);
      }
    }),
  );
  return { ops: latencies.length, seconds: (performance.now() - t0) / 1000, latencies };
}

async function contention(call: Call, client: DynamoDBClient, table: string): Promise<HttpBenchResult['contention']> {
  const hot = recordsOf(call, 'hot');
  expectStatus(await hot('PUT', 'counter', { fields: FIELDS })(), [201], 'seed the hot key');
  const copy = (
    await client.send(new GetItemCommand({ TableName: table, Key: keyOf('hot', 'counter'), ConsistentRead: true }))
  ).Item!;
  const rawKey = keyOf('hot', 'raw-counter');
  await client.send(new PutItemCommand({ TableName: table, Item: { ...copy, ...rawKey } }));

  const failures: Record<string, number> = {};
  let conflicts = 0;
  const vestaOnce = async () => {
    const run = hot('PATCH', 'counter', { increment: { n: 1 } });
    const t0 = performance.now();
    const reply = await run();
    if (reply.status === 200) return performance.now() - t0;
    failures[String(reply.status)] = (failures[String(reply.status)] ?? 0) + 1;
    return undefined;
  };
  /** Read, then write the counter and the version if the version is still the one read; again on a conflict. */
  const rawOnce = async () => {
    const t0 = performance.now();
    for (;;) {
      const item = (await client.send(new GetItemCommand({ TableName: table, Key: rawKey, ConsistentRead: true })))
        .Item!;
      const rev = Number(item.rev.N);
      const n = Number(item.f.M?.n?.N ?? 0);
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: rawKey,
            UpdateExpression: 'SET #f.#n = :n, #rev = :next, #at = :at',
            ConditionExpression: '#rev = :rev',
            ExpressionAttributeNames: { '#f': 'f', '#n': 'n', '#rev': 'rev', '#at': 'at' },
            ExpressionAttributeValues: {
              ':n': { N: String(n + 1) },
              ':next': { N: String(rev + 1) },
              ':rev': { N: String(rev) },
              ':at': { S: new Date().toISOString() },
            },
          }),
        );
        return performance.now() - t0;
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
        conflicts++;
      }
    }
  };
  // Warm-up, not recorded: one second each.
  await forSeconds(CLIENTS, 1, vestaOnce);
  await forSeconds(CLIENTS, 1, rawOnce);
  conflicts = 0;
  for (const k of Object.keys(failures)) delete failures[k];
  const counter = async (key: Item) =>
    Number(
      (await client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item!.f.M!.n.N,
    );
  const [vestaStart, rawStart] = [await counter(keyOf('hot', 'counter')), await counter(rawKey)];
  const runs = {
    vesta: [] as Awaited<ReturnType<typeof forSeconds>>[],
    raw: [] as Awaited<ReturnType<typeof forSeconds>>[],
  };
  for (let round = 0; round < CONTENTION_ROUNDS; round++) {
    for (const side of round % 2 === 0 ? (['raw', 'vesta'] as const) : (['vesta', 'raw'] as const))
      runs[side].push(await forSeconds(CLIENTS, CONTENTION_SECONDS, side === 'raw' ? rawOnce : vestaOnce));
  }
  const sum = (list: Awaited<ReturnType<typeof forSeconds>>[]): ContentionSide => {
    const ops = list.reduce((a, r) => a + r.ops, 0);
    const seconds = list.reduce((a, r) => a + r.seconds, 0);
    const sorted = list.flatMap((r) => r.latencies).sort((a, b) => a - b);
    return {
      ops,
      seconds: Number(seconds.toFixed(2)),
      opsPerSecond: Math.round(ops / seconds),
      p50: Number(percentile(sorted, 50).toFixed(2)),
      p99: Number(percentile(sorted, 99).toFixed(2)),
    };
  };
  const vesta = sum(runs.vesta);
  const raw = sum(runs.raw);
  const [vestaEnd, rawEnd] = [await counter(keyOf('hot', 'counter')), await counter(rawKey)];
  if (vestaEnd - vestaStart !== vesta.ops || rawEnd - rawStart !== raw.ops)
    throw new Error(
      `outcome check: the counters grew by ${vestaEnd - vestaStart} (Vesta) and ${rawEnd - rawStart} (raw), for ${vesta.ops} and ${raw.ops} increments`,
    );
  return {
    clients: CLIENTS,
    rounds: CONTENTION_ROUNDS,
    secondsPerRound: CONTENTION_SECONDS,
    vesta: { ...vesta, failures: { ...failures } },
    raw: { ...raw, conflictsPerOp: Number((conflicts / Math.max(1, raw.ops)).toFixed(2)) },
    ratio: Number((vesta.opsPerSecond / raw.opsPerSecond).toFixed(2)),
  };
}

/** What the recorded requests of a phase cost, per committed write. */
async function costOf(
  phase: string,
  recorded: readonly Recorded[],
  committed: number,
  failed: number,
  feedTables: ReadonlySet<string>,
  sizeOf: (u: Unsized) => Promise<number | undefined>,
): Promise<CostPhase> {
  let apiRequests = 0;
  let feedWrites = 0;
  let feedReads = 0;
  let streamRequests = 0;
  const apiCosts: WriteCost[] = [];
  const feedCosts: WriteCost[] = [];
  const byTarget: Record<string, number> = {};
  for (const r of recorded) {
    byTarget[r.target] = (byTarget[r.target] ?? 0) + 1;
    if (!r.target.startsWith('DynamoDB_')) {
      streamRequests++;
      continue;
    }
    const feed = tablesOf(r).some((t) => feedTables.has(t));
    const write = isWrite(r.target);
    if (feed && write) feedWrites++;
    else if (feed) feedReads++;
    else apiRequests++;
    if (write) (feed ? feedCosts : apiCosts).push(...writeCosts(r));
  }
  const per = (n: number) => Number((n / Math.max(1, committed)).toFixed(3));
  return {
    phase,
    committed,
    failed,
    perOp: {
      apiRequests: per(apiRequests),
      apiWcu: per(await wcuOf(apiCosts, sizeOf)),
      feedWriteRequests: per(feedWrites),
      feedReadRequests: per(feedReads),
      feedWcu: per(await wcuOf(feedCosts, sizeOf)),
    },
    streamRequests,
    byTarget,
  };
}

async function costPhases(
  call: Call,
  proxy: CountingProxy,
  client: DynamoDBClient,
  tables: Record<string, string>,
): Promise<CostPhase[]> {
  const feedTables = new Set([tables[CHANGES_TABLE.envVar], tables[DEAD_LETTERS_TABLE.envVar]]);
  const sizes = new Map<string, number | undefined>();
  const sizeOf = async (u: Unsized) => {
    const id = `${u.table} ${JSON.stringify(u.key)}`;
    if (!sizes.has(id)) {
      const out = await client.send(
        new GetItemCommand({ TableName: u.table, Key: u.key as never, ConsistentRead: true }),
      );
      sizes.set(id, out.Item ? itemSize(out.Item as never) : undefined);
    }
    return sizes.get(id);
  };
  const phases: CostPhase[] = [];
  const measure = async (phase: string, run: () => Promise<{ committed: number; failed: number }>) => {
    await waitQuiet(proxy);
    proxy.reset();
    proxy.record = true;
    const { committed, failed } = await run();
    await waitQuiet(proxy);
    proxy.record = false;
    phases.push(await costOf(phase, proxy.recorded, committed, failed, feedTables, sizeOf));
    proxy.reset();
  };

  const cost = recordsOf(call, 'cost');
  const keys = Array.from({ length: 10 }, (_, i) => `c${i}`);
  const etags: Record<string, string> = {};
  for (const k of keys) etags[k] = expectStatus(await cost('PUT', k, { fields: FIELDS })(), [201], 'seed').etag ?? '';
  const sequential = (body: (k: string, i: number) => [string, unknown, Record<string, string>]) => async () => {
    let committed = 0;
    let failed = 0;
    for (let i = 0; i < COST_OPS; i++) {
      const k = keys[i % keys.length];
      const [method, b, extra] = body(k, i);
      const reply = await cost(method, k, b, extra)();
      if (reply.status === 200 || reply.status === 201) {
        committed++;
        etags[k] = reply.etag ?? '';
      } else failed++;
    }
    return { committed, failed };
  };
  await measure(
    `PUT with If-Match, ${COST_OPS} sequential`,
    sequential((k, i) => ['PUT', { fields: { ...FIELDS, count: i } }, { 'if-match': etags[k] }]),
  );
  await measure(
    `PATCH increment, ${COST_OPS} sequential`,
    sequential(() => ['PATCH', { increment: { n: 1 } }, {}]),
  );

  // Under load: 32 clients, PUTs and PATCHes on keys seeded first.
  const loadKey = (n: number) => [`load${n % LOAD_NAMESPACES}`, `k${n}`] as const;
  let seeded = 0;
  await Promise.all(
    Array.from({ length: LOAD_CLIENTS }, async () => {
      while (seeded < LOAD_KEYS) {
        const [ns, k] = loadKey(seeded++);
        expectStatus(await recordsOf(call, ns)('PUT', k, { fields: FIELDS })(), [201], 'seed');
      }
    }),
  );
  await measure(
    `PUT and PATCH from ${LOAD_CLIENTS} clients, ${LOAD_OPS} on ${LOAD_KEYS} keys in ${LOAD_NAMESPACES} namespaces`,
    async () => {
      let started = 0;
      let committed = 0;
      let failed = 0;
      await Promise.all(
        Array.from({ length: LOAD_CLIENTS }, async () => {
          while (started < LOAD_OPS) {
            const i = started++;
            const [ns, k] = loadKey(Math.floor(Math.random() * LOAD_KEYS));
            const run =
              i % 2 === 0
                ? recordsOf(call, ns)('PUT', k, { fields: { ...FIELDS, count: i } })
                : recordsOf(call, ns)('PATCH', k, { increment: { n: 1 } });
            const reply = await run();
            if (reply.status === 200 || reply.status === 201) committed++;
            else failed++;
          }
        }),
      );
      return { committed, failed };
    },
  );
  return phases;
}

function formatCost(phases: readonly CostPhase[]): string {
  const head = [
    'phase',
    'committed',
    'API req/op',
    'API WCU/op',
    'feed writes/op',
    'feed reads/op',
    'feed WCU/op',
    'stream req',
  ];
  const body = phases.map((p) => [
    p.phase,
    String(p.committed) + (p.failed ? ` (+${p.failed} failed)` : ''),
    p.perOp.apiRequests.toFixed(2),
    p.perOp.apiWcu.toFixed(2),
    p.perOp.feedWriteRequests.toFixed(2),
    p.perOp.feedReadRequests.toFixed(2),
    p.perOp.feedWcu.toFixed(2),
    String(p.streamRequests),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export async function httpBench(endpoint: string, settings: HttpSettings): Promise<HttpBenchResult> {
  const stackProxy = new CountingProxy(endpoint);
  const rawProxy = new CountingProxy(endpoint);
  await stackProxy.start();
  await rawProxy.start();
  const rawClient = localClient(rawProxy.endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let stack: Stack | undefined;
  try {
    stack = await startStack(stackProxy.endpoint);
    const tables = await ensureTables(rawClient, 'vesta-local');
    const table = tables[RECORDS_TABLE.envVar];
    const call = httpCall(stack.url, agent);
    const rawRequests = new RequestCounter();
    rawRequests.attach(rawClient);
    const vestaRequests = new ProxyCounter(stackProxy);

    const ops = await operations(recordsOf(call, NS), rawClient, table, HTTP_OPS, NS);
    const sides = ops.map(
      (op) => [new Contender(op.vesta, vestaRequests), new Contender(op.raw, rawRequests)] as const,
    );
    for (const [vesta, raw] of sides) await warmUp(vesta, raw, settings.warmup);
    const latency: OpResult[] = [];
    for (const [i, [vesta, raw]] of sides.entries()) {
      await warmUp(vesta, raw, settings.rewarm);
      const [v, r] = await compare(vesta, raw, { iterations: settings.iterations, blockSize: settings.blockSize });
      latency.push({ op: ops[i].name, vesta: v, raw: r, ratio: { p50: v.p50 / r.p50, p99: v.p99 / r.p99 } });
    }
    const incr = sides[HTTP_OPS.indexOf('increment')];
    const counters = await Promise.all(
      ['incr', 'raw-incr'].map(
        async (k) =>
          (await rawClient.send(new GetItemCommand({ TableName: table, Key: keyOf(NS, k), ConsistentRead: true })))
            .Item!.f.M?.n?.N,
      ),
    );
    if (Number(counters[0]) !== incr[0].runs || Number(counters[1]) !== incr[1].runs)
      throw new Error(
        `outcome check: counters ${counters.join(', ')} after ${incr[0].runs} and ${incr[1].runs} increments`,
      );

    const hot = await contention(call, rawClient, table);
    const cost = await costPhases(call, stackProxy, rawClient, tables);
    const text = [
      `Local stack over HTTP (\`tsx bin/local.ts\` as \`npm start\` runs it, in a child process; ready in ${stack.startSeconds} s); both sides' DynamoDB requests pass a counting proxy; Vesta req/op includes the change feed's table requests:`,
      formatTable(latency),
      '',
      `${CLIENTS} clients incrementing one key, ${CONTENTION_ROUNDS} rounds of ${CONTENTION_SECONDS} s per side, alternating:`,
      `  vesta PATCH increment      : ${hot.vesta.opsPerSecond} ops/s (p50 ${hot.vesta.p50} ms, p99 ${hot.vesta.p99} ms)${Object.keys(hot.vesta.failures).length ? `, failed ${JSON.stringify(hot.vesta.failures)}` : ''}`,
      `  raw read + conditional write: ${hot.raw.opsPerSecond} ops/s (p50 ${hot.raw.p50} ms, p99 ${hot.raw.p99} ms), ${hot.raw.conflictsPerOp} conflicts per increment`,
      `  ratio vesta/raw            : ${hot.ratio}x ops/s`,
      '',
      'Cost per committed write, the change feed included (requests through the proxy; WCU computed as DynamoDB bills):',
      formatCost(cost),
    ].join('\n');
    return {
      stack: { how: 'tsx bin/local.ts in a child process, as npm start runs it', startSeconds: stack.startSeconds },
      baselines: Object.fromEntries(ops.map((o) => [o.name, o.baseline])),
      latency,
      contention: hot,
      cost,
      text,
    };
  } finally {
    await stack?.stop();
    agent.destroy();
    rawClient.destroy();
    await stackProxy.stop();
    await rawProxy.stop();
  }
}
