/**
 * The local stand-in for Lambda's DynamoDB stream event source: reads the records table's stream
 * on DynamoDB Local and hands batches to the publisher, as Lambda does in AWS.
 *
 * Like the event source: a shard is read only after its parent is finished; batches of at most
 * `BATCH_SIZE` records; a batch with failures is read again from the first failed record after a
 * back-off. Like `ParallelizationFactor`, a batch is split by the records table's partition key
 * (the namespace) into `parallelism` groups that are published at once (one namespace always in
 * the same group, so its changes keep their order and two groups never append to one namespace's
 * log at once). The last sequence number handled per shard is kept in the change table, at most
 * every `CHECKPOINT_MS` and when the poller stops, so a restart goes on from there (a replay is
 * harmless: the change log skips what it has; the bus may see those events again, with their ids).
 *
 * When to read again: at once after a full batch (a backlog), and then the next batch is read
 * while this one is published. Under load (more than `LOAD_RATE` records a second over the last
 * `RATE_WINDOW_MS`), after `BATCH_WINDOW_MS`, as the event source's batching window: each read
 * gathers many changes, so the publisher's requests do not grow with every write (they share
 * DynamoDB Local with the API). Otherwise after `ACTIVE_IDLE_MS`, so that a change reaches the
 * log (and the long polls) soon after its write; after `QUIET_AFTER_MS` without a record, every
 * `QUIET_IDLE_MS`.
 */
import { createHash } from 'node:crypto';
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type _Record,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { BatchResult } from '../events/publisher';
import { STREAM_CHECKPOINT_KEY } from '../adapters/dynamodb/control-keys';

/** Records per batch (the CDK event source uses the same). */
export const BATCH_SIZE = 100;
/** The batching window under load: pause before the next read. */
export const BATCH_WINDOW_MS = 100;
/** Records a second (over `RATE_WINDOW_MS`) from which the batching window is used. */
export const LOAD_RATE = 100;
export const RATE_WINDOW_MS = 1000;
/** Pause after a read that found no records (or a few, under `LOAD_RATE`) while the stream is active. */
export const ACTIVE_IDLE_MS = 10;
/** The pause after `QUIET_AFTER_MS` without any record. */
export const QUIET_IDLE_MS = 50;
export const QUIET_AFTER_MS = 1000;
/** The longest the saved position lags the records handled. */
export const CHECKPOINT_MS = 1000;
/** Back-off after a failed batch or poll. */
export const RETRY_MS = 500;
/** How often the list of shards is read again (new shards appear when old ones close). */
export const SHARDS_REFRESH_MS = 5000;

export interface StreamPollerOptions {
  readonly streams: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly publish: (records: readonly _Record[]) => Promise<BatchResult>;
  /** Where the position per shard is kept; none: start at the oldest record each time. */
  readonly checkpoint?: { readonly client: DynamoDBClient; readonly tableName: string };
  /** Groups of keys published at once. @default 1 */
  readonly parallelism?: number;
  /** Called on every failed poll; `onRecovered` on the first good poll after failures. */
  readonly onError?: (e: unknown) => void;
  readonly onRecovered?: () => void;
}

interface ShardState {
  readonly shard: Shard;
  iterator?: string;
  done: boolean;
  last?: string;
  /** The next batch, read while the last full one was published (`iterator` is where it was read). */
  next?: Promise<GetRecordsCommandOutput | { readonly failed: unknown }>;
}

export class StreamPoller {
  private readonly shards = new Map<string, ShardState>();
  private stopped = false;
  private loop?: Promise<void>;

  public constructor(private readonly opts: StreamPollerOptions) {}

  /** Starts polling in the background until `stop`. */
  public start(): void {
    this.stopped = false;
    this.loop ??= (async () => {
      let failing = false;
      while (!this.stopped) {
        let handled = 0;
        try {
          handled = await this.pollOnce();
          if (failing) this.opts.onRecovered?.();
          failing = false;
        } catch (e) {
          failing = true;
          this.opts.onError?.(e);
          await sleep(RETRY_MS);
        }
        const pause = this.pauseAfter(handled, Date.now());
        if (pause > 0) await sleep(pause);
      }
    })();
  }

  /** Reads of the last `RATE_WINDOW_MS` that found records: when, and how many. */
  private readonly recent: { at: number; n: number }[] = [];
  private lastRecordAt = Number.NEGATIVE_INFINITY;

