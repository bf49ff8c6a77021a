/**
 * The change feed, run by `npm run bench` (records.bench.ts) on the same DynamoDB Local, on table
 * sets of its own so that their streams hold only the benchmark's writes.
 *
 * - Publisher throughput: BENCH_CHANGES_RECORDS records (default 10,000) in 10 namespaces are
 *   written with raw BatchWriteItem, then their stream is drained from the start, alternately,
 *   BENCH_CHANGES_ROUNDS times per contender (default 2; best round reported):
 *   - vesta: the local stack's StreamPoller + publishBatch + LocalEventBus (no log), at
 *     parallelism 1 and 2, each run into a change table of its own;
 *   - raw: the least any publisher must do: GetRecords in batches of the same size, and one item
 *     per change (the same change detail) put with BatchWriteItem into a plain table of the change
 *     table's key schema (keyed by stream sequence number: no numbering, no dedupe, no order).
 *   The publisher's DynamoDB requests are counted by a middleware on its client.
 * - Watch latency: with the poller running, a writer makes BENCH_CHANGES_WRITES sequential PUTs
 *   (default 300) through the API handler, a small random pause before each, and a watcher
 *   long-polls `GET /v1/ns/{ns}/changes?wait=20` through the handler: the time from each PUT's
 *   answer to the watcher receiving the change (the publisher's appends wake the long poll through
 *   the local stack's change signal). The floor is the same with the poller stopped and
 *   the watcher replaced by GetRecords polling the stream directly (the part that is the stream).
 *   That part is in changes-watch.ts.
 */
import { performance } from 'node:perf_hooks';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type WriteRequest,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, GetRecordsCommand } from '@aws-sdk/client-dynamodb-streams';
import { wireChangePublisher } from '../src/api/wiring';
import { errorName } from '../src/adapters/dynamodb/errors';
import { changeFromStreamRecord } from '../src/adapters/dynamodb/stream-records';
import { CHANGES_TABLE, RECORDS_TABLE } from '../src/adapters/dynamodb/table-defs';
import { LocalEventBus } from '../src/adapters/events/local-bus';
import { publishBatch } from '../src/events/publisher';
import { createTableInput, ensureTables } from '../src/local/bootstrap-tables';
import { LOCAL_CREDENTIALS, localClient } from '../src/local/dynamodb-local';
import { BATCH_SIZE, StreamPoller } from '../src/local/stream-poller';
import { type Latency, PAUSE_MS, WRITES, shardIterators, watchLatency } from './changes-watch';
import { RequestCounter, seededRecordItem } from './lib';

const RECORDS = Number(process.env.BENCH_CHANGES_RECORDS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_CHANGES_ROUNDS ?? 2);
const NAMESPACES = 10;
export interface Throughput {
  readonly changesPerSecond: number;
  readonly seconds: number;
  /** DynamoDB table requests (stream reads not included) per 100 changes, by command. */
  readonly requestsPer100: number;
  readonly requestsPer100ByCommand: Record<string, number>;
  /** Failed requests by error name (contention on a namespace's head, throttling). */
  readonly failures: Record<string, number>;
}

export interface ChangesBenchResult {
  readonly records: number;
  readonly namespaces: number;
  readonly rounds: number;
  readonly batchSize: number;
  readonly seedSeconds: number;
  readonly publisher: {
    readonly raw: Throughput;
    readonly vesta: Record<string, Throughput & { readonly ratioToRaw: number }>;
  };
  readonly watch: {
    readonly writes: number;
    readonly pauseMs: number;
    readonly unit: 'ms';
    readonly vesta: Latency;
    readonly floor: Latency;
    readonly ratio: { readonly p50: number; readonly p99: number };
  };
  readonly text: string;
}

/** Counts failed requests by error name (and a cancelled transaction's reason on the head), every attempt. */
function failureCounter(client: DynamoDBClient): Record<string, number> {
  const failures: Record<string, number> = {};
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (e) {
        // A cancelled append names why by its first item, the namespace head: moved (ConditionalCheckFailed) or in use (TransactionConflict).
        const reason = (e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons?.[0]?.Code;
        const name = `${errorName(e) || 'unknown'}${reason ? ` (head: ${reason})` : ''}`;
        failures[name] = (failures[name] ?? 0) + 1;
        throw e;
      }
    },
    { step: 'finalizeRequest', name: 'vestaBenchFailureCounter', priority: 'low' },
  );
  return failures;
}

