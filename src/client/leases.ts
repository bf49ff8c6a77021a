/**
 * Leases and locks: grant, keepalive, revoke; a background keepalive that reports a lost lease at
 * once (`KeepAlive.signal` aborts, `lost` resolves); locks with fencing tokens; and `withLock`,
 * which runs work holding a lock and hands it writes fenced with the lock's token.
 *
 * Several Regions: leases and locks are Region-local (docs/regions.md); a lease, and a lock's
 * fencing token, mean nothing in another Region. So `Leases` remembers the Region that granted
 * each lease, and every later request about it (keepalive, get, revoke, acquire and release of
 * its locks, `withLock`'s fenced writes) goes to that Region only, also after the client failed
 * back or over for other requests. When that Region is unavailable the request fails with
 * `RegionUnavailableError` naming it instead of moving: the caller decides to take a new lease
 * elsewhere. A lease or lock request that names no known lease (a grant, a listing) goes to the
 * Region requests go to now, and does not fail over either. `failoverRegionLocal: true` (client
 * option) lets them all fail over, for callers that handle tokens that became meaningless.
 */
import { ApiError, LeaseLostError, NotFoundError } from './errors';
import type { Requester } from './transport';
import type { WriteOptions } from './write-options';
import type {
  AcquireBody,
  Fields,
  GrantBody,
  Lease,
  LeaseDetails,
  HeldLock,
  LockGrant,
  LockPage,
  PageOptions,
  PatchBody,
  TxnBody,
  TxnResult,
  VestaRecord,
  SiblingsRecord,
  Versioned,
} from './types';
import { everyItem } from './pages';

export interface KeepAliveOptions {
  /** Time between keepalives. @default a third of the TTL */
  readonly intervalMs?: number;
  /** Stops the keepalive (the lease is left to expire). */
  readonly signal?: AbortSignal;
  /** Called once when the lease is lost. */
  readonly onLost?: (e: LeaseLostError) => void;
}

/**
 * A lease kept alive in the background. Loss is reported the moment it is known: a keepalive
 * answered `404` (expired or revoked), or the lease's TTL passed since the last keepalive that
 * succeeded (the API unreachable meanwhile). Either way within one TTL of the lease's end.
 */
export class KeepAlive {
  private readonly controller = new AbortController();
  private timer?: NodeJS.Timeout;
  private deadline?: NodeJS.Timeout;
  private stopped = false;
  private resolveLost!: (e: LeaseLostError) => void;
  /** Resolves with the reason when the lease is lost (never when `stop` comes first). */
  public readonly lost: Promise<LeaseLostError>;
  /** Aborts (reason: a `LeaseLostError`) when the lease is lost. */
  public readonly signal: AbortSignal;
  private lastOkAt: number;

  public constructor(
    private readonly leases: Leases,
    public readonly lease: Lease,
    private readonly opts: KeepAliveOptions = {},
  ) {
    this.signal = this.controller.signal;
    this.lost = new Promise((r) => (this.resolveLost = r));
    this.lastOkAt = Date.now();
    opts.signal?.addEventListener('abort', () => this.stop(), { once: true });
    this.armDeadline();
    this.schedule();
  }

  /** Stops keeping the lease alive (it expires after its TTL unless revoked). */
  public stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadline);
  }

  private get ttlMs(): number {
    return this.lease.ttlSeconds * 1000;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.beat(), this.opts.intervalMs ?? Math.max(200, this.ttlMs / 3));
  }

  private armDeadline(): void {
    clearTimeout(this.deadline);
    const left = this.lastOkAt + this.ttlMs - Date.now();
    this.deadline = setTimeout(() => this.lose('no keepalive succeeded within its TTL'), Math.max(0, left));
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    const sentAt = Date.now();
    try {
      await this.leases.keepalive(this.lease.id, { signal: this.signal });
      if (this.stopped) return;
      this.lastOkAt = sentAt;
      this.armDeadline();
    } catch (e) {
      if (e instanceof NotFoundError) return this.lose('it expired or was revoked', e);
      // Unreachable or throttled: try again at the next beat; the deadline reports a loss.
    }
    this.schedule();
  }

  private lose(reason: string, cause?: unknown): void {
    if (this.stopped) return;
    this.stop();
    const e = new LeaseLostError(this.lease.id, reason, { cause });
    this.controller.abort(e);
    this.opts.onLost?.(e);
    this.resolveLost(e);
  }
}

export class Leases {
  /** The Region that granted each lease (client of several Regions), by lease id. */
  private readonly regions = new Map<string, string>();

