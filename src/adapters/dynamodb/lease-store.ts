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
import { type DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { NotFoundError } from '../../core/errors';
import { type Lease, type LeaseHoldings, type LockGrant, isLeaseLive, newLeaseId } from '../../core/leases';
import type { Clock, LeaseStore, LockListQuery } from '../../core/ports';
import type { LockPage } from '../../core/wire/leases';
import { LEASE_SK, expiryShardOf, holdingOf, leaseKey, leasePk, lockKey, renewShardOf } from './control-keys';
import { guarded, isConditionFailure } from './errors';
import { Expr, N, S, attributeNotExists } from './expressions';
import { type AttachedRecords, removeHoldings, stillHeld } from './lease-cleanup';
import { listLocks } from './lock-list';
import { type LockWriteDeps, acquireLock, leaseFrom, releaseLock, whileLive } from './lock-writes';

export { leaseFrom } from './lock-writes';
import { queryPages } from './query';

export const EXPIRY_SHARDS = 16;
/** The condition of a Put that must not overwrite an item. */
const NEW_ITEM = (() => {
  const e = new Expr();
  return e.require(attributeNotExists(e.name('pk'))).params();
})();
/** DynamoDB TTL may delete a lease item this long after it expired (reads never rely on it). */
const TTL_GRACE_SECONDS = 86400;

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

  /** See `acquireLock` (lock-writes.ts). */
  public acquire(ns: string, name: string, leaseId: string): Promise<LockGrant> {
    return acquireLock(this.lockWrites(), ns, name, leaseId);
  }

  /** See `releaseLock` (lock-writes.ts). */
  public release(ns: string, name: string, leaseId: string): Promise<void> {
    return releaseLock(this.lockWrites(), ns, name, leaseId);
  }

  private lockWrites(): LockWriteDeps {
    return { client: this.client, table: this.table, now: this.now() };
  }

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
}
