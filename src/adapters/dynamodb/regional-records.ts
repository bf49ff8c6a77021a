/**
 * The records store of a deployment in several Regions (docs/regions.md, `regional-codec.ts`).
 *
 * - A read: one `BatchGetItem` (strongly consistent) of the key's item in every Region's
 *   partition; the items join (`src/core/regions/merge.ts`) and settle in the conflict mode of the
 *   newest one.
 * - A write: that read, the write's rules on the joined record (`src/core/regions/writes.ts`), and
 *   one `PutItem` of this Region's own item, conditioned on it being the version read: 2 requests;
 *   a write that loses a race with another writer in this Region reads again and retries.
 * - A listing: one `Query` per Region's partition, merged by key.
 * - A transaction: `regional-txn.ts`.
 *
 * Only this Region's items are ever written here; replication brings the others.
 */
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { backoffMs, sleep } from '../../core/backoff';
import type { ChangeKind } from '../../core/changes';
import { UnavailableError } from '../../core/errors';
import type { Clock, ListPage, ListQuery, WriteGuards, WriteResult } from '../../core/ports';
import type { Preconditions, WriteEnv } from '../../core/records';
import type { RecordState, Sibling } from '../../core/record-view';
import { type RegionalState, joinAll, settle } from '../../core/regions/merge';
import { modeOf, readOf } from '../../core/regions/read';
import { type RegionalOp, writeRegional } from '../../core/regions/writes';
import type { ConflictMode } from '../../core/wire/records';
import { cancellationReasons, conditionFailed, firstConditionFailure } from './cancellation';
import type { Item } from './codec';
import { guarded, isConditionFailure } from './errors';
import { Expr, S, beginsWith } from './expressions';
import { decodeCursor, encodeCursor } from './list';
import type { DynamoLeaseStore } from './lease-store';
import { queryPages } from './query';
import { unchangedClause } from './record-clauses';
import { type RegionalItem, fromRegionalItem, regionPartition, regionalKeyOf, toRegionalItem } from './regional-codec';
import { hasGuards, planGuards } from './write-guards';
import type { TxnExtra } from './transactions';
import { transactRegional } from './regional-txn';
import type { TxnBody } from '../../core/types';

export interface RegionalRecordsOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Every Region of the deployment, the first one first (its items are the single-Region ones). */
  readonly regions: readonly string[];
  /** This Region. */
  readonly self: string;
  readonly clock: Clock;
  readonly leases: DynamoLeaseStore;
  readonly controlTable: string;
  /** How reads see a record: due fields and expired leases (the records store's `resolve`). */
  readonly resolve: (s: RecordState | undefined) => Promise<RecordState | undefined>;
}

/** Conditional retries of a write that keeps losing to writers in this Region, before 503. */
export const MAX_REGIONAL_ATTEMPTS = 25;
const BACKOFF = { baseMs: 1, capMs: 50 } as const;

/**
 * Every Region's item of each of `keys` of `ns`, as stored (strongly consistent): one
 * `BatchGetItem` per 100 items, and one more per unprocessed rest. Throws store errors
 * (translated) and what decoding an item throws.
 */
export async function readRegionalItems(
  opts: Pick<RegionalRecordsOptions, 'client' | 'tableName' | 'regions'>,
  ns: string,
  keys: readonly string[],
): Promise<Map<string, RegionalItem[]>> {
  const { client, tableName, regions } = opts;
  const first = regions[0];
  const out = new Map<string, RegionalItem[]>(keys.map((k) => [k, []]));
  const all = keys.flatMap((k) => regions.map((r) => regionalKeyOf(ns, k, r, first)));
  for (let i = 0; i < all.length; i += 100) {
    let pending: Item[] | undefined = all.slice(i, i + 100);
    while (pending && pending.length > 0) {
      const keysNow: Item[] = pending;
      const res = await guarded(() =>
        client.send(
          new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: keysNow, ConsistentRead: true } } }),
        ),
      );
      for (const it of res.Responses?.[tableName] ?? []) out.get(it.k.S!)?.push(fromRegionalItem(it, ns, first));
      pending = res.UnprocessedKeys?.[tableName]?.Keys as Item[] | undefined;
    }
  }
  return out;
}

export class RegionalRecords {
  private readonly first: string;

  public constructor(private readonly opts: RegionalRecordsOptions) {
    this.first = opts.regions[0];
  }

  /** Every Region's item of the key, as stored. One request (more only for unprocessed keys). */
  public async items(ns: string, key: string): Promise<RegionalItem[]> {
    return (await this.itemsOf(ns, [key])).get(key) ?? [];
  }

  /** Every Region's item of each key, as stored: one request per 100 items (and per unprocessed rest). */
  public itemsOf(ns: string, keys: readonly string[]): Promise<Map<string, RegionalItem[]>> {
    return readRegionalItems(this.opts, ns, keys);
  }

  /** A transaction of this Region (`regional-txn.ts`). */
  public transact(ns: string, txn: TxnBody, mode: ConflictMode, guards?: WriteGuards, extra?: TxnExtra) {
    return transactRegional(
      { opts: this.opts, first: this.first, itemsOf: (n, k) => this.itemsOf(n, k) },
      ns,
      txn,
      mode,
      guards,
      extra,
    );
  }

  /** The record as reads see it: joined, settled, with due fields and expired leases applied. */
  public async get(ns: string, key: string): Promise<RecordState | undefined> {
    const read = readOf(await this.items(ns, key));
    return read ? this.opts.resolve(read) : undefined;
  }

