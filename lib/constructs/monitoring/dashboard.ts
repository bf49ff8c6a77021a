/**
 * The widgets of the Vesta dashboard, one function per row: each takes the metrics of
 * `metrics.ts` and returns graphs that fill a 24-unit-wide row (wider rows wrap).
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC_NAMES } from '../../../src/core/metric-names';
import {
  type ApiMetrics,
  type FunctionMetrics,
  type StateMachineMetrics,
  type TableMetrics,
  vestaDimensionSearch,
  vestaMetricGroups,
  vestaServiceMetric,
} from './metrics';

/** Widths of a dashboard row (24 units) split in three and in four. */
const THIRD = 8;
const QUARTER = 6;
const GRAPH_HEIGHT = 6;

function graph(title: string, left: cloudwatch.IMetric[], width: number, unit?: string): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({
    title,
    left,
    width,
    height: GRAPH_HEIGHT,
    leftYAxis: { min: 0, label: unit, showUnits: false },
  });
}

/** A full-width markdown heading above a row. */
export function sectionHeading(title: string): cloudwatch.TextWidget {
  return new cloudwatch.TextWidget({ markdown: `## ${title}`, width: 24, height: 1 });
}

/**
 * The state of every alarm in `alarms`. The array is read when the dashboard is synthesized, so
 * alarms pushed into it later appear too.
 */
export function alarmStatusWidget(alarms: cloudwatch.IAlarm[]): cloudwatch.AlarmStatusWidget {
  return new cloudwatch.AlarmStatusWidget({
    title: 'Alarms',
    alarms,
    width: 24,
    height: 6,
    sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
  });
}

/** Metrics of one resource and the label of its lines. */
export interface Labelled<M> {
  readonly label: string;
  readonly metrics: M;
}

/** One line per resource of `rows`: the metric `pick` chooses, labelled with the resource's label. */
function lines<M>(
  rows: readonly Labelled<M>[],
  pick: (m: M) => cloudwatch.Metric | cloudwatch.MathExpression,
): cloudwatch.IMetric[] {
  return rows.map((r) => pick(r.metrics).with({ label: r.label }));
}

/** API: requests, 4XX and 5XX answers, latency p50 and p99. */
export function apiWidgets(m: ApiMetrics): cloudwatch.IWidget[] {
  return [
    graph('API requests', [m.count.with({ label: 'Count' })], THIRD, 'count'),
    graph(
      'API 4XX and 5XX answers',
      [m.clientErrors.with({ label: '4XX' }), m.serverErrors.with({ label: '5XX' })],
      THIRD,
      'count',
    ),
    graph('API latency (ms)', [m.latencyP50.with({ label: 'p50' }), m.latencyP99.with({ label: 'p99' })], THIRD, 'ms'),
  ];
}

/** Lambda: invocations, errors, throttles and p99 duration, one line per function. */
export function functionWidgets(rows: readonly Labelled<FunctionMetrics>[]): cloudwatch.IWidget[] {
  return [
    graph(
      'Lambda invocations',
      lines(rows, (m) => m.invocations),
      QUARTER,
      'count',
    ),
    graph(
      'Lambda errors',
      lines(rows, (m) => m.errors),
      QUARTER,
      'count',
    ),
    graph(
      'Lambda throttles',
      lines(rows, (m) => m.throttles),
      QUARTER,
      'count',
    ),
    graph(
      'Lambda duration p99 (ms)',
      lines(rows, (m) => m.durationP99),
      QUARTER,
      'ms',
    ),
  ];
}

/**
 * DynamoDB: consumed read and write capacity and throttle events, one line per table; latency of
 * successful requests, one graph per table with a line per operation.
 */
export function tableWidgets(rows: readonly Labelled<TableMetrics>[]): cloudwatch.IWidget[] {
  return [
    graph(
      'DynamoDB consumed read capacity',
      lines(rows, (m) => m.consumedRead),
      QUARTER,
      'units',
    ),
    graph(
      'DynamoDB consumed write capacity',
      lines(rows, (m) => m.consumedWrite),
      QUARTER,
      'units',
    ),
    graph(
      'DynamoDB throttle events',
      lines(rows, (m) => m.throttles),
      QUARTER,
      'count',
    ),
    ...rows.map((t) =>
      graph(`DynamoDB ${t.label} latency (ms, avg)`, [t.metrics.successfulRequestLatency], QUARTER, 'ms'),
    ),
  ];
}

/** Step Functions: executions started, succeeded and failed, one line per state machine. */
export function stateMachineWidgets(rows: readonly Labelled<StateMachineMetrics>[]): cloudwatch.IWidget[] {
  return [
    graph(
      'Executions started',
      lines(rows, (m) => m.started),
      THIRD,
      'count',
    ),
    graph(
      'Executions succeeded',
      lines(rows, (m) => m.succeeded),
      THIRD,
      'count',
    ),
    graph(
      'Executions failed',
      lines(rows, (m) => m.failed),
      THIRD,
      'count',
    ),
  ];
}

/**
 * Vesta's own metrics: operations by `operation`, conflicts by `kind`, dead letters by `source`
 * and saga executions failed by an outcome by `machine` (SEARCH, every value a line), then the
 * groups of `vestaMetricGroups`.
 */
export function vestaWidgets(): cloudwatch.IWidget[] {
  return [
    graph(`${METRIC_NAMES.operations} by operation`, [vestaDimensionSearch(METRIC_NAMES.operations)], 12, 'count'),
    graph(`${METRIC_NAMES.conflicts} by kind`, [vestaDimensionSearch(METRIC_NAMES.conflicts)], 12, 'count'),
    graph(`${METRIC_NAMES.deadLetters} by source`, [vestaDimensionSearch(METRIC_NAMES.deadLetters)], 12, 'count'),
    graph(
      `${METRIC_NAMES.sagaExecutionsFailedByOutcome} by machine`,
      [vestaDimensionSearch(METRIC_NAMES.sagaExecutionsFailedByOutcome)],
      12,
      'count',
    ),
    ...vestaMetricGroups().map((g) =>
      graph(
        g.title,
        g.metricNames.map((name) => vestaServiceMetric(name, g.statistic)),
        QUARTER,
      ),
    ),
  ];
}
