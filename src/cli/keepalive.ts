/**
 * Keeps a lease alive until stopped: `vesta lease keepalive --watch`. The loop decides from its
 * own clock, never the service's, when the lease must be taken for lost: a lease renewed by a
 * keepalive sent at time T lives at least until T + TTL, whatever the two clocks say.
 */
import { ApiError, type Lease, NetworkError } from '../client';
import { LeaseLostError } from './errors';

/** A lease as `POST /v1/leases/{id}/keepalive` answers it: the client's `Lease`. */
export type LeaseView = Lease;

export interface WatchClock {
  /** Epoch milliseconds. */
  now(): number;
  /** Waits `ms`, then resolves true; resolves false as soon as `signal` aborts. Never rejects. */
  sleep(ms: number, signal: AbortSignal): Promise<boolean>;
}

export const systemWatchClock: WatchClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const stop = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', stop);
        resolve(true);
      }, ms);
      signal.addEventListener('abort', stop, { once: true });
    }),
};

/** The shortest time a keepalive is given to answer, even when the lease has less left. */
export const MIN_KEEPALIVE_TIMEOUT_MS = 1000;

export interface WatchOptions {
  /** The answer to the first keepalive. */
  readonly lease: LeaseView;
  /** When the first keepalive was sent, epoch milliseconds of `clock`. */
  readonly sentAt: number;
  /** The pause between keepalives. */
  readonly intervalMs: number;
  /**
   * Sends one keepalive. Rejects with `ApiError` or `NetworkError`; with `NetworkError` too when
   * no answer came within `timeoutMs` or `signal` aborted.
   */
  readonly renew: (timeoutMs: number, signal: AbortSignal) => Promise<LeaseView>;
  readonly clock: WatchClock;
  /** Stops the loop (Ctrl-C). */
  readonly signal: AbortSignal;
  /** Receives one line (without newline) per renewal and per failed keepalive. */
  readonly log: (line: string) => void;
}

/** Failures worth retrying while the lease lasts: no answer, throttling, an unavailable service. */
function isTransient(e: unknown): boolean {
  return e instanceof NetworkError || (e instanceof ApiError && (e.problem.status === 429 || e.problem.status >= 500));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Sends a keepalive every `intervalMs` until `signal` aborts, and resolves with the last answer
 * (the lease is then left to expire at its `expiresAt`). After a failed keepalive it retries at
 * the same pace, or sooner when the lease has less left.
 * Throws `LeaseLostError` when a keepalive answers 404 (the lease expired or was revoked) or when
 * none got through before the lease's deadline; rethrows any other error of `renew`.
 */
export async function watchLease(o: WatchOptions): Promise<LeaseView> {
  const { clock, signal, intervalMs } = o;
  const id = o.lease.id;
  let lease = o.lease;
  let deadline = o.sentAt + lease.ttlSeconds * 1000;
  let failingSince: number | undefined;
  let wait = intervalMs;
  for (;;) {
    if (!(await clock.sleep(wait, signal))) return lease;
    const sentAt = clock.now();
    try {
      lease = await o.renew(Math.max(deadline - sentAt, MIN_KEEPALIVE_TIMEOUT_MS), signal);
      deadline = sentAt + lease.ttlSeconds * 1000;
      failingSince = undefined;
      wait = intervalMs;
      o.log(`renewed lease ${id} at ${iso(clock.now())}; it expires at ${lease.expiresAt}`);
    } catch (e) {
      if (signal.aborted) return lease;
      const at = clock.now();
      if (e instanceof ApiError && e.problem.status === 404) {
        throw new LeaseLostError(id, iso(at), 'the keepalive answered 404 NotFound: the lease expired or was revoked', {
          cause: e,
        });
      }
      if (!isTransient(e)) throw e;
      failingSince ??= sentAt;
      const why = (e as Error).message;
      if (at >= deadline) {
        const reason = `no keepalive got through since ${iso(failingSince)}, longer than the lease had left (it expired at ${lease.expiresAt}); last failure: ${why}`;
        throw new LeaseLostError(id, iso(at), reason, { cause: e });
      }
      wait = Math.min(intervalMs, deadline - at);
      o.log(`keepalive of lease ${id} failed at ${iso(at)}: ${why}; retrying, the lease expires at ${lease.expiresAt}`);
    }
  }
}
