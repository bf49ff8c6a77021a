/**
 * What ending a lease leaves to remove: its records (expired as tombstones, so `rev` keeps
 * growing), its locks (released, their tokens kept), its holding items and, last, the lease item
 * itself. Used by revocation and by the lease reaper.
 */
import { DeleteItemCommand, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { LeaseHoldings } from '../../core/leases';
import { guarded, isConditionFailure } from './errors';
import { Expr, S } from './expressions';
import { heldKeyKey, heldLockKey, leaseKey, lockKey } from './control-keys';

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
    .require(`${e.name('leaseId')} = ${e.value(S(leaseId))}`);
}

/** The records a lease holds, as the record store expires them. */
export interface AttachedRecords {
  /** Expires record `key` of `ns` if it still belongs to lease `leaseId`. Throws store errors. */
  expireAttached(ns: string, key: string, leaseId: string): Promise<unknown>;
}

/**
 * Removes what ended lease `id` held, then its holding items, then the lease item, so a partial
 * run can be completed from the lease. Safe to run twice or concurrently. Throws store errors
 * (translated).
 */
export async function removeHoldings(
  client: DynamoDBClient,
  table: string,
  records: AttachedRecords,
  id: string,
  holdings: LeaseHoldings,
): Promise<void> {
  for (const { namespace, key } of holdings.keys) await records.expireAttached(namespace, key, id);
  for (const { namespace, name } of holdings.locks) {
    try {
      await client.send(
        new UpdateItemCommand({ TableName: table, Key: lockKey(namespace, name), ...unlockBy(id).updateParams() }),
      );
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
}
