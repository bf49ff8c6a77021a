/**
 * Exponential backoff between retries of our own (the SDK's retries have their own). The delay
 * before retry `attempt` doubles from `baseMs` up to `capMs`; `backoffMs` draws it with full
 * jitter (uniformly between 0 and that ceiling, so that writers that collided do not collide
 * again in step), `backoffCeilingMs` is the ceiling itself, for the waits that are meant to be
 * fixed (a restart announced with its delay, an item retried after a set pause).
 */

/** How a caller's delays grow. */
export interface BackoffPolicy {
  /** Ceiling of the delay before retry 0, in milliseconds. */
  readonly baseMs: number;
  /** Most the ceiling grows to, in milliseconds. @default no cap */
  readonly capMs?: number;
}

/** Doublings past which the ceiling no longer grows (it is at the cap long before for any caller). */
export const MAX_DOUBLINGS = 30;

/** The ceiling of the delay before retry `attempt` (0 for the first): `min(capMs, baseMs * 2^attempt)`. Never throws. */
export function backoffCeilingMs(attempt: number, policy: BackoffPolicy): number {
  const doublings = Math.min(Math.max(attempt, 0), MAX_DOUBLINGS);
  return Math.min(policy.capMs ?? Infinity, policy.baseMs * 2 ** doublings);
}

/**
 * The delay before retry `attempt` (0 for the first), with full jitter: `random()` times the
 * ceiling. `random` must return a number in [0, 1) (`Math.random`, or a fixed one in tests).
 * Never throws.
 */
export function backoffMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  return random() * backoffCeilingMs(attempt, policy);
}

/** Resolves after `ms` milliseconds. Never rejects. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
