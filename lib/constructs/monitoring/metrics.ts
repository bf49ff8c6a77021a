/**
 * The metrics that Vesta's alarms and dashboard read, made in one place: API Gateway, Lambda,
 * DynamoDB, Step Functions, and Vesta's own (namespace `Vesta`, dimension `service=vesta`, names
 * from `src/core/metric-names.ts`). Alarms (`alarms.ts`) and widgets (`dashboard.ts`) only pick
 * from these.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';
import { METRIC_DIMENSIONS, METRIC_NAMES, type MetricName } from '../../../src/core/metric-names';
import type { DeadLetterSource } from '../../../src/core/dead-letters';
import { METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME, vestaMetric } from '../function-defaults';

/** The period of every alarm and graph: 5 minutes. */
export const MONITORING_PERIOD = Duration.minutes(5);

/**
 * `Vesta-dev/Leases/Reaper` gives `Leases/Reaper`: the path of a construct below its stack, without
 * `Default` segments, which CDK leaves out of logical IDs too (a service built with the id
 * `Default` names its parts as if they stood in the stack itself).
 */
export function labelOf(construct: IConstruct): string {
  const stackPath = Stack.of(construct).node.path;
  const path = construct.node.path;
  const below = stackPath && path.startsWith(`${stackPath}/`) ? path.slice(stackPath.length + 1) : path;
  return below
    .split('/')
    .filter((segment) => segment !== 'Default')
    .join('/');
}