  /** The `reject`-mode losers of the record as its items join now, with the joined record. */
  public async losers(
    ns: string,
    key: string,
  ): Promise<{ state: RecordState; losers: readonly Sibling[] } | undefined> {
    const joined = joinAll((await this.items(ns, key)).map((i) => i.state));
    return joined ? settle(joined, 'reject') : undefined;
  }

  /** A write of this Region: see the file comment. Throws what the write's rules throw, or 503. */
  public async write(
    ns: string,
    key: string,
    op: RegionalOp,
    kind: ChangeKind,
    pre: Preconditions,
    requested: ConflictMode | undefined,
    guards?: WriteGuards,
  ): Promise<WriteResult> {
    const { client, tableName, clock, controlTable, leases, self } = this.opts;
    const plan = hasGuards(guards)
      ? await planGuards(controlTable, leases, ns, [key], guards, clock.now().getTime())
      : undefined;
    for (let attempt = 0; attempt < MAX_REGIONAL_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(backoffMs(attempt, BACKOFF));
      const items = await this.items(ns, key);
      const own = items.find((i) => i.region === self)?.state;
      const joined = joinAll(items.map((i) => i.state));
      // A delete knows no mode: it keeps the one the record has.
      const mode = requested ?? modeOf(items);
      const visible = joined ? await this.opts.resolve(settle(joined, mode).state) : undefined;
      const env = this.env(mode, joined, guards);
      const w = writeRegional(ns, key, joined, visible, op, pre, env);
      const e = new Expr();
      e.require(unchangedClause(e, own));
      const put = {
        TableName: tableName,
        Item: toRegionalItem(w.item, self, this.first, kind, mode),
        ...e.params(),
      };
      try {
        if (plan) await client.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: put }, ...plan.items] }));
        else await client.send(new PutItemCommand(put));
        const settled = settle(w.joined, mode).state;
        return { state: (await this.opts.resolve(settled)) ?? settled, created: w.created };
      } catch (err) {
        const reasons = plan ? cancellationReasons(err) : undefined;
        if (plan && reasons) {
          const guard = firstConditionFailure(reasons, 1);
          if (guard > 0) throw plan.failures[guard - 1]();
          if (!conditionFailed(reasons[0])) continue;
        } else if (!isConditionFailure(err)) {
          return guarded(() => Promise.reject(err));
        }
      }
    }
    throw new UnavailableError(`too many concurrent writes to ${key}; retry`);
  }

  /** A write's environment, stamped no earlier than what it read (stamps never go down). */
  private env(mode: ConflictMode, joined: RegionalState | undefined, guards?: WriteGuards): WriteEnv {
    const now = this.opts.clock.now().toISOString();
    const stamp = joined && joined.updatedAt > now ? joined.updatedAt : now;
    return { replica: this.opts.self, now: stamp, mode, lease: guards?.lease };
  }

  /**
   * Live records of `ns` in key order: one Query per Region's partition, read side by side and
   * merged by key; each key's items join and settle as a read does.
   */
  public async list(ns: string, q: ListQuery): Promise<ListPage> {
    const after = q.cursor ? decodeCursor(q.cursor, q.prefix) : undefined;
    const heads = this.opts.regions.map((r) => {
      const partition = regionPartition(ns, r, this.first);
      const e = new Expr();
      e.key(`${e.name('ns')} = ${e.value(S(partition))}`);
      if (q.prefix) e.key(beginsWith(e.name('k'), e.value(S(q.prefix))));
      const pages = queryPages(
        this.opts.client,
        { TableName: this.opts.tableName, ...e.queryParams(), ConsistentRead: true, Limit: q.limit + 1 },
        { startKey: after !== undefined ? { ns: { S: partition }, k: { S: after } } : undefined },
      );
      return new ItemCursor(pages);
    });
    const out: RecordState[] = [];
    for (;;) {
      const firsts = await Promise.all(heads.map((h) => h.peek()));
      const keys = firsts.filter((x): x is Item => x !== undefined).map((x) => x.k.S!);
      if (keys.length === 0) break;
      const key = keys.reduce((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b)) <= 0 ? a : b));
      const items: RegionalItem[] = [];
      for (const [i, h] of heads.entries()) {
        if (firsts[i]?.k.S === key) items.push(fromRegionalItem(await h.take(), ns, this.first));
      }
      const read = readOf(items);
      const s = read ? await this.opts.resolve(read) : undefined;
      if (s && !s.deleted) out.push(s);
      if (out.length > q.limit) break;
    }
    const page = out.slice(0, q.limit);
    const more = out.length > q.limit;
    return { items: page, cursor: more && page.length > 0 ? encodeCursor(page[page.length - 1].key) : null };
  }
}

/** The items of one partition's Query, one at a time. `peek` and `take` throw what a page's request throws. */
export class ItemCursor {
  private buffer: Item[] = [];
  private done = false;

  public constructor(private readonly pages: AsyncGenerator<{ items: Item[] }>) {}

  public async peek(): Promise<Item | undefined> {
    while (this.buffer.length === 0 && !this.done) {
      const next = await this.pages.next();
      if (next.done) this.done = true;
      else this.buffer = [...next.value.items];
    }
    return this.buffer[0];
  }

  public async take(): Promise<Item> {
    const it = await this.peek();
    this.buffer.shift();
    return it!;
  }
}
