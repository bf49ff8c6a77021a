/**
 * Conditions a record write carries besides its own: `X-Lease-Id` (the lease must be live; the
 * record is listed among the lease's holdings) and `X-Fencing-Token` (the lock must be held, by
 * a live lease, with exactly that token). They become items of the same DynamoDB transaction as
 * the write, so the check and the write commit together or not at all.
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { ConflictError } from '../../core/errors';
import type { FencingToken } from '../../core/leases';
import type { WriteGuards } from '../../core/ports';
import type { DynamoLeaseStore } from './lease-store';
import { heldKeyKey, leaseKey, lockKey } from './control-keys';
import { Expr, N, S } from './expressions';

export type { WriteGuards };

export function hasGuards(g: WriteGuards | undefined): g is WriteGuards {
  return g !== undefined && (g.lease !== undefined || g.fence !== undefined);
}

export interface GuardPlan {
  readonly items: TransactWriteItem[];
  /** What each item's failure means, by position. */
  readonly failures: (() => Error)[];
}

const leaseGone = (id: string) => () => new ConflictError('LeaseNotFound', `lease ${id} does not exist or has expired`);
const stale = (f: FencingToken) => () =>
  new ConflictError(
    'FencingTokenStale',
    `lock ${JSON.stringify(f.lock)} is not held with token ${f.token}; nothing was written`,
  );

/**
 * Builds the guard items for writes to `keys` of `ns`. Reads the lease and, for a fenced write,
 * the lock and its holder's lease first; throws `ConflictError` LeaseNotFound or
 * FencingTokenStale at once when they do not hold, before the write is even attempted.
 */
export async function planGuards(
  table: string,
  leases: DynamoLeaseStore,
  ns: string,
  keys: readonly string[],
  g: WriteGuards,
  now: number,
): Promise<GuardPlan> {
  const items: TransactWriteItem[] = [];
  const failures: (() => Error)[] = [];
  const live = (id: string, fail: () => Error) => {
    const e = new Expr();
    e.require(`${e.name('expiresAt')} > ${e.value(N(now))}`);
    items.push({ ConditionCheck: { TableName: table, Key: leaseKey(id), ...e.checkParams() } });
    failures.push(fail);
  };
  if (g.lease) {
    // Checked up front so that a dead lease is the answer whatever else is wrong, and again
    // inside the transaction so that the check and the write commit together.
    if (!(await leases.load(g.lease))) throw leaseGone(g.lease)();
    live(g.lease, leaseGone(g.lease));
    for (const k of keys) {
      items.push({ Put: { TableName: table, Item: heldKeyKey(g.lease, ns, k) } });
      failures.push(leaseGone(g.lease));
    }
  }
  if (g.fence) {
    const lock = await leases.lock(ns, g.fence.lock);
    if (!lock.leaseId || lock.token !== g.fence.token || !(await leases.load(lock.leaseId))) throw stale(g.fence)();
    const e = new Expr();
    e.require(`${e.name('leaseId')} = ${e.value(S(lock.leaseId))}`).require(
      `${e.name('token')} = ${e.value(N(g.fence.token))}`,
    );
    items.push({ ConditionCheck: { TableName: table, Key: lockKey(ns, g.fence.lock), ...e.checkParams() } });
    failures.push(stale(g.fence));
    if (lock.leaseId !== g.lease) live(lock.leaseId, stale(g.fence));
  }
  return { items, failures };
}