/** `Leases/Reaper` gives `LeasesReaper`: a construct id made from a label. */
export function idOf(label: string): string {
  return label
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

// Metrics carry no label: an alarm on a labelled metric is rendered in the longer `Metrics` form.
// The widgets of `dashboard.ts` label the lines they draw.

/** Options of a metric of `MONITORING_PERIOD` with `statistic`. */
const over = (statistic: string): cloudwatch.MetricOptions => ({ period: MONITORING_PERIOD, statistic });
const SUM = over('Sum');

/** Requests, 4XX and 5XX answers (sums) and latency (p50, p99) of a REST API, by its name. */
export const apiMetrics = (api: apigw.RestApi) => ({
  count: api.metricCount(SUM),
  clientErrors: api.metricClientError(SUM),
  serverErrors: api.metricServerError(SUM),
  latencyP50: api.metricLatency(over('p50')),
  latencyP99: api.metricLatency(over('p99')),
});
export type ApiMetrics = ReturnType<typeof apiMetrics>;

/**
 * Failures a function or state machine reports on purpose, by the metric that counts them: a saga
 * step refused (its `require` did not hold) is a failed invocation that the saga compensates, and
 * a compensated saga's execution ends in a Fail state. Their alarms count the other failures only.
 */
const deliberate = new WeakMap<IConstruct, cloudwatch.IMetric>();

/**
 * Says that some failures of `resource` (its Lambda errors, or its failed executions) are
 * outcomes, counted by `metric` in `MONITORING_PERIOD` sums: `functionMetrics(...).faults` and
 * `stateMachineMetrics(...).faults` leave them out. Call it before the alarms are made.
 */
export function countsDeliberateFailures(resource: IConstruct, metric: cloudwatch.IMetric): void {
  deliberate.set(resource, metric);
}

/**
 * `failures` less what `resource` reports failed on purpose (`countsDeliberateFailures`), in the
 * same 5-minute periods; `failures` itself when nothing is. An outcome whose count lands in the
 * period after its failure (a few milliseconds apart, at a period's edge) can show as one fault.
 */
function faultsOf(resource: IConstruct, failures: cloudwatch.Metric): cloudwatch.IMetric {
  const expected = deliberate.get(resource);
  if (!expected) return failures;
  return new cloudwatch.MathExpression({
    expression: 'failures - FILL(expected, 0)',
    usingMetrics: { failures, expected },
    period: MONITORING_PERIOD,
  });
}

/**
 * Invocations, errors and throttles (sums) and p99 duration of a function; `faults`, the errors
 * it did not report on purpose (`countsDeliberateFailures`), is what its errors alarms watch.
 */
export const functionMetrics = (fn: lambda.IFunction) => {
  const errors = fn.metricErrors(SUM);
  return {
    invocations: fn.metricInvocations(SUM),
    errors,
    faults: faultsOf(fn, errors),
    throttles: fn.metricThrottles(SUM),
    durationP99: fn.metricDuration(over('p99')),
  };
};
export type FunctionMetrics = ReturnType<typeof functionMetrics>;

export interface TableMetrics {
  readonly consumedRead: cloudwatch.Metric;
  readonly consumedWrite: cloudwatch.Metric;
  /** Read plus write throttle events of the table (its indexes have metrics of their own). */
  readonly throttles: cloudwatch.MathExpression;
  /** Average latency of successful requests, one line per operation (a SEARCH: graphs only, no alarm). */
  readonly successfulRequestLatency: cloudwatch.SearchExpression;
}

/**
 * Consumed capacity, throttle events and request latency of a table. `ReadThrottleEvents` and
 * `WriteThrottleEvents` have the table name as their only dimension, so their sum can be alarmed
 * on; `SuccessfulRequestLatency` is per operation, so a SEARCH shows every operation.
 */
export function tableMetrics(table: dynamodb.ITableV2, label: string): TableMetrics {
  // The label only names the math expression's inputs, which must be unique within a graph.
  const period = MONITORING_PERIOD;
  const sum = (metricName: string) => table.metric(metricName, SUM);
  return {
    consumedRead: table.metricConsumedReadCapacityUnits(SUM),
    consumedWrite: table.metricConsumedWriteCapacityUnits(SUM),
    // Ids unique per table, as one graph holds the expressions of every table.
    throttles: new cloudwatch.MathExpression({
      expression: `read${idOf(label)} + write${idOf(label)}`,
      usingMetrics: {
        [`read${idOf(label)}`]: sum('ReadThrottleEvents'),
        [`write${idOf(label)}`]: sum('WriteThrottleEvents'),
      },
      period,
    }),
    successfulRequestLatency: new cloudwatch.SearchExpression({
      expression: `SEARCH('{AWS/DynamoDB,Operation,TableName} MetricName="SuccessfulRequestLatency" TableName="${table.tableName}"', 'Average', ${period.toSeconds()})`,
      period,
      // A label would prefix every line; without one each line is named after its operation.
      label: '',
    }),
  };
}

/**
 * Executions started, succeeded and failed (sums) of a state machine; `faults`, the failed ones
 * that no saga outcome explains (`countsDeliberateFailures`), is what its alarm watches.
 */
export const stateMachineMetrics = (machine: sfn.IStateMachine) => {
  const failed = machine.metricFailed(SUM);
  return {
    started: machine.metricStarted(SUM),
    succeeded: machine.metricSucceeded(SUM),
    failed,
    faults: faultsOf(machine, failed),
  };
};
export type StateMachineMetrics = ReturnType<typeof stateMachineMetrics>;

/** A graph of Vesta's own metrics that share a statistic. */
export interface VestaMetricGroup {
  readonly title: string;
  readonly metricNames: readonly MetricName[];
  readonly statistic: 'Sum' | 'Maximum';
}

/**
 * Vesta's own metrics without a second dimension, in graphs. A name of `METRIC_NAMES` that is in
 * none of these (and not in `METRIC_DIMENSIONS`) gets a graph of its own from `vestaMetricGroups`,
 * so a new metric is on the dashboard before anyone places it.
 */
export const VESTA_METRIC_GROUPS: readonly VestaMetricGroup[] = [
  { title: 'Records: siblings created', metricNames: [METRIC_NAMES.siblingsCreated], statistic: 'Sum' },
  {
    title: 'Leases',
    metricNames: [METRIC_NAMES.leasesReaped, METRIC_NAMES.leaseRecordsExpired, METRIC_NAMES.leasesRenewed],
    statistic: 'Sum',
  },
  { title: 'Lease reaper lag (s, max)', metricNames: [METRIC_NAMES.leaseReaperLagSeconds], statistic: 'Maximum' },
  {
    title: 'Field sweeper: fields removed, items read',
    metricNames: [METRIC_NAMES.fieldsExpired, METRIC_NAMES.fieldSweeperItemsRead],
    statistic: 'Sum',
  },
  { title: 'Field sweeper lag (s, max)', metricNames: [METRIC_NAMES.fieldSweeperLagSeconds], statistic: 'Maximum' },
  {
    title: 'Sagas',
    metricNames: [
      METRIC_NAMES.sagaSucceeded,
      METRIC_NAMES.sagaCompensated,
      METRIC_NAMES.compensationFailed,
      METRIC_NAMES.sagaStepsRefused,
    ],
    statistic: 'Sum',
  },
  {
    title: 'Snapshots and restores',
    metricNames: [METRIC_NAMES.snapshotCompleted, METRIC_NAMES.snapshotFailed, METRIC_NAMES.restoreCompleted],
    statistic: 'Sum',
  },
  { title: 'Snapshot items', metricNames: [METRIC_NAMES.snapshotItems], statistic: 'Sum' },
  { title: 'Latest snapshot age (s, max)', metricNames: [METRIC_NAMES.latestSnapshotAgeSeconds], statistic: 'Maximum' },
  {
    title: 'Change events',
    metricNames: [METRIC_NAMES.changesLogged, METRIC_NAMES.eventsPublished, METRIC_NAMES.eventsFailed],
    statistic: 'Sum',
  },
];

/** `VESTA_METRIC_GROUPS`, plus one `Sum` graph per metric name that no group and no dimension lists. */
export function vestaMetricGroups(): VestaMetricGroup[] {
  const placed = new Set<string>([
    ...VESTA_METRIC_GROUPS.flatMap((g) => g.metricNames),
    ...Object.keys(METRIC_DIMENSIONS),
  ]);
  const unplaced = Object.values(METRIC_NAMES).filter((name) => !placed.has(name));
  return [
    ...VESTA_METRIC_GROUPS,
    ...unplaced.map((name): VestaMetricGroup => ({ title: name, metricNames: [name], statistic: 'Sum' })),
  ];
}

/**
 * `DeadLetters` of one source (dimensions `service` and `source`), 5-minute sums: items that path
 * set aside after their retries.
 */
export function deadLettersMetric(source: DeadLetterSource): cloudwatch.Metric {
  return vestaMetric(METRIC_NAMES.deadLetters, 'Sum', MONITORING_PERIOD, {
    [METRIC_DIMENSIONS[METRIC_NAMES.deadLetters]]: source,
  });
}

/** A Vesta metric with only the `service` dimension, labelled with its name. */
export function vestaServiceMetric(metricName: MetricName, statistic: string): cloudwatch.Metric {
  return vestaMetric(metricName, statistic, MONITORING_PERIOD).with({ label: metricName });
}

/**
 * Sums of a Vesta metric that has a second dimension (`METRIC_DIMENSIONS`), one line per value of
 * that dimension: a SEARCH over the `{Vesta,<dimension>,service}` dimension set. Graphs only (a
 * SEARCH cannot be alarmed on).
 */
export function vestaDimensionSearch(metricName: keyof typeof METRIC_DIMENSIONS): cloudwatch.SearchExpression {
  const dimension = METRIC_DIMENSIONS[metricName];
  const schema = [METRICS_NAMESPACE, dimension, 'service'].join(',');
  return new cloudwatch.SearchExpression({
    expression: `SEARCH('{${schema}} MetricName="${metricName}" service="${POWERTOOLS_SERVICE_NAME}"', 'Sum', ${MONITORING_PERIOD.toSeconds()})`,
    period: MONITORING_PERIOD,
    label: '',
  });
}
