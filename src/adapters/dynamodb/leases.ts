/**
 * The lease port on DynamoDB: the lease and lock store, plus revocation, which also removes the
 * lease's records (tombstones, so `rev` keeps growing) and releases its locks.
 */
import { DeleteItemCommand, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Lease, LockGrant } from '../../core/leases';
import type { LeaseStore } from '../../core/ports';
import { guarded, isConditionFailure } from './errors';
import { S } from './expressions';
import { type DynamoLeaseStore, type Holdings, leaseKey, lockKey, unlockBy } from './lease-store';
import type { DynamoRecordStore } from './record-store';

export class DynamoLeases implements LeaseStore {
  public constructor(
    private readonly client: DynamoDBClient,
    private readonly controlTable: string,
    private readonly store: DynamoLeaseStore,
    private readonly records: DynamoRecordStore,
  ) {}

  public grant(ttlSeconds: number, executionArn?: string): Promise<Lease> {
    return this.store.grant(ttlSeconds, executionArn);
  }

  public keepalive(id: string): Promise<Lease> {
    return this.store.keepalive(id);
  }

  public describe(id: string): Promise<{ lease: Lease; holdings: Holdings }> {
    return this.store.describe(id);
  }

  public acquire(ns: string, name: string, leaseId: string): Promise<LockGrant> {
    return this.store.acquire(ns, name, leaseId);
  }

  public release(ns: string, name: string, leaseId: string): Promise<void> {
    return this.store.release(ns, name, leaseId);
  }

  /**
   * Ends the lease first (from then on every read treats its records as gone), then removes its
   * records and locks and deletes the lease. Safe to run twice, or after a partial run.
   */
  public async revoke(id: string): Promise<void> {
    const { holdings } = await this.store.describe(id);
    await this.store.end(id);
    await this.cleanUp(id, holdings);
  }

  /** Removes what an ended lease held, then the lease and its holding items. */
  public async cleanUp(id: string, holdings: Holdings): Promise<void> {
    for (const { namespace, key } of holdings.keys) await this.records.expireAttached(namespace, key, id);
    for (const { namespace, name } of holdings.locks) {
      try {
        await this.client.send(new UpdateItemCommand({ TableName: this.controlTable, Key: lockKey(namespace, name), ...unlockBy(id).updateParams() }));
      } catch (e) {
        if (!isConditionFailure(e)) await guarded(() => Promise.reject(e));
      }
    }
    const keys = [
      leaseKey(id),
      ...holdings.keys.map((h) => ({ pk: S(`lease#${id}`), sk: S(`key#${h.namespace}#${h.key}`) })),
      ...holdings.locks.map((h) => ({ pk: S(`lease#${id}`), sk: S(`lock#${h.namespace}#${h.name}`) })),
    ];
    // Holding items first, the lease item last, so a partial run can be completed from the lease.
    const [lease, ...held] = keys;
    for (let i = 0; i < held.length; i += 10) {
      await Promise.all(held.slice(i, i + 10).map((Key) => guarded(() => this.client.send(new DeleteItemCommand({ TableName: this.controlTable, Key })))));
    }
    await guarded(() => this.client.send(new DeleteItemCommand({ TableName: this.controlTable, Key: lease })));
  }
}
