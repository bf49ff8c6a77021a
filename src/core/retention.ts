/**
 * How long finished history is kept: snapshots (their objects and their records), the log of a
 * finished saga, and a finished restore's record. The stack sets the functions' environment from
 * its props (`VestaServiceProps`); the local stack reads the same variables with the same
 * defaults. DynamoDB's TTL clean-up deletes an item some time after its `ttl` (DynamoDB Local
 * never does), so the reads treat an item as gone from the moment it is past its retention.
 */
import type { SagaStatus } from './wire/constants';

/** The retention of each kind of history, in days. */
export interface RetentionDays {
  /** Snapshots: their objects (an S3 lifecycle rule) and their records, counted from the snapshot's start. */
  readonly snapshots: number;
  /** A SUCCEEDED or COMPENSATED saga's log, counted from its end. */
  readonly sagas: number;
  /** A finished restore's record and its part checkpoints, counted from its end. */
  readonly restores: number;
}

/**
 * The saga statuses whose log expires: a saga ends in them for good. A COMPENSATION_FAILED saga
 * waits for a person (it may be retried) and is kept, as a RUNNING one is.
 */
export const EXPIRING_SAGA_STATUSES = ['SUCCEEDED', 'COMPENSATED'] as const satisfies readonly SagaStatus[];

export const DEFAULT_RETENTION_DAYS: RetentionDays = { snapshots: 35, sagas: 30, restores: 30 };

/** The environment variable of each retention. */
export const RETENTION_ENV: Readonly<Record<keyof RetentionDays, string>> = {
  snapshots: 'VESTA_SNAPSHOT_RETENTION_DAYS',
  sagas: 'VESTA_SAGA_RETENTION_DAYS',
  restores: 'VESTA_RESTORE_RETENTION_DAYS',
};

/** The bounds of every retention, in days (DynamoDB TTL and S3 lifecycle take whole days). */
export const RETENTION_MIN_DAYS = 1;
export const RETENTION_MAX_DAYS = 36_500;

export const DAY_SECONDS = 86_400;

/**
 * The retentions from the environment (`RETENTION_ENV`), each defaulting to
 * `DEFAULT_RETENTION_DAYS`. Throws an `Error` that names the variable and echoes a value that is
 * not a whole number of days from 1 to 36500.
 */
export function retentionFromEnv(env: Readonly<Record<string, string | undefined>>): RetentionDays {
  const read = (kind: keyof RetentionDays): number => {
    const name = RETENTION_ENV[kind];
    const raw = env[name];
    if (raw === undefined || raw === '') return DEFAULT_RETENTION_DAYS[kind];
    const n = Number(raw);
    if (!Number.isInteger(n) || n < RETENTION_MIN_DAYS || n > RETENTION_MAX_DAYS)
      throw new Error(
        `${name} must be a whole number of days from ${RETENTION_MIN_DAYS} to ${RETENTION_MAX_DAYS}, not ${JSON.stringify(raw)}`,
      );
    return n;
  };
  return { snapshots: read('snapshots'), sagas: read('sagas'), restores: read('restores') };
}

/** The `ttl` (epoch seconds) of an item kept `days` from `fromMs` (epoch milliseconds). */
export function ttlAfter(fromMs: number, days: number): number {
  return Math.floor(fromMs / 1000) + days * DAY_SECONDS;
}

/**
 * Whether an item is past its retention at `nowMs`: its `ttl` (epoch seconds) is reached, or it
 * is `days` past `since` (an ISO time; the retention in force now, so a shortened retention
 * hides older items at once, as the S3 lifecycle rule does with their objects). Either may be
 * missing (items written before retention was set have no `ttl`).
 */
export function isExpired(nowMs: number, ttl: number | undefined, since?: string, days?: number): boolean {
  if (ttl !== undefined && Number.isFinite(ttl) && ttl <= Math.floor(nowMs / 1000)) return true;
  if (since === undefined || days === undefined) return false;
  const at = Date.parse(since);
  return Number.isFinite(at) && ttlAfter(at, days) <= Math.floor(nowMs / 1000);
}
