/**
 * The retention settings of the stack (`src/core/retention.ts`): each from a prop, else its
 * context key, else its default; handed to every function as environment variables, so the
 * functions set and check the same `ttl` the tables' TTL clean-up deletes by.
 */
import type { Construct } from 'constructs';
import {
  DEFAULT_RETENTION_DAYS,
  RETENTION_ENV,
  RETENTION_MAX_DAYS,
  RETENTION_MIN_DAYS,
  type RetentionDays,
} from '../../src/core/retention';

/** Context keys (`cdk deploy -c vesta:sagaRetentionDays=90`). */
export const RETENTION_CONTEXT: Readonly<Record<keyof RetentionDays, string>> = {
  snapshots: 'vesta:snapshotRetentionDays',
  sagas: 'vesta:sagaRetentionDays',
  restores: 'vesta:restoreRetentionDays',
};

/**
 * Whole days from 1 to 36500, from `given`, else the context key of `kind`, else the default.
 * Throws an `Error` that names the key and echoes anything else.
 */
export function retentionDays(scope: Construct, kind: keyof RetentionDays, given: number | undefined): number {
  const key = RETENTION_CONTEXT[kind];
  const raw: unknown = given ?? scope.node.tryGetContext(key) ?? DEFAULT_RETENTION_DAYS[kind];
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < RETENTION_MIN_DAYS || n > RETENTION_MAX_DAYS) {
    throw new Error(
      `${key} must be a whole number from ${RETENTION_MIN_DAYS} to ${RETENTION_MAX_DAYS}. Received: ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/** Every retention, each from `given`, its context key or its default. */
export function resolveRetention(scope: Construct, given: Partial<RetentionDays> = {}): RetentionDays {
  return {
    snapshots: retentionDays(scope, 'snapshots', given.snapshots),
    sagas: retentionDays(scope, 'sagas', given.sagas),
    restores: retentionDays(scope, 'restores', given.restores),
  };
}

/** The environment variables that carry the retentions to the functions. */
export function retentionEnvironment(r: Partial<RetentionDays>): Record<string, string> {
  return Object.fromEntries(
    (Object.keys(RETENTION_ENV) as (keyof RetentionDays)[])
      .filter((k) => r[k] !== undefined)
      .map((k) => [RETENTION_ENV[k], String(r[k])]),
  );
}
