/**
 * The snapshot construct's settings: context keys, defaults and limits, its props, and how a prop
 * or context value is read (`snapshots.ts` builds the resources from them).
 */
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { API_FUNCTION_TIMEOUT_SECONDS } from './api';
import { RETENTION_CONTEXT } from './retention';
import { STEP_FUNCTION_TIMEOUT_SECONDS } from './sagas';
import type { StateTables } from './state-tables';

/** Context keys (`cdk deploy -c vesta:snapshotSchedule='rate(6 hours)'`). */
export const SNAPSHOT_SCHEDULE_CONTEXT = 'vesta:snapshotSchedule';
export const SNAPSHOT_RETENTION_CONTEXT = RETENTION_CONTEXT.snapshots;
export const SNAPSHOT_SEGMENTS_CONTEXT = 'vesta:snapshotSegments';
export const SNAPSHOT_MAX_AGE_CONTEXT = 'vesta:snapshotMaxAgeSeconds';

/** The export and restore functions stop below the 900 s timeout of their long Tasks (`TASK_CLASSES.long`). */
export const SNAPSHOT_FUNCTION_TIMEOUT_SECONDS = 890;

/**
 * How long after its cut an export starts reading: the longest a record write can take from its
 * stamp to its commit, bounded by the timeouts of the functions that write records (API, saga
 * step), and a margin (`src/core/snapshot-cut.ts`).
 */
export const SNAPSHOT_SETTLE_SECONDS = Math.max(API_FUNCTION_TIMEOUT_SECONDS, STEP_FUNCTION_TIMEOUT_SECONDS) + 3;
/** Days an overwritten or deleted snapshot object stays recoverable. */
export const NONCURRENT_DAYS = 7;
/**
 * Scan segments of a whole-store snapshot when neither the prop nor `vesta:snapshotSegments` says:
 * more than the functions' own default (`DEFAULT_SEGMENTS`, for the local stack) because in AWS
 * each segment is a Lambda invocation of its own and a wider scan finishes a large table sooner.
 */
export const DEFAULT_STACK_SEGMENTS = 8;
/** How often the schedule function reports the age of the newest complete snapshot. */
export const AGE_REPORT_MINUTES = 15;
/** The alarm's limit for a `cron(...)` schedule without `vesta:snapshotMaxAgeSeconds`: two days. */
export const DEFAULT_CRON_MAX_AGE_SECONDS = 2 * 86_400;

export interface SnapshotsProps {
  readonly stage: string;
  readonly tables: StateTables;
  /**
   * When the scheduled whole-store snapshot runs: a `rate(...)` or `cron(...)` expression.
   * @default - context `vesta:snapshotSchedule`, else `rate(1 day)`
   */
  readonly schedule?: string;
  /**
   * Days a snapshot is kept: its objects (a lifecycle rule on `snapshots/`) and its record (the
   * functions get it as `VESTA_SNAPSHOT_RETENTION_DAYS`), counted from the snapshot's start.
   * @default - the tables' (`StateTables.retention.snapshots`: context `vesta:snapshotRetentionDays`, else 35)
   */
  readonly retentionDays?: number;
  /**
   * Scan segments (parts) of a whole-store snapshot, 1 to 64.
   * @default - context `vesta:snapshotSegments`, else `DEFAULT_STACK_SEGMENTS` (8)
   */
  readonly segments?: number;
  /**
   * Age of the newest complete snapshot above which the alarm fires.
   * @default - context `vesta:snapshotMaxAgeSeconds`, else twice a `rate(...)` schedule's interval (two days for a `cron(...)` one)
   */
  readonly maxAgeSeconds?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Keep the log groups and the bucket when they leave the stack.
   * @default true for the `prod` stage, false for every other stage
   */
  readonly retain?: boolean;
  /**
   * Log the state machines' execution data (every state's input and output) with their events.
   * Off, the logs hold the events only: no record values, no ids beyond the execution's own.
   * @default false
   */
  readonly logExecutionData?: boolean;
}

export function contextValue(scope: Construct, key: string): unknown {
  return scope.node.tryGetContext(key);
}

/** A whole number in [min, max] from a prop or a context value (context strings are parsed). */
export function integerSetting(
  scope: Construct,
  given: number | undefined,
  key: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = given ?? contextValue(scope, key) ?? fallback;
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${key} must be a whole number from ${min} to ${max}. Received: ${JSON.stringify(raw)}`);
  }
  return n;
}