async function batchWrite(client: DynamoDBClient, table: string, requests: WriteRequest[]): Promise<void> {
  let left: WriteRequest[] | undefined = requests;
  while (left && left.length > 0) {
    const out: { UnprocessedItems?: Record<string, WriteRequest[]> } = await client.send(
      new BatchWriteItemCommand({ RequestItems: { [table]: left } }),
    );
    left = out.UnprocessedItems?.[table];
  }
}

/** RECORDS records in NAMESPACES namespaces, 25 to a BatchWriteItem, 8 in flight. */
async function seed(client: DynamoDBClient, table: string): Promise<void> {
  const at = new Date().toISOString();
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < RECORDS; i += 25) {
    batches.push(
      Array.from({ length: Math.min(25, RECORDS - i) }, (_x, j) => {
        const n = i + j;
        const fields = {
          sku: `sku-${n}`,
          name: `Product number ${n}`,
          price: (n % 997) + 0.99,
          stock: n % 50,
          tags: ['bench', `t${n % 7}`],
        };
        return { PutRequest: { Item: seededRecordItem(`ns${n % NAMESPACES}`, `item/${n}`, fields, at) } };
      }),
    );
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < batches.length) await batchWrite(client, table, batches[next++]);
    }),
  );
}

/** A table of the change table's key schema (ns, seq). */
async function createChangeTable(client: DynamoDBClient, prefix: string): Promise<string> {
  const input = createTableInput(prefix, CHANGES_TABLE);
  await client.send(new CreateTableCommand(input));
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: input.TableName! });
  return input.TableName!;
}

/** The raw contender: the whole stream read once, each change put as one item into `table`. */
async function rawPublish(
  streams: DynamoDBStreamsClient,
  arn: string,
  client: DynamoDBClient,
  table: string,
): Promise<number> {
  let done = 0;
  for (let it of await shardIterators(streams, arn, 'TRIM_HORIZON')) {
    for (let empty = 0; it && done < RECORDS && empty < 3; ) {
      const out = await streams.send(new GetRecordsCommand({ ShardIterator: it, Limit: BATCH_SIZE }));
      const puts: WriteRequest[] = [];
      for (const r of out.Records ?? []) {
        const c = changeFromStreamRecord(r);
        if (c)
          puts.push({
            PutRequest: {
              Item: {
                ns: { S: c.namespace },
                seq: { N: r.dynamodb!.SequenceNumber! },
                id: { S: c.id },
                k: { S: c.key },
                d: { S: JSON.stringify(c) },
              },
            },
          });
      }
      const chunks = Array.from({ length: Math.ceil(puts.length / 25) }, (_x, i) => puts.slice(i * 25, i * 25 + 25));
      await Promise.all(chunks.map((chunk) => batchWrite(client, table, chunk)));
      done += puts.length;
      empty = puts.length === 0 ? empty + 1 : 0;
      it = out.NextShardIterator!;
    }
  }
  return done;
}

/** The vesta contender: the local stack's poller and publisher until the bus has every change. */
async function vestaPublish(
  streams: DynamoDBStreamsClient,
  arn: string,
  client: DynamoDBClient,
  env: Record<string, string>,
  parallelism: number,
): Promise<number> {
  const bus = new LocalEventBus();
  let events = 0;
  bus.subscribe(() => events++);
  const deps = wireChangePublisher({ client, env, bus });
  const poller = new StreamPoller({
    streams,
    streamArn: arn,
    publish: (r) => publishBatch(r, deps),
    checkpoint: { client, tableName: env[CHANGES_TABLE.envVar] },
    parallelism,
  });
  for (let idle = 0; events < RECORDS; ) {
    idle = (await poller.pollOnce()) === 0 ? idle + 1 : 0;
    if (idle > 20) throw new Error(`the publisher stalled at ${events} of ${RECORDS} changes`);
  }
  return events;
}

function throughput(
  changes: number,
  seconds: number,
  counter: RequestCounter,
  failures: Record<string, number>,
): Throughput {
  const per100 = (n: number) => Number(((n / changes) * 100).toFixed(2));
  const snap = counter.snapshot();
  return {
    changesPerSecond: Math.round(changes / seconds),
    seconds: Number(seconds.toFixed(2)),
    requestsPer100: per100(snap.total),
    requestsPer100ByCommand: Object.fromEntries(Object.entries(snap.byCommand).map(([k, v]) => [k, per100(v)])),
    failures: { ...failures },
  };
}

