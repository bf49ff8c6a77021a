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

/** API: requests, 4XX and 5XX answers, latency p50 and p99. */
export function apiWidgets(m: ApiMetrics): cloudwatch.IWidget[] {
  return [
    graph('API requests', [m.count], THIRD, 'count'),
    graph('API 4XX and 5XX answers', [m.clientErrors, m.serverErrors], THIRD, 'count'),
    graph('API latency (ms)', [m.latencyP50, m.latencyP99], THIRD, 'ms'),
  ];
}

/** Lambda: invocations, errors, throttles and p99 duration, one line per function. */
export function functionWidgets(ms: readonly FunctionMetrics[]): cloudwatch.IWidget[] {
  return [
    graph('Lambda invocations', ms.map((m) => m.invocations), QUARTER, 'count'),
    graph('Lambda errors', ms.map((m) => m.errors), QUARTER, 'count'),
    graph('Lambda throttles', ms.map((m) => m.throttles), QUARTER, 'count'),
    graph('Lambda duration p99 (ms)', ms.map((m) => m.durationP99), QUARTER, 'ms'),
  ];
}

/**
 * DynamoDB: consumed read and write capacity and throttle events, one line per table; latency of
 * successful requests, one graph per table with a line per operation.
 */
export function tableWidgets(ms: readonly { readonly label: string; readonly metrics: TableMetrics }[]): cloudwatch.IWidget[] {
  return [
    graph('DynamoDB consumed read capacity', ms.map((t) => t.metrics.consumedRead), QUARTER, 'units'),
    graph('DynamoDB consumed write capacity', ms.map((t) => t.metrics.consumedWrite), QUARTER, 'units'),
    graph('DynamoDB throttle events', ms.map((t) => t.metrics.throttles), QUARTER, 'count'),
    ...ms.map((t) => graph(`DynamoDB ${t.label} latency (ms, avg)`, [t.metrics.successfulRequestLatency], QUARTER, 'ms')),
  ];
}

/** Step Functions: executions started, succeeded and failed, one line per state machine. */
export function stateMachineWidgets(ms: readonly StateMachineMetrics[]): cloudwatch.IWidget[] {
  return [
    graph('Executions started', ms.map((m) => m.started), THIRD, 'count'),
    graph('Executions succeeded', ms.map((m) => m.succeeded), THIRD, 'count'),
    graph('Executions failed', ms.map((m) => m.failed), THIRD, 'count'),
  ];
}

/**
 * Vesta's own metrics: operations by `operation` and conflicts by `kind` (SEARCH, every value a
 * line), then the groups of `vestaMetricGroups`.
 */
export function vestaWidgets(): cloudwatch.IWidget[] {
  return [
    graph(`${METRIC_NAMES.operations} by operation`, [vestaDimensionSearch(METRIC_NAMES.operations)], 12, 'count'),
    graph(`${METRIC_NAMES.conflicts} by kind`, [vestaDimensionSearch(METRIC_NAMES.conflicts)], 12, 'count'),
    ...vestaMetricGroups().map((g) => graph(g.title, g.metricNames.map((name) => vestaServiceMetric(name, g.statistic)), QUARTER)),
  ];
}
