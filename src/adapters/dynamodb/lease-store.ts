/**
 * Leases and locks in the control table (key formats in `control-keys.ts`).
 *
 * - lease `pk = lease#<id>, sk = #lease`: ttlSeconds, ttlMs, expiresAt (epoch ms), shard (the
 *   expiry index's partition, so the reaper can find expired leases without a scan), ttl (epoch
 *   seconds, for DynamoDB's clean-up only; expiry is always checked against expiresAt);
 * - what a lease holds: `pk = lease#<id>, sk = key#<ns>#<key>` or `lock#<ns>#<name>`;
 * - lock `pk = lock#<ns>#<name>, sk = #lock`: token (only grows), leaseId while held.
 *
 * Keepalive is one conditional UpdateItem that fails once the lease has expired, so an expired
 * lease never comes back. Acquire is one transaction (lease still live + lock free); taking a
 * lock from a holder whose lease expired is a second one, conditioned on that expiry.
 */
import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ConflictError, NotFoundError } from '../../core/errors';
import { type Lease, type LeaseHoldings, type LockGrant, isLeaseLive, newLeaseId, tokenCandidate, ttlOfLeaseId } from '../../core/leases';
import type { Clock, LeaseStore } from '../../core/ports';
import type { Item } from './codec';
import { LEASE_SK, expiryShardOf, heldLockKey, holdingOf, leaseIdOf, leaseKey, leasePk, lockKey, renewShardOf } from './control-keys';
import { errorName, guarded, isConditionFailure } from './errors';
import { N, S } from './expressions';
import { type AttachedRecords, removeHoldings } from './lease-cleanup';
import { queryPages } from './query';

