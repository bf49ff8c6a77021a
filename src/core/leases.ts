/**
 * Leases and locks, as values and rules. A lease lives until `expiresAt`, decided by the
 * service's clock at each request; an expired lease is never renewed. Locks are held by leases;
 * a lock's fencing token only grows, across holders, releases and expiries.
 */
import { randomBytes } from 'node:crypto';
import { ValidationError } from './errors';
import { MAX_LEASE_TTL_SECONDS, MIN_LEASE_TTL_SECONDS } from './wire/leases';
import type { LeaseView } from './wire/leases';

export { MAX_LEASE_TTL_SECONDS, MIN_LEASE_TTL_SECONDS, acquireBody, grantBody } from './wire/leases';
export type { LeaseView } from './wire/leases';

export interface Lease {
  readonly id: string;
  readonly ttlSeconds: number;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/** What a lease holds: records it wrote with `X-Lease-Id`, and locks. */
export interface LeaseHoldings {
  readonly keys: { namespace: string; key: string }[];
  readonly locks: { namespace: string; name: string }[];
}

export interface LockGrant {
  readonly name: string;
  readonly leaseId: string;
  readonly fencingToken: number;
  /** The holder lease's expiry, epoch milliseconds. */
  readonly expiresAt: number;
}

/**
 * A new lease id. It carries the lease's TTL (`<random>.<ttlSeconds>`) so that a request that
 * renews the lease as a side effect (acquiring a lock) knows the new expiry without a read.
 */
export function newLeaseId(ttlSeconds: number): string {
  return `${randomBytes(12).toString('hex')}.${ttlSeconds}`;
}

/** The TTL a lease id carries, or undefined for an id Vesta did not issue. */
export function ttlOfLeaseId(id: string): number | undefined {
  const m = /^[0-9a-f]{24}\.(\d{1,5})$/.exec(id);
  const ttl = m ? Number(m[1]) : NaN;
  return ttl >= MIN_LEASE_TTL_SECONDS && ttl <= MAX_LEASE_TTL_SECONDS ? ttl : undefined;
}

export function isLeaseLive(lease: Lease | undefined, now: number): lease is Lease {
  return lease !== undefined && lease.expiresAt > now;
}

export function leaseView(lease: Lease): LeaseView {
  return { id: lease.id, ttlSeconds: lease.ttlSeconds, expiresAt: new Date(lease.expiresAt).toISOString() };
}

const ID = /^[\x21-\x7e]{1,128}$/;
/** A lock name: 1 to 255 characters, no control characters and no `/`. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what the pattern refuses
export const LOCK_NAME = /^[^\u0000-\u001f\u007f-\u009f/]{1,255}$/;

/** Throws `ValidationError` unless `id` could be a lease id (1 to 128 visible ASCII characters). */
export function validateLeaseId(id: string, field = 'id'): string {
  if (!ID.test(id)) throw new ValidationError(field, 'must be 1 to 128 visible ASCII characters');
  return id;
}

/** Throws `ValidationError` unless `name` is 1 to 255 characters without control characters or `/`. */
export function validateLockName(name: string, field = 'name'): string {
  if (!LOCK_NAME.test(name))
    throw new ValidationError(field, 'must be 1 to 255 characters, without control characters or /');
  return name;
}

export interface FencingToken {
  readonly lock: string;
  readonly token: number;
}

/** Parses `X-Fencing-Token: <lockName>:<token>`. Throws `ValidationError`. */
export function parseFencingToken(value: string): FencingToken {
  const m = /^(.+):(\d{1,16})$/.exec(value);
  if (!m || !Number.isSafeInteger(Number(m[2])))
    throw new ValidationError('X-Fencing-Token', 'must be <lockName>:<token>');
  return { lock: validateLockName(m[1], 'X-Fencing-Token'), token: Number(m[2]) };
}

/**
 * Fencing tokens: a hybrid clock, `max(previous + 1, now in microseconds)`. The store commits a
 * new token only if it is greater than the stored one, so tokens only grow whatever the clock
 * does, and a new holder gets its token in the same single request that takes the lock.
 */
let lastCandidate = 0;
export function tokenCandidate(nowMs: number, atLeast = 0): number {
  lastCandidate = Math.max(nowMs * 1000, lastCandidate + 1, atLeast);
  return lastCandidate;
}
