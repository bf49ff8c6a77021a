/**
 * A stand-in for DynamoDB global tables on DynamoDB Local, for tests of Vesta across Regions.
 *
 * What it mimics: N "Regions", each its own DynamoDB Local (in memory) with Vesta's tables. Every
 * change to a Region's records table (read from that table's stream, NEW_AND_OLD_IMAGES) is
 * applied asynchronously to the records table of every other Region, as global tables replicate:
 * - each link (source to target) delivers in order after a delay (ms, per link, plus a seeded
 *   jitter); `partition(a, b)` holds both directions of a link, and `heal(a, b)` lets what
 *   queued flow again, in order;
 * - conflicts settle per item by last writer wins on the whole item: each local change gets a
 *   timestamp when the replicator first reads it from its Region's stream (monotonic over all
 *   Regions; ties broken by Region id), a newer incoming version overwrites the target's item
 *   (PutItem of the new image, DeleteItem for a REMOVE), an older one is dropped without trace;
 * - a local write in the target that the replicator has not read yet always wins against an
 *   incoming version (it gets a later timestamp when read): the write to the target is
 *   conditional on the item being the version the replicator knows, and dropped when it is not;
 * - replicated writes are not local writes: their stream records in the target are recognised
 *   (by image, in order per item) and never replicated again, so nothing echoes back.
 *
 * What it does not: only the records table replicates (control, idempotency, changes... stay
 * per Region); no TTL clean-up, no conflict detection or report (a lost write is simply gone, as
 * in global tables), no table settings, no hidden attributes in items. Timestamps are the
 * replicator's (when it reads a change), not the write's own: of two concurrent writes the one
 * read later wins, whichever was made first. An incoming version overwrites a target's item only
 * when the item still has every attribute the replicator last saw there; a local write that
 * changes none of those and only adds attributes goes unnoticed by that condition and may be
 * overwritten. A local write with exactly the image of a replicated write still to be read back
 * is taken for that write's echo.
 *
 * Use in a test (see the last test of `replicator.test.ts`):
 * ```ts
 * const rep = await Replicator.start({ regions: ['us-east-1', 'eu-west-1'], delayMs: 50, seed: 1 });
 * // wireApi also wants the state machine ARNs in `env` (any ARN: nothing here starts one).
 * const api = (id: string) =>
 *   createApiHandler(wireApi({ client: rep.region(id).client, env: { ...rep.tables, ...arns, VESTA_REPLICA: id } }));
 * const [us, eu] = [api('us-east-1'), api('eu-west-1')];
 * await invoke(us, 'PUT', '/v1/ns/shop/keys/cart', headers, body); // write in one Region
 * await rep.settle(); // every change delivered everywhere
 * await invoke(eu, 'GET', '/v1/ns/shop/keys/cart', {}, Buffer.alloc(0)); // read in another
 * expect(await rep.scan('eu-west-1')).toEqual(await rep.scan('us-east-1'));
 * await rep.stop();
 * ```
 * Also: `setDelay(a, b, ms)`, `partition`/`heal`, `hold(id)`/`release(id)` (stop reading a
 * Region's stream, so its writes stay unseen), `stats` (requests sent, echoes recognised,
 * versions dropped) and `history` (every local change with its timestamp). `settle()` refuses
 * while a link is partitioned or a Region held; `stop()` stops reading and every DynamoDB Local.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, type _Record } from '@aws-sdk/client-dynamodb-streams';
import { DYNAMODB_CLIENT_DEFAULTS } from '../../../src/adapters/dynamodb/client-config';
import { RECORDS_TABLE } from '../../../src/adapters/dynamodb/table-defs';
import { ensureTables } from '../../../src/local/bootstrap-tables';
import {
  type DynamoDbLocal,
  LOCAL_CREDENTIALS,
  localClient,
  startDynamoDbLocal,
} from '../../../src/local/dynamodb-local';
import { StreamPoller } from '../../../src/local/stream-poller';
import {
  ABSENT,
  type Change,
  type Item,
  type Region,
  type ReplicatorOptions,
  type ReplicatorStats,
  type Version,
  canonical,
  conditionOn,
  keyOf,
  newer,
  scanTable,
  seeded,
} from './items';

export type { Item, Region, ReplicatorOptions, ReplicatorStats };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One Region's database, stream reader and what the replicator knows of its records. */
interface RegionState extends Region {
  readonly ddb: DynamoDbLocal;
  readonly streams: DynamoDBStreamsClient;
  readonly poller: StreamPoller;
  /** The version of each item the Region holds, as far as the replicator has read or written it. */
  readonly known: Map<string, Version>;
  /** Per item, images (canonical; 'REMOVE') the replicator wrote whose stream records are still to come. */
  readonly echoes: Map<string, string[]>;
  /** Serialises stream handling and replicated writes in this Region. */
  lock: Promise<unknown>;
  /** Reads of the stream completed. */
  polls: number;
}

