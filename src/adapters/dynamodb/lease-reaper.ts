/**
 * The lease reaper: finds expired leases through the control table's `byExpiry` index (one
 * Query per shard for `expiresAt <= now`, so it reads expired leases only, never live ones) and
 * removes what each held, then the lease. Reads never depend on it (expiry is checked at each
 * request); it only reclaims storage and frees the keys. Safe to run twice at once: every step
 * is conditional or idempotent.
 *
 * One lease never stops a run: a lease that cannot be reaped after `ITEM_ATTEMPTS` tries (for
 * another reason than a dependency failure, which ends the run) is set aside as a dead letter
 * (source `reaper`) and the others are reaped. It stays expired in the index, so every later run
 * tries it again (and updates its entry while it keeps failing); a replay reaps it at once.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type SetAside, errorOf, tryItem } from '../../core/dead-letters';
import type { Clock } from '../../core/ports';
import { REAPER_STATUS_KEY, expiryShard, leaseIdOf } from './control-keys';
import { guarded, translate } from './errors';
import { Expr, N, S } from './expressions';
import { EXPIRY_SHARDS, type DynamoLeaseStore } from './lease-store';
import { queryPages } from './query';

export const REAPER_PAGE_SIZE = 100;

export interface ReapResult {
  readonly reaped: number;
  readonly recordsExpired: number;
  readonly locksFreed: number;
  /** Items the reaper read from the expiry index and the holdings (never live leases). */
  readonly itemsRead: number;
  /** Age in seconds of the oldest lease it reaped, 0 when none (how far behind expiry it ran). */
  readonly lagSeconds: number;
  /** Leases it could not reap and set aside as dead letters. */
  readonly setAside: number;
}

export class LeaseReaper {
  public constructor(
    private readonly client: DynamoDBClient,
    private readonly controlTable: string,
    private readonly leases: DynamoLeaseStore,
    private readonly clock: Clock,
    private readonly setAsideItem: SetAside,
  ) {}

  /**
   * Removes what lease `id` held, then the lease; returns the holdings it read (`keys`, `locks`)
   * and the locks it freed (a lock released earlier leaves a holding but frees nothing). Throws
   * store errors.
   */
  public async reap(id: string): Promise<{ keys: number; locks: number; freed: number }> {
    const holdings = await this.leases.holdings(id);
    const freed = await this.leases.cleanUp(id, holdings);
    return { keys: holdings.keys.length, locks: holdings.locks.length, freed };
  }

  /**
   * Reaps every lease expired by now, setting aside those it cannot; records the run for health.
   * Throws dependency failures (`ThrottledError`, `UnavailableError`) and what setting aside throws.
   */
  public async run(): Promise<ReapResult> {
    const now = this.clock.now().getTime();
    let reaped = 0;
    let recordsExpired = 0;
    let locksFreed = 0;
    let itemsRead = 0;
    let oldest = now;
    let setAside = 0;
    for (let shard = 0; shard < EXPIRY_SHARDS; shard++) {
      const e = new Expr();
      e.key(`${e.name('shard')} = ${e.value(S(expiryShard(shard)))}`).key(
        `${e.name('expiresAt')} <= ${e.value(N(now))}`,
      );
      const pages = queryPages(this.client, {
        TableName: this.controlTable,
        IndexName: 'byExpiry',
        ...e.queryParams(),
        Limit: REAPER_PAGE_SIZE,
      });
      for await (const page of pages) {
        itemsRead += page.scanned;
        for (const it of page.items) {
          const id = leaseIdOf(it.pk.S!);
          const out = await tryItem(() => this.reap(id), { translate });
          if (!out.ok) {
            await this.setAsideItem({
              source: 'reaper',
              item: { leaseId: id },
              error: errorOf(out.error),
              attempts: out.attempts,
              payload: { leaseId: id },
            });
            setAside += 1;
            continue;
          }
          oldest = Math.min(oldest, Number(it.expiresAt.N));
          itemsRead += out.value.keys + out.value.locks;
          reaped += 1;
          recordsExpired += out.value.keys;
          locksFreed += out.value.freed;
        }
      }
    }
    const lagSeconds = reaped ? Math.round((now - oldest) / 1000) : 0;
    await guarded(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.controlTable,
          Item: { ...REAPER_STATUS_KEY, lastRunAt: N(now), lastLagSeconds: N(lagSeconds), lastReaped: N(reaped) },
        }),
      ),
    );
    return { reaped, recordsExpired, locksFreed, itemsRead, lagSeconds, setAside };
  }

  /** Seconds since the reaper last finished a run; null if it never has. */
  public async secondsSinceLastRun(): Promise<number | null> {
    const out = await guarded(() =>
      this.client.send(
        new GetItemCommand({ TableName: this.controlTable, Key: REAPER_STATUS_KEY, ConsistentRead: true }),
      ),
    );
    const at = out.Item?.lastRunAt?.N;
    return at ? Math.max(0, Math.round((this.clock.now().getTime() - Number(at)) / 1000)) : null;
  }
}
