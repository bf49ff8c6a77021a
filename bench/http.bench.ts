import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type Item, keyOf } from '../src/adapters/dynamodb/codec';
import { RECORDS_TABLE } from '../src/adapters/dynamodb/table-defs';
import { ensureTables } from '../src/local/bootstrap-tables';
import { localClient } from '../src/local/dynamodb-local';
import { CountingProxy } from './ddb-proxy';
import { type Call, expectStatus } from './gateway';
import { Contender, type OpResult, RequestCounter, compare, formatTable, percentile, warmUp } from './lib';
import { FIELDS, type OpName, operations, recordsOf } from './record-ops';
import { type CostPhase, costPhases, formatCost } from './http-cost';
import { type Stack, forSeconds, httpCall, startStack } from './http-stack';

const CLIENTS = Number(process.env.BENCH_CONTENTION_CLIENTS ?? 32);
const CONTENTION_SECONDS = Number(process.env.BENCH_CONTENTION_SECONDS ?? 5);
const CONTENTION_ROUNDS = Number(process.env.BENCH_CONTENTION_ROUNDS ?? 2);
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

export type { CostPhase } from './http-cost';
export { httpCall } from './http-stack';

export interface HttpBenchResult {
  readonly stack: { readonly how: string; readonly startSeconds: number };
  readonly baselines: Record<string, string>;
  readonly latency: OpResult[];
  readonly contention: {
    readonly clients: number;
    readonly rounds: number;
    readonly secondsPerRound: number;
    readonly vesta: ContentionSide & { readonly failures: Record<string, number> };
    /** One conditional UpdateItem per increment, added on the server: what the target compares with. */
    readonly raw: ContentionSide;
    /** Read, then a conditional write on the version read, again on a conflict: shown for comparison. */
    readonly readThenWrite: ContentionSide & { readonly conflictsPerOp: number };
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
  /**
   * The raw counterpart of Vesta's increment: one conditional UpdateItem that adds on the server
   * (the record must exist), and moves the version and the time, as an application would write it.
   */
  const rawOnce = async () => {
    const t0 = performance.now();
    await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: rawKey,
        UpdateExpression: 'SET #f.#n = if_not_exists(#f.#n, :0) + :1, #rev = #rev + :1, #at = :at',
        ConditionExpression: 'attribute_exists(#f)',
        ExpressionAttributeNames: { '#f': 'f', '#n': 'n', '#rev': 'rev', '#at': 'at' },
        ExpressionAttributeValues: { ':0': { N: '0' }, ':1': { N: '1' }, ':at': { S: new Date().toISOString() } },
      }),
    );
    return performance.now() - t0;
  };
  /** For comparison only: read, then write the counter if the version is still the one read; again on a conflict. */
  const casOnce = async () => {
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
  await forSeconds(CLIENTS, 1, casOnce);
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
    cas: [] as Awaited<ReturnType<typeof forSeconds>>[],
  };
  for (let round = 0; round < CONTENTION_ROUNDS; round++) {
    const order = ['raw', 'vesta', 'cas'] as const;
    for (const side of round % 2 === 0 ? order : ([...order].reverse() as (typeof order)[number][]))
      runs[side].push(
        await forSeconds(CLIENTS, CONTENTION_SECONDS, { raw: rawOnce, vesta: vestaOnce, cas: casOnce }[side]),
      );
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
  const cas = sum(runs.cas);
  const [vestaEnd, rawEnd] = [await counter(keyOf('hot', 'counter')), await counter(rawKey)];
  if (vestaEnd - vestaStart !== vesta.ops || rawEnd - rawStart !== raw.ops + cas.ops)
    throw new Error(
      `outcome check: the counters grew by ${vestaEnd - vestaStart} (Vesta) and ${rawEnd - rawStart} (raw), for ${vesta.ops} and ${raw.ops + cas.ops} increments`,
    );
  return {
    clients: CLIENTS,
    rounds: CONTENTION_ROUNDS,
    secondsPerRound: CONTENTION_SECONDS,
    vesta: { ...vesta, failures: { ...failures } },
    raw,
    readThenWrite: { ...cas, conflictsPerOp: Number((conflicts / Math.max(1, cas.ops)).toFixed(2)) },
    ratio: Number((vesta.opsPerSecond / raw.opsPerSecond).toFixed(2)),
  };
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
      `  raw conditional UpdateItem : ${hot.raw.opsPerSecond} ops/s (p50 ${hot.raw.p50} ms, p99 ${hot.raw.p99} ms)`,
      `  ratio vesta/raw            : ${hot.ratio}x ops/s`,
      `  (raw read + conditional write on the version, again on a conflict: ${hot.readThenWrite.opsPerSecond} ops/s, p50 ${hot.readThenWrite.p50} ms, ${hot.readThenWrite.conflictsPerOp} conflicts per increment)`,
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
