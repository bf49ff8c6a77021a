/**
 * What ending a lease leaves to remove: its records (expired as tombstones, so `rev` keeps
 * growing), its locks (released, their tokens kept), its holding items and, last, the lease item
 * itself. Used by revocation and by the lease reaper.
 */
import { DeleteItemCommand, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { LeaseHoldings } from '../../core/leases';
import { guarded, isConditionFailure } from './errors';
import { Expr, S } from './expressions';
import { batchGetItems } from './batch-get';
import { heldKeyKey, heldLockKey, leaseKey, lockKey } from './control-keys';

/**
 * Attribute of a held lock item: its holder lease's expiry (epoch ms) as written by the request
 * that took the lock or last re-took it, in the same transaction as the lease. The lease lives at
 * least that long unless it is revoked (keepalives extend it without touching locks), and a revoke
 * frees its locks before it answers; so a release may trust it, ownership never does.
 */
export const HOLDER_EXPIRES_AT = 'holderExpiresAt';

/**
 * The update that frees a lock, conditioned on `leaseId` holding it (the token stays); a free lock
 * leaves the `locksByNamespace` index.
 */
export function unlockBy(leaseId: string): Expr {
  const e = new Expr();
  return e
    .remove(e.name('leaseId'))
    .remove(e.name('lockNs'))
    .remove(e.name('lockName'))
    .remove(e.name(HOLDER_EXPIRES_AT))
    .require(`${e.name('leaseId')} = ${e.value(S(leaseId))}`);
}

/**
 * Of the locks a lease's holding items name, those the lease still holds per their lock items
 * (read consistently, one BatchGetItem per 100 locks): a release frees the lock but leaves the
 * holding item, which only the lease's end removes. Whether the lease itself is live is the
 * caller's business. Throws store errors (translated).
 */
export async function stillHeld(
  client: DynamoDBClient,
  table: string,
  id: string,
  locks: readonly { namespace: string; name: string }[],
): Promise<{ namespace: string; name: string }[]> {
  const keys = locks.map((l) => lockKey(l.namespace, l.name));
  const held = new Set<string>();
  for (const it of await batchGetItems(client, table, keys, ['pk', 'leaseId']))
    if (it.leaseId?.S === id) held.add(it.pk.S!);
  return locks.filter((l) => held.has(lockKey(l.namespace, l.name).pk.S!));
}

/** The records a lease holds, as the record store expires them. */
export interface AttachedRecords {
  /** Expires record `key` of `ns` if it still belongs to lease `leaseId`. Throws store errors. */
  expireAttached(ns: string, key: string, leaseId: string): Promise<unknown>;
}

/**
 * Removes what ended lease `id` held, then its holding items, then the lease item, so a partial
 * run can be completed from the lease. Safe to run twice or concurrently. A lock holding may be
 * stale (a release frees the lock but leaves the holding item): unlocking is conditioned on the
 * lease still holding it. Returns how many locks it freed. Throws store errors (translated).
 */
export async function removeHoldings(
  client: DynamoDBClient,
  table: string,
  records: AttachedRecords,
  id: string,
  holdings: LeaseHoldings,
): Promise<number> {
  let freed = 0;
  for (const { namespace, key } of holdings.keys) await records.expireAttached(namespace, key, id);
  // Conditional: a lock released earlier (or taken over since) is left alone.
  for (const { namespace, name } of holdings.locks) {
    try {
      await client.send(
        new UpdateItemCommand({ TableName: table, Key: lockKey(namespace, name), ...unlockBy(id).updateParams() }),
      );
      freed += 1;
    } catch (e) {
      if (!isConditionFailure(e)) await guarded(() => Promise.reject(e));
    }
  }
  const keys = [
    leaseKey(id),
    ...holdings.keys.map((h) => heldKeyKey(id, h.namespace, h.key)),
    ...holdings.locks.map((h) => heldLockKey(id, h.namespace, h.name)),
  ];
  // Holding items first, the lease item last, so a partial run can be completed from the lease.
  const [lease, ...held] = keys;
  for (let i = 0; i < held.length; i += 10) {
    await Promise.all(
      held.slice(i, i + 10).map((Key) => guarded(() => client.send(new DeleteItemCommand({ TableName: table, Key })))),
    );
  }
  await guarded(() => client.send(new DeleteItemCommand({ TableName: table, Key: lease })));
  return freed;
}