  public constructor(private readonly client: Requester) {}

  /** The Region that granted lease `id` through this client, when the answer named one. */
  public regionOf(id: string): string | undefined {
    return this.regions.get(id);
  }

  /** A new lease of `ttlSeconds` (5 to 86400). */
  public async grant(
    ttlSeconds: number,
    opts: { readonly executionArn?: string; readonly idempotencyKey?: string } = {},
  ): Promise<Lease> {
    const body: GrantBody = { ttlSeconds, ...(opts.executionArn ? { executionArn: opts.executionArn } : {}) };
    const r = await this.client.request<Lease>('POST', '/v1/leases', {
      body,
      headers: { 'idempotency-key': opts.idempotencyKey },
    });
    if (r.region !== undefined && r.body && typeof r.body.id === 'string') this.regions.set(r.body.id, r.region);
    return r.body;
  }

  /** Restarts the TTL. Throws `NotFoundError` once the lease has expired or was revoked (never revived). */
  public async keepalive(id: string, opts: { readonly signal?: AbortSignal } = {}): Promise<Lease> {
    return (
      await this.client.request<Lease>('POST', `/v1/leases/${encodeURIComponent(id)}/keepalive`, {
        signal: opts.signal,
        region: this.regionOf(id),
      })
    ).body;
  }

  public async get(id: string): Promise<LeaseDetails> {
    const path = `/v1/leases/${encodeURIComponent(id)}`;
    return (await this.client.request<LeaseDetails>('GET', path, { region: this.regionOf(id) })).body;
  }

  /** Ends the lease: its records and locks go with it. Throws `NotFoundError` when it is already gone. */
  public async revoke(id: string): Promise<void> {
    try {
      await this.client.request('DELETE', `/v1/leases/${encodeURIComponent(id)}`, { region: this.regionOf(id) });
    } catch (e) {
      if (e instanceof NotFoundError) this.regions.delete(id);
      throw e;
    }
    this.regions.delete(id);
  }

  /** Keeps `lease` alive in the background until `stop()` or its loss. */
  public keepAlive(lease: Lease, opts?: KeepAliveOptions): KeepAlive {
    return new KeepAlive(this, lease, opts);
  }
}

export class Locks {
  /** `leases` tells the Region of a lease (several Regions): a lock is taken where its lease lives. */
  public constructor(
    private readonly client: Requester,
    private readonly leases?: Pick<Leases, 'regionOf'>,
  ) {}

  /** One page of the locks of `ns` held now, by name; `prefix` keeps the names that start with it. */
  public async list(ns: string, opts: PageOptions = {}): Promise<LockPage> {
    const r = await this.client.request<LockPage>('GET', `/v1/ns/${encodeURIComponent(ns)}/locks`, {
      query: { prefix: opts.prefix || undefined, limit: opts.limit, cursor: opts.cursor },
      signal: opts.signal,
    });
    return r.body;
  }

  /** Every lock of `ns` held now, page after page. */
  public async *listAll(ns: string, opts: Omit<PageOptions, 'limit' | 'cursor'> = {}): AsyncGenerator<HeldLock> {
    yield* everyItem((cursor) => this.list(ns, { ...opts, limit: 1000, cursor }));
  }

  /** Takes lock `name` for `leaseId`. Throws `ConflictError` (`LockHeld`, with `holder`) when another live lease holds it. */
  public async acquire(ns: string, name: string, leaseId: string): Promise<LockGrant> {
    return (
      await this.client.request<LockGrant>(
        'POST',
        `/v1/ns/${encodeURIComponent(ns)}/locks/${encodeURIComponent(name)}`,
        { body: { leaseId } satisfies AcquireBody, region: this.leases?.regionOf(leaseId) },
      )
    ).body;
  }

  /** Releases it. Throws `ConflictError` when another lease holds it, `NotFoundError` when nobody does. */
  public async release(ns: string, name: string, leaseId: string): Promise<void> {
    await this.client.request('DELETE', `/v1/ns/${encodeURIComponent(ns)}/locks/${encodeURIComponent(name)}`, {
      headers: { 'x-lease-id': leaseId },
      region: this.leases?.regionOf(leaseId),
    });
  }
}

