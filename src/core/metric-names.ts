/**
 * The names of Vesta's CloudWatch metrics (namespace `Vesta`, dimension `service=vesta`, emitted
 * with Powertools Metrics in EMF). One list, read by the code that emits them and by the CDK
 * dashboard and alarms, so a renamed metric cannot leave a panel or an alarm watching nothing.
 * Emitters (`MetricEmitter`) and the CDK's metric and alarm functions take a `MetricName`, never a
 * free string; `test/unit/metric-names.test.ts` checks that every name emitted or alarmed on is
 * one of these and that each of these is emitted somewhere.
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
  /**
   * The field sweeper's run: seconds from the oldest due field it removed (alarmed), the fields it
   * removed, and the items it read (index entries and records: they grow with due fields only).
   */
  fieldSweeperLagSeconds: 'FieldSweeperLagSeconds',
  fieldsExpired: 'FieldsExpired',
  fieldSweeperItemsRead: 'FieldSweeperItemsRead',
  /** Saga outcomes. */
  sagaSucceeded: 'SagaSucceeded',
  sagaCompensated: 'SagaCompensated',
  compensationFailed: 'CompensationFailed',
  /**
   * Saga executions that end failed on purpose, by an outcome the saga log records (COMPENSATED
   * ends in the `Vesta.SagaCompensated` Fail state; COMPENSATION_FAILED fails at `AwaitRetry`);
   * dimension `machine` (saga, transfer). The machines' failed-executions alarms leave them out.
   */
  sagaExecutionsFailedByOutcome: 'SagaExecutionsFailedByOutcome',
  /**
   * Saga-step invocations that failed on purpose: a refused step (`Vesta.StepFailed`, compensated)
   * or a compensation waiting for a person (`Vesta.CompensationFailed`). The step function's
   * errors alarms leave them out.
   */
  sagaStepsRefused: 'SagaStepsRefused',
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
   * `source`: publisher, snapshot, restore, reaper, renewer, sweeper. Alarmed at one.
   */
  deadLetters: 'DeadLetters',
} as const;

/** A name of `METRIC_NAMES`: the only type a metric is named with. */
export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

/** The units Vesta's metrics go out in (values of Powertools `MetricUnit`). */
export type MetricUnitName = 'Count' | 'Seconds';

/**
 * What a path emits its metrics through, by `MetricName` only. Powertools `Metrics` satisfies it
 * as it is. `addMetric` throws only what the emitter throws for an invalid metric (e.g. too many
 * metrics in one invocation).
 */
export interface MetricEmitter {
  /** Buffers a metric with the default dimensions (`service`) until the emitter publishes them. */
  addMetric(name: MetricName, unit: MetricUnitName, value: number): unknown;
}

/** The extra dimension of a metric that has one. */
export const METRIC_DIMENSIONS = {
  [METRIC_NAMES.operations]: 'operation',
  [METRIC_NAMES.conflicts]: 'kind',
  [METRIC_NAMES.deadLetters]: 'source',
  [METRIC_NAMES.sagaExecutionsFailedByOutcome]: 'machine',
} as const;

/**
 * What emits a metric with a dimension of its own (`METRIC_DIMENSIONS`), one EMF line at once.
 * Powertools `Metrics` satisfies it as it is.
 */
export interface DimensionedMetrics {
  singleMetric(): {
    addDimension(name: string, value: string): unknown;
    addMetric(name: MetricName, unit: 'Count', value: number): unknown;
  };
}
