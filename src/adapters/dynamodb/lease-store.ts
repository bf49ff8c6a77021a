/**
 * Leases and locks in the control table (key formats in `control-keys.ts`).
 *
 * - lease `pk = lease#<id>, sk = #lease`: ttlSeconds, ttlMs, expiresAt (epoch ms), shard (the
 *   expiry index's partition, so the reaper can find expired leases without a scan), ttl (epoch
 *   seconds, for DynamoDB's clean-up only; expiry is always checked against expiresAt);
 * - what a lease holds: `pk = lease#<id>, sk = key#<ns>#<key>` or `lock#<ns>#<name>`;
 * - lock `pk = lock#<ns>#<name>, sk = #lock`: token (only grows); while held, leaseId and
 *   holderExpiresAt (the holder lease's expiry as the acquire wrote it, see `HOLDER_EXPIRES_AT`).
 *
 * Keepalive is one conditional UpdateItem that fails once the lease has expired, so an expired
 * lease never comes back. Acquire is one transaction (lease still live + lock free); taking a
 * lock from a holder whose lease expired is a second one, conditioned on that expiry. Release is
 * one plain conditional UpdateItem on the lock item (held by this lease, whose expiry as copied
 * there has not passed); a transaction only when that copy has passed and the lease may have
 * been kept alive since. Why that is safe: docs/concepts.md, "What each lock path costs".
 */
import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ConflictError, NotFoundError } from '../../core/errors';
import {
  type Lease,
  type LeaseHoldings,
  type LockGrant,
  isLeaseLive,
  newLeaseId,
  tokenCandidate,
  ttlOfLeaseId,
} from '../../core/leases';
import type { Clock, LeaseStore, LockListQuery } from '../../core/ports';
import type { LockPage } from '../../core/wire/leases';
import type { Item } from './codec';
import {
  LEASE_SK,
  expiryShardOf,
  heldLockKey,
  holdingOf,
  leaseIdOf,
  leaseKey,
  leasePk,
  lockKey,
  renewShardOf,
} from './control-keys';
import { cancellationReasons, conditionFailed } from './cancellation';
import { errorName, guarded, isConditionFailure } from './errors';
import { Expr, N, S, attributeNotExists } from './expressions';
import { type AttachedRecords, HOLDER_EXPIRES_AT, removeHoldings, stillHeld, unlockBy } from './lease-cleanup';
import { leaseExpiries, listLocks } from './lock-list';
import { queryPages } from './query';

export const EXPIRY_SHARDS = 16;
/** The condition of a Put that must not overwrite an item. */
const NEW_ITEM = (() => {
  const e = new Expr();
  return e.require(attributeNotExists(e.name('pk'))).params();
})();
/** DynamoDB TTL may delete a lease item this long after it expired (reads never rely on it). */
const TTL_GRACE_SECONDS = 86400;

const inProgress = () => new ConflictError('LockHeld', 'another request on this lock is in progress; retry');

/** An expression whose condition is "the lease item is live at `now`". */
function whileLive(now: number): { e: Expr; now: string } {
  const e = new Expr();
  const at = e.value(N(now));
  e.require(`${e.name('expiresAt')} > ${at}`);
  return { e, now: at };
}

export function leaseFrom(item: Item | undefined): Lease | undefined {
  if (!item?.expiresAt?.N) return undefined;
  return { id: leaseIdOf(item.pk.S!), ttlSeconds: Number(item.ttlSeconds.N), expiresAt: Number(item.expiresAt.N) };
}

