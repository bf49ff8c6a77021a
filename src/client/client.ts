/**
 * The typed client of the Vesta HTTP API (docs/openapi.yaml): records with their ETags,
 * read-modify-write without lost updates (`update`), transactions, listings and namespace
 * settings here; leases, locks and fenced work in `leases.ts`; sagas and snapshots (start and
 * wait) in `workflows.ts`; the change feed in `watch.ts`; field expiry helpers in `field-expiry.ts`; dead letters in `dead-letters.ts`. Every method throws the `ApiError`
 * subclass of the problem the API answered (`errors.ts`) or `NetworkError`; 429 and 503 are
 * retried by the transport first.
 *
 * ```ts
 * const vesta = new VestaClient({ url: 'http://127.0.0.1:8080' });
 * await vesta.update('shop', 'cart/42', (cart) => ({ ...cart, qty: Number(cart?.qty ?? 0) + 1 }));
 * ```
 *
 * Several Regions: `new VestaClient({ regions: { 'eu-west-1': euUrl, 'us-east-1': usUrl },
 * preferRegion: 'eu-west-1' })` sends requests to the preferred Region and fails over to the
 * others when it is unavailable (transport.ts, regions.ts); `client.transport.currentRegion` and
 * each `Reply.region` say which Region answered. Leases and locks are Region-local: their
 * requests, and writes with a lease id or fencing token, go to the Region that granted the lease
 * and never fail over on their own; when that Region is down they fail with
 * `RegionUnavailableError` naming it (`failoverRegionLocal: true` opts out, see leases.ts).
 */
import { backoffMs, sleep } from '../core/backoff';
import { ConflictError, PreconditionFailedError, TooManyAttemptsError } from './errors';
import { Leases, type LockContext, Locks, type WithLockOptions, withLock } from './leases';
import { ChangeStream, type WatchOptions } from './watch';
import { Sagas, Snapshots } from './workflows';
import { DeadLetters } from './dead-letters';
import { type Reply, type RequestOptions, Transport, type TransportOptions } from './transport';
import { type PutOptions, type WriteOptions, recordPath, writeHeaders } from './write-options';

export { type PutOptions, type WriteOptions, recordPath, writeHeaders } from './write-options';
import {
  type Fields,
  type ListPage,
  type NamespaceSettings,
  type PatchBody,
  type SiblingsRecord,
  type SiblingValue,
  type TxnBody,
  type TxnResult,
  type VestaRecord,
  type Versioned,
  type ConflictMode,
  type Health,
  type PageOptions,
  type PutBody,
  hasSiblings,
} from './types';
import { everyItem } from './pages';

export interface UpdateOptions extends Omit<WriteOptions, 'ifMatch' | 'ifNoneMatch'> {
  /**
   * Merges concurrent values (siblings mode) into one before `fn` sees it; without it, a record
   * with siblings is a `ConflictError` (`SiblingsPresent`).
   */
  readonly resolveSiblings?: (siblings: readonly SiblingValue[], record: SiblingsRecord) => Fields;
  /** Tries before `TooManyAttemptsError`. @default 100 */
  readonly maxAttempts?: number;
}

/** What `update`'s function returns: the new fields, or `undefined` to leave the record as it is. */
export type Updater = (
  current: Fields | undefined,
  record: VestaRecord | undefined,
) => Fields | undefined | Promise<Fields | undefined>;

export type ClientOptions = TransportOptions;

/** Longest pause of `update` after a lost race. */
export const UPDATE_BACKOFF_CAP_MS = 250;

export class VestaClient {
  public readonly transport: Transport;
  public readonly leases: Leases;
  public readonly locks: Locks;
  public readonly sagas: Sagas;
  public readonly snapshots: Snapshots;
  /** Items background paths set aside: list, read, replay, discard. */
  public readonly deadLetters: DeadLetters;

  /**
   * Throws `TypeError` naming the option when a URL is not an http(s) URL, when neither or both of
   * `url` and `regions` are given, or for bad `regions` or `preferRegion` (see `endpointsOf`).
   */
  public constructor(opts: ClientOptions) {
    this.transport = new Transport(opts);
    this.leases = new Leases(this.transport);
    this.locks = new Locks(this.transport, this.leases);
    this.sagas = new Sagas(this.transport);
    this.snapshots = new Snapshots(this.transport);
    this.deadLetters = new DeadLetters(this.transport);
  }

