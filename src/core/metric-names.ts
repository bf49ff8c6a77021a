/**
 * The names of Vesta's CloudWatch metrics (namespace `Vesta`, dimension `service=vesta`, emitted
 * with Powertools Metrics in EMF). One list, read by the code that emits them and by the CDK
 * dashboard and alarms, so a renamed metric cannot leave a panel or an alarm watching nothing.
 * Metrics with a second dimension name it in `METRIC_DIMENSIONS`.
 */
export const METRIC_NAMES = {
  /** API requests handled, one per request; dimension `operation` (the route name). */
  operations: 'Operations',
  /** 409 and 412 answers; dimension `kind` (the 409's `reason`, or `PreconditionFailed`). */
  conflicts: 'Conflicts',
  /** Writes that left a record with more than one concurrent value (siblings mode). */
  siblingsCreated: 'SiblingsCreated',
  /** Leases the reaper removed, and the records of theirs it turned into tombstones. */
  leasesReaped: 'LeasesReaped',
  leaseRecordsExpired: 'LeaseRecordsExpired',
  leaseReaperLagSeconds: 'LeaseReaperLagSeconds',
  leasesRenewed: 'LeasesRenewed',
  /** Saga outcomes. */
  sagaSucceeded: 'SagaSucceeded',
  sagaCompensated: 'SagaCompensated',
  compensationFailed: 'CompensationFailed',
  /** Snapshots. */
  snapshotCompleted: 'SnapshotCompleted',
  snapshotFailed: 'SnapshotFailed',
  snapshotItems: 'SnapshotItems',
  restoreCompleted: 'RestoreCompleted',
  latestSnapshotAgeSeconds: 'LatestSnapshotAgeSeconds',
  /** Change events: appended to the change log (new ones only), and put on the event bus. */
  changesLogged: 'ChangesLogged',
  eventsPublished: 'EventsPublished',
  /** Change events that could not be published after retries (the stream batch is retried). */
  eventsFailed: 'EventsFailed',
  /**
   * Items a background path set aside after their retries (`src/core/dead-letters.ts`); dimension
   * `source`: publisher, snapshot, restore, reaper, renewer. Alarmed at one.
   */
  deadLetters: 'DeadLetters',
} as const;

export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

/** The extra dimension of a metric that has one. */
export const METRIC_DIMENSIONS = {
  [METRIC_NAMES.operations]: 'operation',
  [METRIC_NAMES.conflicts]: 'kind',
  [METRIC_NAMES.deadLetters]: 'source',
} as const;