  /** How long to wait before the next read, after one that handled `handled` records at `now`. */
  public pauseAfter(handled: number, now: number): number {
    if (handled > 0) {
      this.lastRecordAt = now;
      this.recent.push({ at: now, n: handled });
    }
    while (this.recent.length > 0 && this.recent[0].at <= now - RATE_WINDOW_MS) this.recent.shift();
    if (handled >= BATCH_SIZE) return 0;
    const rate = (this.recent.reduce((sum, r) => sum + r.n, 0) * 1000) / RATE_WINDOW_MS;
    if (rate >= LOAD_RATE) return BATCH_WINDOW_MS;
    return now - this.lastRecordAt < QUIET_AFTER_MS ? ACTIVE_IDLE_MS : QUIET_IDLE_MS;
  }

  /** Stops polling and saves the position reached. */
  public async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.loop = undefined;
    await this.saveCheckpoint().catch((e) => this.opts.onError?.(e));
  }

  /** Reads each open shard once; returns the number of stream records handled. */
  public async pollOnce(): Promise<number> {
    await this.refreshShards();
    let handled = 0;
    for (const s of this.shards.values()) {
      if (s.done) continue;
      const parent = s.shard.ParentShardId ? this.shards.get(s.shard.ParentShardId) : undefined;
      if (parent && !parent.done) continue;
      handled += await this.pollShard(s);
    }
    return handled;
  }

  /** Polls until a poll finds nothing new (tests use it to wait for the publisher). */
  public async drain(): Promise<void> {
    while ((await this.pollOnce()) > 0);
    await this.saveCheckpoint();
  }

  private shardsReadAt = 0;

  private async refreshShards(): Promise<void> {
    const open = [...this.shards.values()].some((s) => !s.done);
    if (open && Date.now() - this.shardsReadAt < SHARDS_REFRESH_MS) return;
    this.shardsReadAt = Date.now();
    let start: string | undefined;
    const saved = this.shards.size === 0 ? await this.loadCheckpoint() : {};
    do {
      const out = await this.opts.streams.send(
        new DescribeStreamCommand({ StreamArn: this.opts.streamArn, ExclusiveStartShardId: start }),
      );
      for (const shard of out.StreamDescription?.Shards ?? []) {
        if (!this.shards.has(shard.ShardId!))
          this.shards.set(shard.ShardId!, { shard, done: false, last: saved[shard.ShardId!] });
      }
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
  }

  private async iterator(s: ShardState): Promise<string | undefined> {
    const base = { StreamArn: this.opts.streamArn, ShardId: s.shard.ShardId! };
    try {
      const out = await this.opts.streams.send(
        new GetShardIteratorCommand(
          s.last
            ? { ...base, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: s.last }
            : { ...base, ShardIteratorType: 'TRIM_HORIZON' },
        ),
      );
      return out.ShardIterator;
    } catch (e) {
      if (!s.last) throw e;
      // The saved position is gone (trimmed): start at the oldest record kept.
      s.last = undefined;
      return this.iterator(s);
    }
  }

  private read(iterator: string): Promise<GetRecordsCommandOutput> {
    return this.opts.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: BATCH_SIZE }));
  }

  private async pollShard(s: ShardState): Promise<number> {
    s.iterator ??= await this.iterator(s);
    if (!s.iterator) {
      s.done = true;
      return 0;
    }
    let out: GetRecordsCommandOutput;
    try {
      const next = s.next;
      s.next = undefined;
      const got = next ? await next : await this.read(s.iterator);
      if ('failed' in got) throw got.failed;
      out = got;
    } catch (e) {
      // An expired or unusable iterator is not used again: the next poll gets a new one from the
      // last record handled (or, when that is trimmed away, from the oldest record kept).
      s.iterator = undefined;
      if ((e as { name?: string }).name === 'TrimmedDataAccessException') s.last = undefined;
      throw e;
    }
    const records = (out.Records ?? []).map(withEmptyMaps);
    // A full batch says more is waiting: read it while this one is published.
    if (records.length >= BATCH_SIZE && out.NextShardIterator)
      s.next = this.read(out.NextShardIterator).catch((failed: unknown) => ({ failed }));
    if (records.length > 0) {
      const failedAt = await this.publishGrouped(records);
      if (failedAt >= 0) {
        // Read again from the first record not handled, after a pause.
        s.next = undefined;
        s.last = failedAt > 0 ? records[failedAt - 1].dynamodb?.SequenceNumber : s.last;
        s.iterator = undefined;
        if (failedAt > 0) await this.saveCheckpoint();
        await sleep(RETRY_MS);
        return failedAt;
      }
      s.last = records[records.length - 1].dynamodb?.SequenceNumber;
      await this.saveCheckpointEvery(CHECKPOINT_MS);
    }
    s.iterator = out.NextShardIterator;
    if (!s.iterator) s.done = true;
    return records.length;
  }

  /** Publishes the batch in key groups at once; the index of the first record not handled, or -1. */
  private async publishGrouped(records: readonly _Record[]): Promise<number> {
    const n = Math.max(1, this.opts.parallelism ?? 1);
    const groups: _Record[][] = Array.from({ length: n }, () => []);
    for (const r of records) groups[groupOf(r, n)].push(r);
    const results = await Promise.all(groups.filter((g) => g.length > 0).map((g) => this.opts.publish(g)));
    const failed = new Set(results.flatMap((r) => r.batchItemFailures.map((f) => f.itemIdentifier)));
    if (failed.size === 0) return -1;
    // A group fails from its first failed record on; the batch is retried from the earliest.
    const first = records.findIndex((r) => failed.has(r.dynamodb?.SequenceNumber ?? ''));
    return Math.max(first, 0);
  }

  private async loadCheckpoint(): Promise<Record<string, string>> {
    const cp = this.opts.checkpoint;
    if (!cp) return {};
    const out = await cp.client.send(
      new GetItemCommand({ TableName: cp.tableName, Key: STREAM_CHECKPOINT_KEY, ConsistentRead: true }),
    );
    return Object.fromEntries(Object.entries(out.Item?.shards?.M ?? {}).map(([k, v]) => [k, v.S ?? '']));
  }

  private savedAt = Number.NEGATIVE_INFINITY;
  private saved = '';

  /** Saves the position when the last save is older than `ms`. */
  private async saveCheckpointEvery(ms: number): Promise<void> {
    if (Date.now() - this.savedAt >= ms) await this.saveCheckpoint();
  }

  private async saveCheckpoint(): Promise<void> {
    const cp = this.opts.checkpoint;
    if (!cp) return;
    const shards = Object.fromEntries(
      [...this.shards.values()].filter((s) => s.last).map((s) => [s.shard.ShardId!, { S: s.last! }]),
    );
    const text = JSON.stringify(shards);
    if (text === this.saved) return;
    await cp.client.send(
      new PutItemCommand({ TableName: cp.tableName, Item: { ...STREAM_CHECKPOINT_KEY, shards: { M: shards } } }),
    );
    this.saved = text;
    this.savedAt = Date.now();
  }
}