export class Replicator {
  public readonly stats: ReplicatorStats;
  /** Every local change read, with its timestamp, in the order read: what last writer wins picks from. */
  public readonly history: (Version & { readonly key: Item })[] = [];
  private readonly states = new Map<string, RegionState>();
  private readonly links = new Map<string, Change[]>();
  private readonly delays = new Map<string, number>();
  private readonly partitioned = new Set<string>();
  private readonly held = new Set<string>();
  private readonly random: () => number;
  private readonly loops: Promise<void>[] = [];
  private stopped = false;
  private clock = 0;
  /** Records read from any stream, and replicated writes in progress. */
  private handled = 0;
  private applying = 0;
  private failure?: unknown;

  private constructor(
    private readonly opts: ReplicatorOptions,
    /** Table names by environment variable, the same in every Region. */
    public readonly tables: Record<string, string>,
  ) {
    this.random = seeded(opts.seed ?? 1);
    const zero = () => Object.fromEntries(opts.regions.map((id) => [id, 0]));
    this.stats = { local: 0, echoes: 0, puts: zero(), deletes: zero(), dropped: 0 };
  }

  /** Starts a DynamoDB Local per Region, creates Vesta's tables in each and starts replicating. */
  public static async start(opts: ReplicatorOptions): Promise<Replicator> {
    if (new Set(opts.regions).size !== opts.regions.length) throw new Error('Region ids must differ');
    const started = await Promise.allSettled(opts.regions.map(() => startDynamoDbLocal()));
    const ddbs = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(ddbs.map((d) => d.stop()));
      throw (failed as PromiseRejectedResult).reason;
    }
    const clients = ddbs.map((d) => localClient(d.endpoint));
    try {
      return await Replicator.wire(opts, ddbs, clients);
    } catch (e) {
      await Promise.all(ddbs.map((d) => d.stop()));
      throw e;
    }
  }

  private static async wire(opts: ReplicatorOptions, ddbs: DynamoDbLocal[], clients: DynamoDBClient[]) {
    const tables = (await Promise.all(clients.map((c) => ensureTables(c, opts.tablePrefix ?? 'vesta-test'))))[0];
    const rep = new Replicator(opts, tables);
    const recordsTable = tables[RECORDS_TABLE.envVar];
    for (const [i, id] of opts.regions.entries()) {
      const client = clients[i];
      const out = await client.send(new DescribeTableCommand({ TableName: recordsTable }));
      const streams = new DynamoDBStreamsClient({
        endpoint: ddbs[i].endpoint,
        region: process.env.AWS_REGION ?? 'us-east-1',
        credentials: LOCAL_CREDENTIALS,
        ...DYNAMODB_CLIENT_DEFAULTS,
      });
      const state: RegionState = {
        id,
        endpoint: ddbs[i].endpoint,
        client,
        ddb: ddbs[i],
        streams,
        known: new Map(),
        echoes: new Map(),
        lock: Promise.resolve(),
        polls: 0,
        poller: new StreamPoller({
          streams,
          streamArn: out.Table!.LatestStreamArn!,
          publish: async (records) => {
            for (const r of records) rep.fromStream(state, r);
            return { batchItemFailures: [] };
          },
        }),
      };
      rep.states.set(id, state);
    }
    for (const a of opts.regions) for (const b of opts.regions) if (a !== b) rep.links.set(`${a}>${b}`, []);
    for (const s of rep.states.values()) rep.loops.push(rep.readLoop(s));
    for (const link of rep.links.keys()) rep.loops.push(rep.linkLoop(link));
    return rep;
  }

  public get regionIds(): readonly string[] {
    return [...this.states.keys()];
  }

  public region(id: string): Region {
    const s = this.states.get(id);
    if (!s) throw new Error(`no Region ${id}`);
    return s;
  }

  /** The delay of the link from `a` to `b` (and, unless `oneWay`, from `b` to `a`), for changes read from now on. */
  public setDelay(a: string, b: string, ms: number, oneWay = false): void {
    this.delays.set(`${a}>${b}`, ms);
    if (!oneWay) this.delays.set(`${b}>${a}`, ms);
  }

  /** Stops reading `id`'s stream (its writes stay unseen: not replicated, not known) until `release(id)`. */
  public hold(id: string): void {
    this.held.add(this.region(id).id);
  }

  public release(id: string): void {
    this.held.delete(id);
  }

  /** Holds changes between `a` and `b`, both ways, until `heal(a, b)`. */
  public partition(a: string, b: string): void {
    this.partitioned.add(pair(a, b));
  }

  public heal(a: string, b: string): void {
    this.partitioned.delete(pair(a, b));
  }

  /** Heals every partition. */
  public healAll(): void {
    this.partitioned.clear();
  }

  /** Changes waiting on links. */
  public get queued(): number {
    return [...this.links.values()].reduce((n, q) => n + q.length, 0);
  }

  /**
   * Waits until every link queue is empty, no replicated write is in progress and a read of every
   * stream after that found nothing new. Throws while a link is partitioned, on a replication
   * failure, or after `timeoutMs`.
   */
  public async settle(timeoutMs = 20000): Promise<void> {
    const blocked = [...this.partitioned, ...this.held];
    if (blocked.length > 0) throw new Error(`partitioned or held: ${blocked.join(', ')}; heal and release first`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.check();
      if (Date.now() > deadline) throw new Error(`not settled after ${timeoutMs} ms: ${this.queued} changes queued`);
      if (this.queued > 0 || this.applying > 0) {
        await sleep(5);
        continue;
      }
      const handled = this.handled;
      // A read that starts after this point sees every write made before it.
      const marks = [...this.states.values()].map((s) => [s, s.polls + 1] as const);
      while (marks.some(([s, n]) => s.polls <= n) && Date.now() <= deadline) await sleep(2);
      this.check();
      const read = marks.every(([s, n]) => s.polls > n);
      if (read && this.handled === handled && this.queued === 0 && this.applying === 0) return;
    }
  }

  /** Every item of a Region's table (records table by default), sorted by key, for comparisons. */
  public scan(id: string, table = this.tables[RECORDS_TABLE.envVar]): Promise<Item[]> {
    return scanTable(this.region(id).client, table);
  }

  /** Stops reading and replicating, then every DynamoDB Local. */
  public async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled(this.loops);
    for (const s of this.states.values()) {
      s.streams.destroy();
      s.client.destroy();
    }
    await Promise.all([...this.states.values()].map((s) => s.ddb.stop()));
  }

  private check(): void {
    if (this.failure) throw new Error('replication failed', { cause: this.failure });
  }

  private locked<T>(s: RegionState, fn: () => Promise<T>): Promise<T> {
    const run = s.lock.then(fn, fn);
    s.lock = run.catch(() => undefined);
    return run;
  }

  private async readLoop(s: RegionState): Promise<void> {
    while (!this.stopped) {
      let n = 0;
      try {
        n = this.held.has(s.id) ? 0 : await this.locked(s, () => s.poller.pollOnce());
      } catch (e) {
        if (!this.stopped) this.failure ??= e;
      }
      s.polls++;
      if (n === 0) await sleep(this.opts.pollMs ?? 5);
    }
  }

  /** A record of `s`'s stream: the replicator's own write, or a local change to send everywhere. */
  private fromStream(s: RegionState, r: _Record): void {
    this.handled++;
    const image = (r.eventName === 'REMOVE' ? null : (r.dynamodb?.NewImage ?? null)) as Item | null;
    const key = r.dynamodb!.Keys as Item;
    const k = keyOf(key);
    const expected = s.echoes.get(k);
    if (expected?.[0] === (image ? canonical(image) : 'REMOVE')) {
      expected.shift();
      if (expected.length === 0) s.echoes.delete(k);
      this.stats.echoes++;
      return;
    }
    this.stats.local++;
    const version: Version = { image, ts: this.tick(), origin: s.id };
    s.known.set(k, version);
    this.history.push({ ...version, key });
    for (const t of this.states.keys()) {
      if (t === s.id) continue;
      const link = `${s.id}>${t}`;
      const queue = this.links.get(link)!;
      const jitter = Math.floor(this.random() * (this.opts.jitterMs ?? 0));
      const at = Date.now() + (this.delays.get(link) ?? this.opts.delayMs ?? 0) + jitter;
      // A link delivers in order: never before the change ahead of it.
      const deliverAt = Math.max(at, queue.at(-1)?.deliverAt ?? 0);
      queue.push({ ...version, key, deliverAt });
    }
  }

  /** Monotonic over all Regions, close to the wall clock. */
  private tick(): number {
    this.clock = Math.max(this.clock + 1, Date.now());
    return this.clock;
  }

  private async linkLoop(link: string): Promise<void> {
    const [from, to] = link.split('>');
    const queue = this.links.get(link)!;
    const target = this.states.get(to)!;
    while (!this.stopped) {
      const head = queue[0];
      const wait = head ? head.deliverAt - Date.now() : 5;
      if (!head || wait > 0 || this.partitioned.has(pair(from, to))) {
        await sleep(Math.min(Math.max(wait, 1), 5));
        continue;
      }
      this.applying++;
      try {
        await this.locked(target, () => this.apply(target, head));
        queue.shift();
      } catch (e) {
        if (!this.stopped) this.failure ??= e;
        await sleep(50);
      } finally {
        this.applying--;
      }
    }
  }

  /** Writes an incoming version to `t` when it is newer than the version `t` holds. */
  private async apply(t: RegionState, c: Change): Promise<void> {
    const k = keyOf(c.key);
    const held = t.known.get(k) ?? ABSENT;
    if (!newer(c, held)) {
      this.stats.dropped++;
      return;
    }
    const echo = c.image ? canonical(c.image) : 'REMOVE';
    const echoes = t.echoes.get(k) ?? [];
    t.echoes.set(k, echoes);
    // Before the write: its stream record may be read as soon as it is written.
    echoes.push(echo);
    const unexpect = () => {
      const i = echoes.lastIndexOf(echo);
      if (i >= 0) echoes.splice(i, 1);
      if (echoes.length === 0) t.echoes.delete(k);
    };
    const TableName = this.tables[RECORDS_TABLE.envVar];
    const cond = conditionOn(held.image, c.image);
    let old: Item | undefined;
    try {
      this.stats[c.image ? 'puts' : 'deletes'][t.id]++;
      const request = { TableName, ReturnValues: 'ALL_OLD' as const, ...cond };
      const out = c.image
        ? await t.client.send(new PutItemCommand({ ...request, Item: c.image }))
        : await t.client.send(new DeleteItemCommand({ ...request, Key: c.key }));
      old = out.Attributes;
    } catch (e) {
      unexpect();
      // The item changed in `t` since the replicator last read it: a local write, which is newer.
      if (e instanceof ConditionalCheckFailedException) {
        this.stats.dropped++;
        return;
      }
      throw e;
    }
    // No change, no stream record.
    if ((old ? canonical(old) : 'REMOVE') === echo) unexpect();
    t.known.set(k, { image: c.image, ts: c.ts, origin: c.origin });
  }
}

const pair = (a: string, b: string) => [a, b].sort().join('|');
