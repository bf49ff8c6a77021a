/**
 * The alarms the `Monitoring` construct owns: API 5XX answers, errors and throttles of each
 * function, throttle events of each table. All on 5-minute sums, one period to alarm, missing data
 * not breaching (no requests, no invocations: nothing is wrong). Routing to the topic is the
 * construct's job (`Monitoring.addAlarms`), not this file's.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { DeadLetterSource } from '../../../src/core/dead-letters';
import { type ApiMetrics, type FunctionMetrics, type TableMetrics, deadLettersMetric } from './metrics';

/** At least `threshold` in one 5-minute period, no data meaning nothing happened. */
function countAlarm(scope: Construct, id: string, metric: cloudwatch.IMetric, threshold: number, alarmDescription: string): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription,
    metric,
    threshold,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/**
 * `<id>` in `scope`: the API answered at least `threshold` 5XX responses in 5 minutes (a count,
 * not a rate: Vesta answers 5XX only when it or AWS fails, so one is worth a look at any traffic).
 */
export function apiServerErrorsAlarm(scope: Construct, id: string, metrics: ApiMetrics, threshold: number): cloudwatch.Alarm {
  return countAlarm(scope, id, metrics.serverErrors, threshold, `Vesta API: at least ${threshold} 5XX answer(s) in 5 minutes`);
}

export interface FunctionAlarms {
  readonly errors: cloudwatch.Alarm;
  readonly throttles: cloudwatch.Alarm;
}

/** `<id>Errors` and `<id>Throttles` in `scope`: at least one failed, or throttled, invocation of `label` in 5 minutes. */
export function functionAlarms(scope: Construct, id: string, metrics: FunctionMetrics, label: string): FunctionAlarms {
  return {
    errors: countAlarm(scope, `${id}Errors`, metrics.errors, 1, `Vesta function ${label}: at least one failed invocation in 5 minutes`),
    throttles: countAlarm(scope, `${id}Throttles`, metrics.throttles, 1, `Vesta function ${label}: at least one throttled invocation in 5 minutes`),
  };
}

/**
 * `DeadLetters<Source>` in `scope`: the path set at least one item aside in 5 minutes. One alarm
 * per source (not one on their sum), so the alarm itself says which path to look at.
 */
export function deadLettersAlarm(scope: Construct, source: DeadLetterSource): cloudwatch.Alarm {
  const id = `DeadLetters${source.charAt(0).toUpperCase()}${source.slice(1)}`;
  return countAlarm(
    scope,
    id,
    deadLettersMetric(source),
    1,
    `Vesta ${source}: at least one item set aside as a dead letter in 5 minutes; the rest flowed. See vesta dead-letter ls --source ${source} (docs/operations.md)`,
  );
}

/** `<id>Throttles` in `scope`: at least one read or write throttle event on table `label` in 5 minutes. */
export function tableThrottlesAlarm(scope: Construct, id: string, metrics: TableMetrics, label: string): cloudwatch.Alarm {
  return countAlarm(scope, `${id}Throttles`, metrics.throttles, 1, `Vesta table ${label}: at least one throttled read or write in 5 minutes`);
}
