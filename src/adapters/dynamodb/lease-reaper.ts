/**
 * The lease reaper: finds expired leases through the control table's `byExpiry` index (one
 * Query per shard for `expiresAt <= now`, so it reads expired leases only, never live ones) and
 * removes what each held, then the lease. Reads never depend on it (expiry is checked at each
 * request); it only reclaims storage and frees the keys. Safe to run twice at once: every step
 * is conditional or idempotent.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Clock } from '../../core/ports';
import type { Item } from './codec';
import { guarded } from './errors';
import { N, S } from './expressions';
import { EXPIRY_SHARDS, type DynamoLeaseStore } from './lease-store';
import { queryPages } from './query';
import type { DynamoLeases } from './leases';

export const REAPER_PAGE_SIZE = 100;
const STATUS_KEY: Item = { pk: S('reaper'), sk: S('status') };

export interface ReapResult {
  readonly reaped: number;
  readonly recordsExpired: number;
  readonly locksFreed: number;
  /** Items the reaper read from the expiry index and the holdings (never live leases). */
  readonly itemsRead: number;
  /** Age in seconds of the oldest lease it reaped, 0 when none (how far behind expiry it ran). */
  readonly lagSeconds: number;
}

export class LeaseReaper {
  public constructor(
    private readonly client: DynamoDBClient,
    private readonly controlTable: string,
    private readonly store: DynamoLeaseStore,
    private readonly leases: DynamoLeases,
    private readonly clock: Clock,
  ) {}

  /** Reaps every lease expired by now; records the run for health. Throws store errors. */
  public async run(): Promise<ReapResult> {
    const now = this.clock.now().getTime();
    let reaped = 0;
    let recordsExpired = 0;
    let locksFreed = 0;
    let itemsRead = 0;
    let oldest = now;
    for (let shard = 0; shard < EXPIRY_SHARDS; shard++) {
      const pages = queryPages(this.client, {
        TableName: this.controlTable,
        IndexName: 'byExpiry',
        KeyConditionExpression: '#shard = :s AND expiresAt <= :now',
        ExpressionAttributeNames: { '#shard': 'shard' },
        ExpressionAttributeValues: { ':s': S(`leases#${shard}`), ':now': N(now) },
        Limit: REAPER_PAGE_SIZE,
      });
      for await (const page of pages) {
        itemsRead += page.scanned;
        for (const it of page.items) {
          const id = it.pk.S!.slice('lease#'.length);
          oldest = Math.min(oldest, Number(it.expiresAt.N));
          const holdings = await this.store.holdings(id);
          itemsRead += holdings.keys.length + holdings.locks.length;
          await this.leases.cleanUp(id, holdings);
          reaped += 1;
          recordsExpired += holdings.keys.length;
          locksFreed += holdings.locks.length;
        }
      }
    }
    const lagSeconds = reaped ? Math.round((now - oldest) / 1000) : 0;
    await guarded(() =>
      this.client.send(new PutItemCommand({ TableName: this.controlTable, Item: { ...STATUS_KEY, lastRunAt: N(now), lastLagSeconds: N(lagSeconds), lastReaped: N(reaped) } })),
    );
    return { reaped, recordsExpired, locksFreed, itemsRead, lagSeconds };
  }

  /** Seconds since the reaper last finished a run; null if it never has. */
  public async secondsSinceLastRun(): Promise<number | null> {
    const out = await guarded(() => this.client.send(new GetItemCommand({ TableName: this.controlTable, Key: STATUS_KEY, ConsistentRead: true })));
    const at = out.Item?.lastRunAt?.N;
    return at ? Math.max(0, Math.round((this.clock.now().getTime() - Number(at)) / 1000)) : null;
  }
}
