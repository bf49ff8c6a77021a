/**
 * The change feed's watch latency (part of changes.bench.ts): with the poller running, a writer
 * makes BENCH_CHANGES_WRITES sequential PUTs through the API handler and a watcher long-polls the
 * changes endpoint; the floor is the same writes watched by GetRecords polling the stream directly.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { createApiHandler } from '../src/api/app';
import { wireApi, wireChangePublisher } from '../src/api/wiring';
import { changeFromStreamRecord } from '../src/adapters/dynamodb/stream-records';
import { CHANGES_TABLE, RECORDS_TABLE } from '../src/adapters/dynamodb/table-defs';
import { LocalEventBus } from '../src/adapters/events/local-bus';
import { publishBatch } from '../src/events/publisher';
import { ensureTables } from '../src/local/bootstrap-tables';
import { BroadcastChangeSignal } from '../src/local/change-signal';
import { StreamPoller } from '../src/local/stream-poller';
import { expectStatus, gateway } from './gateway';
import { NO_WORKFLOWS, percentile } from './lib';

export const WRITES = Number(process.env.BENCH_CHANGES_WRITES ?? 300);
/** Writes before the timed ones in each latency phase, not recorded. */
const LATENCY_WARMUP = 20;
/** Pause before each PUT of the latency writer: uniform in [0, PAUSE_MS). */
export const PAUSE_MS = 50;
/** Pause of the direct stream reader (the floor) after an empty GetRecords. */
const FLOOR_POLL_MS = 10;

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly max: number;
  readonly samples: number;
}

/** The stream's shards, parents first as DescribeStream lists them; `open` only those still written to. */
export async function shardIterators(
  streams: DynamoDBStreamsClient,
  arn: string,
  type: 'TRIM_HORIZON' | 'LATEST',
): Promise<string[]> {
  const out = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
  const shards = (out.StreamDescription?.Shards ?? []).filter(
    (s) => type === 'TRIM_HORIZON' || !s.SequenceNumberRange?.EndingSequenceNumber,
  );
  const its = await Promise.all(
    shards.map((s) =>
      streams.send(new GetShardIteratorCommand({ StreamArn: arn, ShardId: s.ShardId!, ShardIteratorType: type })),
    ),
  );
  return its.map((i) => i.ShardIterator!).filter(Boolean);
}

function latency(answered: Map<string, number>, seen: Map<string, number>): Latency {
  const samples = [...answered].map(([key, t]) => {
    const s = seen.get(key);
    if (s === undefined) throw new Error(`change of ${key} never seen`);
    return s - t;
  });
  const sorted = samples.sort((a, b) => a - b);
  const round = (x: number) => Number(x.toFixed(1));
  return {
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    max: round(sorted[sorted.length - 1]),
    samples: sorted.length,
  };
}

/**
 * One latency phase: `watch` runs until `stop` and fills `seen` (key -> when it arrived); the
 * writer puts LATENCY_WARMUP + WRITES keys of `ns` through `put`, sequentially.
 */
async function latencyPhase(
  put: (key: string, i: number) => Promise<void>,
  seen: Map<string, number>,
  watch: (done: () => boolean) => Promise<void>,
): Promise<Latency> {
  const answered = new Map<string, number>();
  const total = LATENCY_WARMUP + WRITES;
  const watcher = watch(() => seen.size >= total);
  for (let i = 0; i < total; i++) {
    await sleep(Math.random() * PAUSE_MS);
    const key = `w/${i}`;
    await put(key, i);
    if (i >= LATENCY_WARMUP) answered.set(key, performance.now());
  }
  await Promise.race([
    watcher,
    sleep(30_000).then(() => Promise.reject(new Error(`the watcher saw ${seen.size} of ${total} changes`))),
  ]);
  return latency(answered, seen);
}

export async function watchLatency(
  client: DynamoDBClient,
  streams: DynamoDBStreamsClient,
): Promise<{ vesta: Latency; floor: Latency }> {
  const env: Record<string, string> = { ...(await ensureTables(client, 'vesta-bench-watch')), VESTA_REPLICA: 'local' };
  const arn = (await client.send(new DescribeTableCommand({ TableName: env[RECORDS_TABLE.envVar] }))).Table!
    .LatestStreamArn!;
  // As in the local stack: the publisher's appends wake the long polls, through a channel of their own.
  const apiSignal = new BroadcastChangeSignal(env[CHANGES_TABLE.envVar]);
  const feedSignal = new BroadcastChangeSignal(env[CHANGES_TABLE.envVar]);
  const call = gateway(createApiHandler(wireApi({ client, env, workflows: NO_WORKFLOWS, changeSignal: apiSignal })));
  const deps = wireChangePublisher({ client, env, bus: new LocalEventBus(), changeSignal: feedSignal });
  const poller = new StreamPoller({
    streams,
    streamArn: arn,
    publish: (r) => publishBatch(r, deps),
    checkpoint: { client, tableName: env[CHANGES_TABLE.envVar] },
  });
  const putIn = (ns: string) => async (key: string, i: number) =>
    void expectStatus(
      await call('PUT', `/v1/ns/${ns}/keys/${encodeURIComponent(key)}`, { fields: { n: i, note: 'latency' } })(),
      [201],
      'PUT',
    );

  poller.start();
  const vestaSeen = new Map<string, number>();
  const vesta = await latencyPhase(putIn('watch'), vestaSeen, async (done) => {
    let cursor = (JSON.parse((await call('GET', '/v1/ns/watch/changes')()).body) as { cursor: string }).cursor;
    while (!done()) {
      const reply = expectStatus(
        await call('GET', `/v1/ns/watch/changes?after=${cursor}&wait=20&limit=1000`)(),
        [200],
        'GET changes',
      );
      const now = performance.now();
      const page = JSON.parse(reply.body) as { items: { key: string }[]; cursor: string };
      for (const c of page.items) if (!vestaSeen.has(c.key)) vestaSeen.set(c.key, now);
      cursor = page.cursor;
    }
  });
  await poller.stop();
  apiSignal.close();
  feedSignal.close();

  const iterators = await shardIterators(streams, arn, 'LATEST');
  const floorSeen = new Map<string, number>();
  const floor = await latencyPhase(putIn('floor'), floorSeen, async (done) => {
    while (!done()) {
      let got = 0;
      for (const [i, it] of iterators.entries()) {
        const out = await streams.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1000 }));
        const now = performance.now();
        for (const r of out.Records ?? []) {
          const c = changeFromStreamRecord(r);
          if (c?.namespace === 'floor' && !floorSeen.has(c.key)) floorSeen.set(c.key, now);
        }
        got += out.Records?.length ?? 0;
        iterators[i] = out.NextShardIterator!;
      }
      if (got === 0) await sleep(FLOOR_POLL_MS);
    }
  });
  return { vesta, floor };
}