export const EXPIRY_SHARDS = 16;
/** DynamoDB TTL may delete a lease item this long after it expired (reads never rely on it). */
const TTL_GRACE_SECONDS = 86400;

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
            ...(executionArn ? { executionArn: S(executionArn), rshard: S(renewShardOf(lease.id, EXPIRY_SHARDS)) } : {}),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    return lease;
  }

  /** Restarts the TTL of a live lease. One UpdateItem; `NotFoundError` once it expired or was revoked. */
  public async keepalive(id: string): Promise<Lease> {
    const now = this.now();
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: leaseKey(id),
          UpdateExpression: 'SET expiresAt = ttlMs + :now, #ttl = ttlSeconds + :ttlBase',
          ConditionExpression: 'expiresAt > :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': N(now), ':ttlBase': N(Math.floor(now / 1000) + TTL_GRACE_SECONDS) },
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
    const out = await guarded(() => this.client.send(new GetItemCommand({ TableName: this.table, Key: leaseKey(id), ConsistentRead: true })));
    const lease = leaseFrom(out.Item);
    return isLeaseLive(lease, this.now()) ? lease : undefined;
  }

  /**
   * What a lease holds (records and locks), whether or not it is live. Reads only the holding
   * items (they sort after the lease item), so a lease that holds nothing costs no item read.
   */
  public async holdings(id: string): Promise<LeaseHoldings> {
    const holdings: LeaseHoldings = { keys: [], locks: [] };
    const pages = queryPages(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND sk > :lease',
      ExpressionAttributeValues: { ':pk': S(leasePk(id)), ':lease': S(LEASE_SK) },
      ConsistentRead: true,
    });
    for await (const page of pages) {
      for (const it of page.items) {
        const h = holdingOf(it.sk.S ?? '');
        if (h?.kind === 'key') holdings.keys.push({ namespace: h.namespace, key: h.name });
        if (h?.kind === 'lock') holdings.locks.push({ namespace: h.namespace, name: h.name });
      }
    }
    return holdings;
  }

  /** The live lease and what it holds. Throws `NotFoundError` when it is not live. */
  public async describe(id: string): Promise<{ lease: Lease; holdings: LeaseHoldings }> {
    const [lease, holdings] = await Promise.all([this.load(id), this.holdings(id)]);
    if (!lease) throw new NotFoundError(`lease ${id} does not exist or has expired`);
    return { lease, holdings };
  }

  /** Ends a live lease at once (reads treat its records as gone from now on). `NotFoundError` if not live. */
  public async end(id: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: leaseKey(id),
          UpdateExpression: 'SET expiresAt = :now',
          ConditionExpression: 'expiresAt > :now',
          ExpressionAttributeValues: { ':now': N(this.now()) },
        }),
      );
    } catch (e) {
      if (isConditionFailure(e)) throw new NotFoundError(`lease ${id} does not exist or has expired`);
      return guarded(() => Promise.reject(e));
    }
  }

  /**
   * Ends the lease first (from then on every read treats its records as gone), then removes its
   * records and locks and deletes the lease. Safe to run twice, or after a partial run. Throws
   * `NotFoundError` when the lease is not live.
   */
  public async revoke(id: string): Promise<void> {
    const { holdings } = await this.describe(id);
    await this.end(id);
    await this.cleanUp(id, holdings);
  }

  /** Removes what an ended lease held, then the lease and its holding items. Throws store errors. */
  public cleanUp(id: string, holdings: LeaseHoldings): Promise<void> {
    return removeHoldings(this.client, this.table, this.records, id, holdings);
  }

  /**
   * Acquires lock `name` of `ns` for a live lease, renewing the lease (taking a lock is a sign of
   * life). One transaction when the lock is free; the holder asking again gets its token back
   * (and a keepalive); taking over from a holder whose lease expired is a second transaction
   * conditioned on that expiry. Throws `ConflictError` LeaseNotFound (lease not live) or LockHeld
   * (another live lease holds it; the error carries `holder`: its token and expiry, never its
   * lease id).
   */
  public async acquire(ns: string, name: string, leaseId: string): Promise<LockGrant> {
    const ttl = ttlOfLeaseId(leaseId);
    if (ttl === undefined) throw new ConflictError('LeaseNotFound', `lease ${leaseId} does not exist or has expired`);
    const now = this.now();
    const expiresAt = now + ttl * 1000;
    const cand = tokenCandidate(now);
    const take = (holderCondition: string, values: Item, extra: object[] = []) =>
      this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: leaseKey(leaseId),
                UpdateExpression: 'SET expiresAt = :exp',
                ConditionExpression: 'expiresAt > :now',
                ExpressionAttributeValues: { ':now': N(now), ':exp': N(expiresAt) },
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: lockKey(ns, name),
                UpdateExpression: 'SET leaseId = :l, #token = :t, acquiredAt = :now',
                ConditionExpression: `(${holderCondition}) AND (attribute_not_exists(#token) OR #token < :t)`,
                ExpressionAttributeNames: { '#token': 'token' },
                ExpressionAttributeValues: { ':l': S(leaseId), ':t': N(granted.fencingToken), ':now': N(now), ...values },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            { Put: { TableName: this.table, Item: heldLockKey(leaseId, ns, name) } },
            ...extra,
          ] as never,
        }),
      );
    let granted = { name, leaseId, fencingToken: cand, expiresAt };
    const notLive = () => new ConflictError('LeaseNotFound', `lease ${leaseId} does not exist or has expired`);
    let first = await this.attempt(() => take('attribute_not_exists(leaseId)', {}));
    if (first.kind === 'ok') return granted;
    if (first.leaseFailed) throw notLive();
    if (!first.lock?.leaseId && first.lock?.token?.N) {
      // Free, but its token is ahead of this instance's clock: take the next token instead.
      const next = tokenCandidate(now, Number(first.lock.token.N) + 1);
      granted = { ...granted, fencingToken: next };
      first = await this.attempt(() => take('attribute_not_exists(leaseId)', { ':t': N(next) }));
      if (first.kind === 'ok') return granted;
      if (first.leaseFailed) throw notLive();
    }
    const holder = first.lock?.leaseId?.S;
    if (holder === leaseId) {
      const renewed = await this.keepalive(leaseId).catch(() => {
        throw notLive();
      });
      return { name, leaseId, fencingToken: Number(first.lock!.token.N), expiresAt: renewed.expiresAt };
    }
    if (!holder) throw new ConflictError('LockHeld', `lock ${name} is being taken by another lease; retry`);
    granted = { ...granted, fencingToken: tokenCandidate(now, Number(first.lock?.token?.N ?? 0) + 1) };
    const takeover = await this.attempt(() =>
      take('leaseId = :holder', { ':holder': S(holder) }, [
        {
          ConditionCheck: {
            TableName: this.table,
            Key: leaseKey(holder),
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
            ExpressionAttributeValues: { ':now': N(now) },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ]),
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
   * One transaction. Throws `NotFoundError` when nobody holds it, `ConflictError` LockHeld when
   * another lease does.
   */
  public async release(ns: string, name: string, leaseId: string): Promise<void> {
    const r = await this.attempt(() =>
      this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { ConditionCheck: { TableName: this.table, Key: leaseKey(leaseId), ConditionExpression: 'expiresAt > :now', ExpressionAttributeValues: { ':now': N(this.now()) } } },
            {
              Update: {
                TableName: this.table,
                Key: lockKey(ns, name),
                UpdateExpression: 'REMOVE leaseId',
                ConditionExpression: 'leaseId = :l',
                ExpressionAttributeValues: { ':l': S(leaseId) },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            { Delete: { TableName: this.table, Key: heldLockKey(leaseId, ns, name) } },
          ],
        }),
      ),
    );
    if (r.kind === 'ok') return;
    if (r.leaseFailed) throw new NotFoundError(`lock ${name} is not held by lease ${leaseId}`);
    const holder = r.lock?.leaseId?.S;
    if (!holder || !(await this.load(holder))) throw new NotFoundError(`nobody holds lock ${name}`);
    throw new ConflictError('LockHeld', `lock ${name} is held by another lease`);
  }

  /** The lock's holder and token, whether or not the holder's lease is live. */
  public async lock(ns: string, name: string): Promise<{ leaseId?: string; token?: number }> {
    const out = await guarded(() => this.client.send(new GetItemCommand({ TableName: this.table, Key: lockKey(ns, name), ConsistentRead: true })));
    return { leaseId: out.Item?.leaseId?.S, token: out.Item?.token?.N ? Number(out.Item.token.N) : undefined };
  }

  /** Runs a lock transaction; item 0 is always the caller's lease, item 1 the lock, item 3 a holder's lease. */
  private async attempt(run: () => Promise<unknown>): Promise<{ kind: 'ok' } | { kind: 'failed'; leaseFailed: boolean; lock?: Item; other?: Item }> {
    try {
      await run();
      return { kind: 'ok' };
    } catch (e) {
      if (errorName(e) !== 'TransactionCanceledException') return guarded(() => Promise.reject(e));
      const r = (e as { CancellationReasons?: { Code?: string; Item?: Item }[] }).CancellationReasons ?? [];
      if (r.some((x) => x.Code === 'TransactionConflict')) throw new ConflictError('LockHeld', 'another request on this lock is in progress; retry');
      return { kind: 'failed', leaseFailed: r[0]?.Code === 'ConditionalCheckFailed', lock: r[1]?.Item, other: r[3]?.Item };
    }
  }
}