export async function changesBench(endpoint: string): Promise<ChangesBenchResult> {
  const admin = localClient(endpoint);
  const vestaClient = localClient(endpoint);
  const rawClient = localClient(endpoint);
  const streams = new DynamoDBStreamsClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  const vestaRequests = new RequestCounter();
  const rawRequests = new RequestCounter();
  vestaRequests.attach(vestaClient);
  rawRequests.attach(rawClient);
  const vestaFailures = failureCounter(vestaClient);
  const rawFailures = failureCounter(rawClient);
  try {
    const tables = await ensureTables(admin, 'vesta-bench-chg');
    const arn = (await admin.send(new DescribeTableCommand({ TableName: tables[RECORDS_TABLE.envVar] }))).Table!
      .LatestStreamArn!;
    const t0 = performance.now();
    await seed(admin, tables[RECORDS_TABLE.envVar]);
    const seedSeconds = Number(((performance.now() - t0) / 1000).toFixed(1));

    const sides = ['raw', 'vesta p1', 'vesta p2'] as const;
    const runs: Record<(typeof sides)[number], Throughput[]> = { raw: [], 'vesta p1': [], 'vesta p2': [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
        const [counter, failures] = side === 'raw' ? [rawRequests, rawFailures] : [vestaRequests, vestaFailures];
        counter.reset();
        for (const k of Object.keys(failures)) delete failures[k];
        // Each run writes into a change table of its own, so nothing is skipped as a replay.
        const table = await createChangeTable(admin, `vesta-bench-chg-${side.replace(' ', '-')}-${round}`);
        const start = performance.now();
        const n =
          side === 'raw'
            ? await rawPublish(streams, arn, rawClient, table)
            : await vestaPublish(
                streams,
                arn,
                vestaClient,
                { ...tables, [CHANGES_TABLE.envVar]: table, VESTA_REPLICA: 'local' },
                side === 'vesta p1' ? 1 : 2,
              );
        const seconds = (performance.now() - start) / 1000;
        if (n !== RECORDS) throw new Error(`${side} published ${n} changes, not ${RECORDS}`);
        runs[side].push(throughput(n, seconds, counter, failures));
      }
    }
    const best = (list: Throughput[]) => [...list].sort((a, b) => b.changesPerSecond - a.changesPerSecond)[0];
    const raw = best(runs.raw);
    const vesta = Object.fromEntries(
      (
        [
          ['parallelism 1', runs['vesta p1']],
          ['parallelism 2', runs['vesta p2']],
        ] as const
      ).map(([name, list]) => {
        const b = best(list);
        return [name, { ...b, ratioToRaw: Number((b.changesPerSecond / raw.changesPerSecond).toFixed(2)) }];
      }),
    );

    const watched = await watchLatency(vestaClient, streams);
    const ratio = {
      p50: Number((watched.vesta.p50 / watched.floor.p50).toFixed(1)),
      p99: Number((watched.vesta.p99 / watched.floor.p99).toFixed(1)),
    };
    const rows = [
      ...Object.entries(vesta).map(
        ([name, t]) =>
          `| publisher, ${name} | ${t.changesPerSecond} changes/s | ${raw.changesPerSecond} changes/s | ${t.ratioToRaw}x | ${t.requestsPer100} vs ${raw.requestsPer100} |`,
      ),
      `| watch latency p50 | ${watched.vesta.p50} ms | ${watched.floor.p50} ms | ${ratio.p50}x | |`,
      `| watch latency p99 | ${watched.vesta.p99} ms | ${watched.floor.p99} ms | ${ratio.p99}x | |`,
    ];
    const retries = Object.entries(vesta).map(
      ([name, t]) => `${name}: ${JSON.stringify(t.requestsPer100ByCommand)}, failed ${JSON.stringify(t.failures)}`,
    );
    const text = [
      `Change feed: ${RECORDS} changes in ${NAMESPACES} namespaces (seeded in ${seedSeconds} s), best of ${ROUNDS} rounds each; ${WRITES} watched PUTs:`,
      '',
      '| measure | vesta | raw / stream floor | ratio | table requests per 100 changes (vesta vs raw) |',
      '|---|---:|---:|---:|---:|',
      ...rows,
      '',
      ...retries.map((r) => `  vesta requests per 100 changes, ${r}`),
    ].join('\n');
    return {
      records: RECORDS,
      namespaces: NAMESPACES,
      rounds: ROUNDS,
      batchSize: BATCH_SIZE,
      seedSeconds,
      publisher: { raw, vesta },
      watch: { writes: WRITES, pauseMs: PAUSE_MS, unit: 'ms', ...watched, ratio },
      text,
    };
  } finally {
    streams.destroy();
    admin.destroy();
    vestaClient.destroy();
    rawClient.destroy();
  }
}