  /** Where a write goes with several Regions: `region`, else the Region of its lease (leases.ts). */
  private regionFor(opts: Pick<WriteOptions, 'region' | 'leaseId'>): string | undefined {
    return opts.region ?? (opts.leaseId === undefined ? undefined : this.leases.regionOf(opts.leaseId));
  }

  /** Runs `fn` holding lock `name` of `ns`, its writes fenced; see `withLock` in leases.ts. */
  public withLock<T>(
    ns: string,
    name: string,
    fn: (ctx: LockContext) => Promise<T>,
    opts?: WithLockOptions,
  ): Promise<T> {
    return withLock(this, ns, name, fn, opts);
  }

  /** The namespace's changes as they happen (an async iterator); see watch.ts. */
  public watch(ns: string, opts?: WatchOptions): ChangeStream {
    return new ChangeStream(this.transport, ns, opts);
  }

  public get url(): string {
    return this.transport.url;
  }

  /** Any request of the contract, for what the typed methods do not cover. */
  public request<T = unknown>(method: string, path: string, opts?: RequestOptions): Promise<Reply<T>> {
    return this.transport.request<T>(method, path, opts);
  }

  /** The record (or its siblings) and its ETag. Throws `NotFoundError` when absent. */
  public async get(
    ns: string,
    key: string,
    opts: { readonly fields?: readonly string[]; readonly signal?: AbortSignal } = {},
  ): Promise<Versioned> {
    const r = await this.request<VestaRecord | SiblingsRecord>('GET', recordPath(ns, key), {
      query: { fields: opts.fields?.join(',') },
      signal: opts.signal,
    });
    return { record: r.body, etag: r.etag ?? '' };
  }

  /** Like `get`, but `null` when the record is absent. */
  public async find(ns: string, key: string, opts: { readonly signal?: AbortSignal } = {}): Promise<Versioned | null> {
    try {
      return await this.get(ns, key, opts);
    } catch (e) {
      if ((e as { code?: string }).code === 'NotFound') return null;
      throw e;
    }
  }

  /**
   * Replaces the record (in siblings mode, adds a value unless `ifMatch` covers what is there);
   * `opts.expire` makes fields disappear that many seconds after the write (the others keep none).
   */
  public async put(
    ns: string,
    key: string,
    fields: Fields,
    opts: PutOptions = {},
  ): Promise<Versioned & { readonly created: boolean }> {
    const body: PutBody = opts.expire ? { fields, expire: { ...opts.expire } } : { fields };
    const r = await this.request<VestaRecord | SiblingsRecord>('PUT', recordPath(ns, key), {
      body,
      headers: writeHeaders(opts),
      signal: opts.signal,
      region: this.regionFor(opts),
    });
    return { record: r.body, etag: r.etag ?? '', created: r.status === 201 };
  }

  /**
   * Atomic field operations, expiries among them (`expire`, `persist`; see field-expiry.ts);
   * creates an absent record unless `ifMatch` or a `require` says otherwise. Naming in `expire` or
   * `persist` a field the record will not have is a `PreconditionFailedError` with `current`.
   */
  public async patch(
    ns: string,
    key: string,
    patch: PatchBody,
    opts: WriteOptions = {},
  ): Promise<Versioned<VestaRecord> & { readonly created: boolean }> {
    const r = await this.request<VestaRecord>('PATCH', recordPath(ns, key), {
      body: patch,
      headers: writeHeaders(opts),
      signal: opts.signal,
      region: this.regionFor(opts),
    });
    return { record: r.body, etag: r.etag ?? '', created: r.status === 201 };
  }

  /** Deletes the record. Throws `NotFoundError` when it is absent. */
  public async delete(ns: string, key: string, opts: WriteOptions = {}): Promise<void> {
    await this.request('DELETE', recordPath(ns, key), {
      headers: writeHeaders(opts),
      signal: opts.signal,
      region: this.regionFor(opts),
    });
  }

