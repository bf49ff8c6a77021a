/**
 * Taking and releasing locks on DynamoDB, for `DynamoLeaseStore` (lease-store.ts): what each path
 * sends and why it is safe is in docs/concepts.md ("What each lock path costs in AWS").
 */
import {
  type DynamoDBClient,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ConflictError, NotFoundError } from '../../core/errors';
import { type Lease, type LockGrant, tokenCandidate, ttlOfLeaseId } from '../../core/leases';
import type { Item } from './codec';
import { heldLockKey, leaseIdOf, leaseKey, lockKey } from './control-keys';
import { cancellationReasons, conditionFailed } from './cancellation';
import { errorName, guarded, isConditionFailure } from './errors';
import { Expr, N, S, attributeNotExists } from './expressions';
import { HOLDER_EXPIRES_AT, unlockBy } from './lease-cleanup';
import { leaseExpiries } from './lock-list';

/** What the lock writes need: the client, the control table, and the time of the call. */
export interface LockWriteDeps {
  readonly client: DynamoDBClient;
  readonly table: string;
  /** Epoch milliseconds, read once at the start of the call. */
  readonly now: number;
}

const inProgress = () => new ConflictError('LockHeld', 'another request on this lock is in progress; retry');

/** An expression whose condition is "the lease item is live at `now`". */
/** The lease an item holds, `undefined` for no item or not a lease. */
export function leaseFrom(item: Item | undefined): Lease | undefined {
  if (!item?.expiresAt?.N) return undefined;
  return { id: leaseIdOf(item.pk.S!), ttlSeconds: Number(item.ttlSeconds.N), expiresAt: Number(item.expiresAt.N) };
}

export function whileLive(now: number): { e: Expr; now: string } {
  const e = new Expr();
  const at = e.value(N(now));
  e.require(`${e.name('expiresAt')} > ${at}`);
  return { e, now: at };
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
export async function acquireLock(d: LockWriteDeps, ns: string, name: string, leaseId: string): Promise<LockGrant> {
  const ttl = ttlOfLeaseId(leaseId);
  if (ttl === undefined) throw new ConflictError('LeaseNotFound', `lease ${leaseId} does not exist or has expired`);
  const now = d.now;
  const expiresAt = now + ttl * 1000;
  const cand = tokenCandidate(now);
  const renewLease = (): TransactWriteItem => {
    const renew = whileLive(now).e;
    renew.set(`${renew.name('expiresAt')} = ${renew.value(N(expiresAt))}`);
    return { Update: { TableName: d.table, Key: leaseKey(leaseId), ...renew.updateParams() } };
  };
  const lockUpdate = (lock: Expr): TransactWriteItem => ({
    Update: {
      TableName: d.table,
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
    return transact(d, [
      renewLease(),
      lockUpdate(lock),
      { Put: { TableName: d.table, Item: heldLockKey(leaseId, ns, name) } },
      ...extra,
    ]);
  };
  const free = (e: Expr) => attributeNotExists(e.name('leaseId'));
  let granted = { name, leaseId, fencingToken: cand, expiresAt };
  const notLive = () => new ConflictError('LeaseNotFound', `lease ${leaseId} does not exist or has expired`);
  let first = await attempt(() => take(free));
  if (first.kind === 'ok') return granted;
  if (first.leaseFailed) throw notLive();
  if (!first.lock?.leaseId && first.lock?.token?.N) {
    // Free, but its token is ahead of this instance's clock: take the next token instead.
    const next = tokenCandidate(now, Number(first.lock.token.N) + 1);
    granted = { ...granted, fencingToken: next };
    first = await attempt(() => take(free));
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
    const again = await attempt(() => transact(d, [renewLease(), lockUpdate(lock)]));
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
  const takeover = await attempt(() =>
    take(
      (e) => `${e.name('leaseId')} = ${e.value(S(holder))}`,
      [
        {
          ConditionCheck: {
            TableName: d.table,
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
export async function releaseLock(d: LockWriteDeps, ns: string, name: string, leaseId: string): Promise<void> {
  const now = d.now;
  const unlock = unlockBy(leaseId);
  unlock.require(`${unlock.name(HOLDER_EXPIRES_AT)} > ${unlock.value(N(now))}`);
  let old: Item | undefined;
  try {
    await d.client.send(
      new UpdateItemCommand({
        TableName: d.table,
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
    const r = await attempt(() =>
      transact(d, [
        { ConditionCheck: { TableName: d.table, Key: leaseKey(leaseId), ...whileLive(now).e.checkParams() } },
        {
          Update: {
            TableName: d.table,
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
  const expiries = await leaseExpiries(d.client, d.table, [leaseId, holder]);
  const live = (id: string) => (expiries.get(id) ?? 0) > now;
  if (!live(leaseId)) throw new NotFoundError(`lock ${name} is not held by lease ${leaseId}`);
  if (!live(holder)) throw new NotFoundError(`nobody holds lock ${name}`);
  throw new ConflictError('LockHeld', `lock ${name} is held by another lease`);
}

/** The locks of `ns` held now, by name (`listLocks` of `lock-list.ts`). */

function transact(d: LockWriteDeps, items: TransactWriteItem[]): Promise<unknown> {
  return d.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
}

/** Runs a lock transaction; item 0 is always the caller's lease, item 1 the lock, item 3 a holder's lease. */
async function attempt(
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