/** The lease port on DynamoDB; `records` expires the records of a revoked or reaped lease. */
export class DynamoLeaseStore implements LeaseStore {
  public constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly clock: Clock,
    private readonly records: AttachedRecords,
  ) {}

  private now(): number {
    return this.clock.now().getTime();
  }

  /** Grants a lease. One PutItem. */
  public async grant(ttlSeconds: number, executionArn?: string): Promise<Lease> {
    const now = this.now();
    const lease: Lease = { id: newLeaseId(ttlSeconds), ttlSeconds, expiresAt: now + ttlSeconds * 1000 };
    await guarded(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            ...leaseKey(lease.id),
            ttlSeconds: N(ttlSeconds),
            ttlMs: N(ttlSeconds * 1000),
            expiresAt: N(lease.expiresAt),
            shard: S(expiryShardOf(lease.id, EXPIRY_SHARDS)),
            ttl: N(Math.floor(lease.expiresAt / 1000) + TTL_GRACE_SECONDS),
            ...(executionArn
              ? { executionArn: S(executionArn), rshard: S(renewShardOf(lease.id, EXPIRY_SHARDS)) }
              : {}),
          },
          ...NEW_ITEM,
        }),
      ),
    );
    return lease;
  }

  /** Restarts the TTL of a live lease. One UpdateItem; `NotFoundError` once it expired or was revoked. */
  public async keepalive(id: string): Promise<Lease> {
    const now = this.now();
    const { e, now: at } = whileLive(now);
    e.set(`${e.name('expiresAt')} = ${e.name('ttlMs')} + ${at}`).set(
      `${e.name('ttl')} = ${e.name('ttlSeconds')} + ${e.value(N(Math.floor(now / 1000) + TTL_GRACE_SECONDS))}`,
    );
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: leaseKey(id),
          ...e.updateParams(),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return leaseFrom(out.Attributes)!;
    } catch (e) {
      if (isConditionFailure(e)) throw new NotFoundError(`lease ${id} does not exist or has expired`);
      return guarded(() => Promise.reject(e));
    }
  }

  /** The lease if it is live, else undefined. One GetItem. */
  public async load(id: string): Promise<Lease | undefined> {
    const out = await guarded(() =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: leaseKey(id), ConsistentRead: true })),
    );
    const lease = leaseFrom(out.Item);
    return isLeaseLive(lease, this.now()) ? lease : undefined;
  }

  /**
   * What a lease's holding items name (records and locks), whether or not it is live. Reads only
   * the holding items (they sort after the lease item), so a lease that holds nothing costs no
   * item read. A lock it released is still named (see `describe`).
   */
  public async holdings(id: string): Promise<LeaseHoldings> {
    const holdings: LeaseHoldings = { keys: [], locks: [] };
    const e = new Expr();
    e.key(`${e.name('pk')} = ${e.value(S(leasePk(id)))}`).key(`${e.name('sk')} > ${e.value(S(LEASE_SK))}`);
    const pages = queryPages(this.client, { TableName: this.table, ...e.queryParams(), ConsistentRead: true });
    for await (const page of pages) {
      for (const it of page.items) {
        const h = holdingOf(it.sk.S ?? '');
        if (h?.kind === 'key') holdings.keys.push({ namespace: h.namespace, key: h.name });
        if (h?.kind === 'lock') holdings.locks.push({ namespace: h.namespace, name: h.name });
      }
    }
    return holdings;
  }

  /**
   * The live lease and what it holds: the locks its holding items name, less those it released
   * (one more read, only when it has lock holdings). Throws `NotFoundError` when it is not live.
   */
  public async describe(id: string): Promise<{ lease: Lease; holdings: LeaseHoldings }> {
    const [lease, holdings] = await Promise.all([this.load(id), this.holdings(id)]);
    if (!lease) throw new NotFoundError(`lease ${id} does not exist or has expired`);
    if (holdings.locks.length === 0) return { lease, holdings };
    return {
      lease,
      holdings: { keys: holdings.keys, locks: await stillHeld(this.client, this.table, id, holdings.locks) },
    };
  }

  /** Ends a live lease at once (reads treat its records as gone from now on). `NotFoundError` if not live. */
  public async end(id: string): Promise<void> {
    const { e, now } = whileLive(this.now());
    e.set(`${e.name('expiresAt')} = ${now}`);
    try {
      await this.client.send(new UpdateItemCommand({ TableName: this.table, Key: leaseKey(id), ...e.updateParams() }));
    } catch (e) {
      if (isConditionFailure(e)) throw new NotFoundError(`lease ${id} does not exist or has expired`);
      return guarded(() => Promise.reject(e));
    }
  }

  /**
   * Ends the lease first (from then on every read treats its records as gone, and no acquire or
   * lease-bound write can commit with it), then reads what it holds, removes its records and
   * locks and deletes the lease. Reading the holdings only after the end is what makes an
   * acquire racing the revoke either fail or be freed here. Safe to run twice, or after a partial
   * run. Throws `NotFoundError` when the lease is not live.
   */
  public async revoke(id: string): Promise<void> {
    await this.end(id);
    await this.cleanUp(id, await this.holdings(id));
  }

  /**
   * Removes what an ended lease held, then the lease and its holding items; returns how many
   * locks it freed (a holding left by a release frees none). Throws store errors.
   */
  public cleanUp(id: string, holdings: LeaseHoldings): Promise<number> {
    return removeHoldings(this.client, this.table, this.records, id, holdings);
  }

  /**
   * Acquires lock `name` of `ns` for a live lease, renewing the lease (taking a lock is a sign of
   * life). One transaction when the lock is free: the lease (still live, renewed), the lock (free,
   * a greater token, the renewed expiry copied) and the lease's holding item. The holder asking
   * again gets its token back (a second transaction renews the lease and the copy); taking over
   * from a holder whose lease expired is a second transaction conditioned on that expiry. Throws
   * `ConflictError` LeaseNotFound (lease not live) or LockHeld (another live lease holds it; the
   * error carries `holder`: its token and expiry, never its lease id).
   */
  public async acquire(ns: string, name: string, leaseId: string): Promise<LockGrant> {
    const ttl = ttlOfLeaseId(leaseId);
    if (ttl === undefined) throw new ConflictError('LeaseNotFound', `lease ${leaseId} does not exist or has expired`);
    const now = this.now();
    const expiresAt = now + ttl * 1000;
    const cand = tokenCandidate(now);
    const renewLease = (): TransactWriteItem => {
      const renew = whileLive(now).e;
      renew.set(`${renew.name('expiresAt')} = ${renew.value(N(expiresAt))}`);
      return { Update: { TableName: this.table, Key: leaseKey(leaseId), ...renew.updateParams() } };
    };
    const lockUpdate = (lock: Expr): TransactWriteItem => ({
      Update: {
        TableName: this.table,
        Key: lockKey(ns, name),
        ...lock.updateParams(),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    // The token is `granted`'s at the time of the call (a retry takes a greater one).
    const take = (holderClause: (e: Expr) => string, extra: TransactWriteItem[] = []) => {
      const lock = new Expr();
      const token = lock.name('token');
      const t = lock.value(N(granted.fencingToken));
      lock
        .set(`${lock.name('leaseId')} = ${lock.value(S(leaseId))}`)
        .set(`${token} = ${t}`)
        .set(`${lock.name(HOLDER_EXPIRES_AT)} = ${lock.value(N(expiresAt))}`)
        .set(`${lock.name('acquiredAt')} = ${lock.value(N(now))}`)
        .set(`${lock.name('lockNs')} = ${lock.value(S(ns))}`)
        .set(`${lock.name('lockName')} = ${lock.value(S(name))}`);
      lock.require(holderClause(lock)).require(`${attributeNotExists(token)} OR ${token} < ${t}`);
      return this.transact([
        renewLease(),
        lockUpdate(lock),
        { Put: { TableName: this.table, Item: heldLockKey(leaseId, ns, name) } },
        ...extra,
      ]);
    };
    const free = (e: Expr) => attributeNotExists(e.name('leaseId'));
    let granted = { name, leaseId, fencingToken: cand, expiresAt };
    const notLive = () => new ConflictError('LeaseNotFound', `lease ${leaseId} does not exist or has expired`);
    let first = await this.attempt(() => take(free));
    if (first.kind === 'ok') return granted;
    if (first.leaseFailed) throw notLive();
    if (!first.lock?.leaseId && first.lock?.token?.N) {
      // Free, but its token is ahead of this instance's clock: take the next token instead.
      const next = tokenCandidate(now, Number(first.lock.token.N) + 1);
      granted = { ...granted, fencingToken: next };
      first = await this.attempt(() => take(free));
      if (first.kind === 'ok') return granted;
      if (first.leaseFailed) throw notLive();
    }
    const holder = first.lock?.leaseId?.S;
    if (holder === leaseId) {
      // Already ours: renew the lease and the copy of its expiry, keep the token.
      const held = Number(first.lock!.token.N);
      const lock = new Expr();
      lock
        .set(`${lock.name(HOLDER_EXPIRES_AT)} = ${lock.value(N(expiresAt))}`)
        .require(`${lock.name('leaseId')} = ${lock.value(S(leaseId))}`)
        .require(`${lock.name('token')} = ${lock.value(N(held))}`);
      const again = await this.attempt(() => this.transact([renewLease(), lockUpdate(lock)]));
      if (again.kind === 'ok') return { name, leaseId, fencingToken: held, expiresAt };
      if (again.leaseFailed) throw notLive();
      throw new ConflictError('LockHeld', `lock ${name} changed while being acquired; retry`);
    }
    if (!holder) throw new ConflictError('LockHeld', `lock ${name} is being taken by another lease; retry`);
    granted = { ...granted, fencingToken: tokenCandidate(now, Number(first.lock?.token?.N ?? 0) + 1) };
    const expired = new Expr();
    expired.require(
      `${attributeNotExists(expired.name('pk'))} OR ${expired.name('expiresAt')} <= ${expired.value(N(now))}`,
    );
    const takeover = await this.attempt(() =>
      take(
        (e) => `${e.name('leaseId')} = ${e.value(S(holder))}`,
        [
          {
            ConditionCheck: {
              TableName: this.table,
              Key: leaseKey(holder),
              ...expired.checkParams(),
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
      ),
    );
    if (takeover.kind === 'ok') return granted;
    if (takeover.leaseFailed) throw notLive();
    const holderLease = leaseFrom(takeover.other);
    const err = new ConflictError('LockHeld', `lock ${name} is held by another lease`);
    // The holder's lease id is its secret (it revokes the lease): only the token and the expiry go out.
    err.holder = {
      fencingToken: Number(takeover.lock?.token?.N ?? first.lock?.token?.N ?? 0),
      expiresAt: holderLease ? new Date(holderLease.expiresAt).toISOString() : null,
    };
    throw err;
  }

  /**
   * Releases lock `name` held by `leaseId` (the token stays, so the next holder's is greater).
   * One conditional UpdateItem while the expiry the lock item keeps of its holder's lease has not
   * passed; after it has (the lease was kept alive since, or it expired), one transaction that
   * checks the lease itself. The holding item stays until the lease ends (the reaper or a revoke
   * removes it). Throws `NotFoundError` when nobody holds it (or only an expired lease does),
   * `ConflictError` LockHeld when another live lease does.
   */
  public async release(ns: string, name: string, leaseId: string): Promise<void> {
    const now = this.now();
    const unlock = unlockBy(leaseId);
    unlock.require(`${unlock.name(HOLDER_EXPIRES_AT)} > ${unlock.value(N(now))}`);
    let old: Item | undefined;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: lockKey(ns, name),
          ...unlock.updateParams(),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return;
    } catch (e) {
      // A plain write on an item that a transaction is changing is refused, not queued.
      if (errorName(e) === 'TransactionConflictException') throw inProgress();
      if (!isConditionFailure(e)) return guarded(() => Promise.reject(e));
      old = (e as { Item?: Item }).Item;
    }
    const holder = old?.leaseId?.S;
    if (holder === leaseId) {
      // Ours, but the copy of the lease's expiry has passed: ask the lease itself.
      const r = await this.attempt(() =>
        this.transact([
          { ConditionCheck: { TableName: this.table, Key: leaseKey(leaseId), ...whileLive(now).e.checkParams() } },
          {
            Update: {
              TableName: this.table,
              Key: lockKey(ns, name),
              ...unlockBy(leaseId).updateParams(),
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ]),
      );
      if (r.kind === 'ok') return;
      throw new NotFoundError(`lock ${name} is not held by lease ${leaseId}`);
    }
    if (!holder) throw new NotFoundError(`nobody holds lock ${name}`);
    // Another lease's: 404 unless both the caller's lease and the holder's are live.
    const expiries = await leaseExpiries(this.client, this.table, [leaseId, holder]);
    const live = (id: string) => (expiries.get(id) ?? 0) > now;
    if (!live(leaseId)) throw new NotFoundError(`lock ${name} is not held by lease ${leaseId}`);
    if (!live(holder)) throw new NotFoundError(`nobody holds lock ${name}`);
    throw new ConflictError('LockHeld', `lock ${name} is held by another lease`);
  }

  /** The locks of `ns` held now, by name (`listLocks` of `lock-list.ts`). */
  public locks(ns: string, q: LockListQuery): Promise<LockPage> {
    return listLocks(this.client, this.table, ns, q, this.now());
  }

  /** The lock's holder and token, whether or not the holder's lease is live. */
  public async lock(ns: string, name: string): Promise<{ leaseId?: string; token?: number }> {
    const out = await guarded(() =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: lockKey(ns, name), ConsistentRead: true })),
    );
    return { leaseId: out.Item?.leaseId?.S, token: out.Item?.token?.N ? Number(out.Item.token.N) : undefined };
  }

  private transact(items: TransactWriteItem[]): Promise<unknown> {
    return this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
  }

  /** Runs a lock transaction; item 0 is always the caller's lease, item 1 the lock, item 3 a holder's lease. */
  private async attempt(
    run: () => Promise<unknown>,
  ): Promise<{ kind: 'ok' } | { kind: 'failed'; leaseFailed: boolean; lock?: Item; other?: Item }> {
    try {
      await run();
      return { kind: 'ok' };
    } catch (e) {
      const r = cancellationReasons(e);
      if (!r) return guarded(() => Promise.reject(e));
      if (r.some((x) => x.Code === 'TransactionConflict')) throw inProgress();
      return { kind: 'failed', leaseFailed: conditionFailed(r[0]), lock: r[1]?.Item, other: r[3]?.Item };
    }
  }
}