  /**
   * Read-modify-write that loses no update: reads once, calls `fn` with the current fields, and
   * writes with `If-Match` (or `If-None-Match: *` for an absent record). When another writer got
   * there first, the `412` carries the record as it now stands and its ETag, so `fn` runs again on
   * that without another read (after a short jittered pause). Returns the record written (or the current one when `fn` returns
   * `undefined`). Throws `TooManyAttemptsError` after `maxAttempts`, `ConflictError` for siblings
   * without `resolveSiblings`, and whatever `fn` throws.
   */
  public async update(
    ns: string,
    key: string,
    fn: Updater,
    opts: UpdateOptions = {},
  ): Promise<Versioned<VestaRecord> | null> {
    let cur: Versioned | null = await this.find(ns, key, { signal: opts.signal });
    const attempts = opts.maxAttempts ?? 100;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let base: Fields | undefined;
      let record: VestaRecord | undefined;
      if (cur && hasSiblings(cur.record)) {
        if (!opts.resolveSiblings) {
          throw new ConflictError({
            status: 409,
            code: 'Conflict',
            reason: 'SiblingsPresent',
            detail: `${key} has ${cur.record.siblings.length} concurrent values; pass resolveSiblings to merge them`,
          });
        }
        base = opts.resolveSiblings(cur.record.siblings, cur.record);
      } else if (cur) {
        record = cur.record as VestaRecord;
        base = record.fields;
      }
      const next = await fn(base, record);
      if (next === undefined) return cur && !hasSiblings(cur.record) ? (cur as Versioned<VestaRecord>) : null;
      try {
        const written = await this.put(ns, key, next, {
          ...opts,
          ...(cur ? { ifMatch: cur.etag } : { ifNoneMatch: true }),
        });
        return written as Versioned<VestaRecord>;
      } catch (e) {
        if (!(e instanceof PreconditionFailedError)) throw e;
        cur = e.current ? { record: e.current, etag: e.etag ?? '' } : null;
        // Lost a race: a short jittered pause spreads the contenders out (full jitter, at most 250 ms).
        await sleep(backoffMs(attempt, { baseMs: 5, capMs: UPDATE_BACKOFF_CAP_MS }));
      }
    }
    throw new TooManyAttemptsError(`update of ${ns}/${key}: other writers won ${attempts} times in a row; try again`);
  }

  /** All or nothing across keys. `PreconditionFailedError.failed` names the `require` entries that did not hold. */
  public async transact(
    ns: string,
    txn: TxnBody,
    opts: Pick<WriteOptions, 'leaseId' | 'fence' | 'idempotencyKey' | 'signal' | 'region'> = {},
  ): Promise<TxnResult[]> {
    const r = await this.request<{ results: TxnResult[] }>('POST', `/v1/ns/${encodeURIComponent(ns)}/txn`, {
      body: txn,
      headers: writeHeaders(opts),
      signal: opts.signal,
      region: this.regionFor(opts),
    });
    return r.body.results;
  }

  /** One page of keys in UTF-8 byte order. */
  public async list(ns: string, opts: PageOptions & { readonly fields?: boolean } = {}): Promise<ListPage> {
    const r = await this.request<ListPage>('GET', `/v1/ns/${encodeURIComponent(ns)}/keys`, {
      query: { prefix: opts.prefix, limit: opts.limit, cursor: opts.cursor, fields: opts.fields ? 'true' : undefined },
      signal: opts.signal,
    });
    return r.body;
  }

  /** Every key, page after page. */
  public async *listAll(
    ns: string,
    opts: Omit<PageOptions, 'limit' | 'cursor'> & { readonly fields?: boolean } = {},
  ): AsyncGenerator<ListPage['items'][number]> {
    yield* everyItem((cursor) => this.list(ns, { ...opts, limit: 1000, cursor }));
  }

  public async namespace(ns: string): Promise<NamespaceSettings> {
    return (await this.request<NamespaceSettings>('GET', `/v1/ns/${encodeURIComponent(ns)}`)).body;
  }

  /**
   * Sets a namespace's settings. Namespace settings are kept per Region (docs/regions.md), so a
   * client of several Regions sets them in every Region, one after another, each request bound to
   * its Region; it returns the settings as the last Region answered. Throws what the first Region
   * that fails throws (`RegionUnavailableError` for one that is down): the Regions before it have
   * the new settings, and calling again with the same settings is safe.
   */
  public async setNamespace(ns: string, settings: { readonly conflicts: ConflictMode }): Promise<NamespaceSettings> {
    const path = `/v1/ns/${encodeURIComponent(ns)}`;
    const regions = this.transport.regions;
    if (regions.length === 0) return (await this.request<NamespaceSettings>('PUT', path, { body: settings })).body;
    let last: NamespaceSettings | undefined;
    for (const region of regions)
      last = (await this.request<NamespaceSettings>('PUT', path, { body: settings, region, failover: false })).body;
    return last!;
  }

  public async health(): Promise<Health> {
    return (await this.request<Health>('GET', '/v1/health')).body;
  }
}