/**
 * The record with each empty map of its images as `{ M: {} }`. DynamoDB Local's stream writes an
 * empty map attribute (a tombstone's `f`) as a bare `{}`, which no AttributeValue is, where
 * DynamoDB's own stream (and so a Lambda event) writes `{ "M": {} }`; left as it is, the item
 * cannot be decoded and its change would be set aside. Nothing else is changed.
 */
export function withEmptyMaps(r: _Record): _Record {
  if (!r.dynamodb) return r;
  const { NewImage, OldImage } = r.dynamodb;
  return {
    ...r,
    dynamodb: {
      ...r.dynamodb,
      ...(NewImage ? { NewImage: mapValues(NewImage) } : {}),
      ...(OldImage ? { OldImage: mapValues(OldImage) } : {}),
    },
  };
}

type Av = NonNullable<NonNullable<_Record['dynamodb']>['NewImage']>[string];

function mapValues(m: Record<string, Av>): Record<string, Av> {
  const out: Record<string, Av> = Object.create(null);
  for (const [k, v] of Object.entries(m)) out[k] = repaired(v);
  return out;
}

function repaired(v: Av): Av {
  if (v && typeof v === 'object' && Object.keys(v).length === 0) return { M: {} };
  if (v?.M) return { M: mapValues(v.M) };
  if (v?.L) return { L: v.L.map(repaired) };
  return v;
}

/** The group of a record: by its partition key (the namespace), as the event source groups. */
function groupOf(r: _Record, n: number): number {
  if (n === 1) return 0;
  const h = createHash('sha1')
    .update(r.dynamodb?.Keys?.ns?.S ?? '')
    .digest();
  return h.readUInt32BE(0) % n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