/** What `withLock` hands its function: the token, the lease, and writes fenced with the token. */
export interface LockContext {
  readonly ns: string;
  readonly name: string;
  readonly fencingToken: number;
  readonly leaseId: string;
  /** Aborts (reason: `LeaseLostError`) when the lease, and so the lock, is lost. */
  readonly signal: AbortSignal;
  put(
    key: string,
    fields: Fields,
    opts?: Omit<WriteOptions, 'fence'>,
  ): Promise<Versioned<VestaRecord | SiblingsRecord>>;
  patch(key: string, patch: PatchBody, opts?: Omit<WriteOptions, 'fence'>): Promise<Versioned<VestaRecord>>;
  delete(key: string, opts?: Omit<WriteOptions, 'fence'>): Promise<void>;
  transact(txn: TxnBody): Promise<TxnResult[]>;
}

/** What `withLock` needs of the client: its leases and locks, and the record writes it fences. */
export interface LockingClient {
  readonly leases: Leases;
  readonly locks: Locks;
  put(ns: string, key: string, fields: Fields, opts?: WriteOptions): Promise<Versioned<VestaRecord | SiblingsRecord>>;
  patch(ns: string, key: string, patch: PatchBody, opts?: WriteOptions): Promise<Versioned<VestaRecord>>;
  delete(ns: string, key: string, opts?: WriteOptions): Promise<void>;
  transact(ns: string, txn: TxnBody, opts?: Pick<WriteOptions, 'fence' | 'region'>): Promise<TxnResult[]>;
}

export interface WithLockOptions {
  /** TTL of the lease that holds the lock. @default 30 */
  readonly ttlSeconds?: number;
  /** Keep trying to take a held lock this long (ms). @default 0: fail at once with `ConflictError` */
  readonly waitMs?: number;
  /** Pause between tries while waiting. @default 500 */
  readonly retryMs?: number;
}

/**
 * Runs `fn` holding lock `name` of `ns`: grants a lease, keeps it alive, takes the lock and hands
 * `fn` the fencing token with writes that carry it, so a write made after the lock was lost is
 * refused by the store (`ConflictError`, `FencingTokenStale`). Afterwards releases the lock and
 * revokes the lease, also when `fn` throws. Throws what `fn` throws, `ConflictError` (`LockHeld`)
 * when the lock stays held by another, or `LeaseLostError` when the lease was lost while `fn` ran
 * and `fn` did not throw first.
 */
export async function withLock<T>(
  client: LockingClient,
  ns: string,
  name: string,
  fn: (ctx: LockContext) => Promise<T>,
  opts: WithLockOptions = {},
): Promise<T> {
  const lease = await client.leases.grant(opts.ttlSeconds ?? 30);
  const alive = client.leases.keepAlive(lease);
  try {
    const grant = await acquireWaiting(client, ns, name, lease.id, opts);
    const fence = { lock: name, token: grant.fencingToken };
    // The lease's Region: fenced writes made elsewhere would be refused (tokens are Region-local).
    const region = client.leases.regionOf(lease.id);
    const ctx: LockContext = {
      ns,
      name,
      fencingToken: grant.fencingToken,
      leaseId: lease.id,
      signal: alive.signal,
      put: (key, fields, o) => client.put(ns, key, fields, { region, ...o, fence }),
      patch: (key, patch, o) => client.patch(ns, key, patch, { region, ...o, fence }),
      delete: (key, o) => client.delete(ns, key, { region, ...o, fence }),
      transact: (txn) => client.transact(ns, txn, { fence, region }),
    };
    const result = await fn(ctx);
    if (alive.signal.aborted) throw alive.signal.reason;
    // The background keepalive beats every third of the TTL: ask once more, so that a lease lost
    // since its last beat is reported instead of a success.
    try {
      await client.leases.keepalive(lease.id);
    } catch (e) {
      if (e instanceof NotFoundError)
        throw new LeaseLostError(lease.id, 'it expired or was revoked while the work ran', { cause: e });
      throw e;
    }
    return result;
  } finally {
    alive.stop();
    await client.locks.release(ns, name, lease.id).catch(() => undefined);
    await client.leases.revoke(lease.id).catch(() => undefined);
  }
}

async function acquireWaiting(
  client: LockingClient,
  ns: string,
  name: string,
  leaseId: string,
  opts: WithLockOptions,
): Promise<LockGrant> {
  const until = Date.now() + (opts.waitMs ?? 0);
  for (;;) {
    try {
      return await client.locks.acquire(ns, name, leaseId);
    } catch (e) {
      const held =
        e instanceof ApiError &&
        e.code === 'Conflict' &&
        (e.problem.reason === 'LockHeld' || e.problem.reason === undefined);
      if (!held || Date.now() >= until) throw e;
      await new Promise((r) => setTimeout(r, Math.min(opts.retryMs ?? 500, Math.max(0, until - Date.now()))));
    }
  }
}
