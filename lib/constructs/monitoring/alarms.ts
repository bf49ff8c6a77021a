/**
 * Every CloudWatch alarm of Vesta is made by `vestaAlarm`: the ones the `Monitoring` construct
 * owns (API 5XX answers, errors and throttles of each function, throttle events of each table,
 * dead letters of each background path, below) and those of the capability constructs (failed
 * executions, the lease reaper's lag, the change stream's iterator age, ...). Routing to the topic
 * is the `Monitoring` construct's job (`Monitoring.addAlarms`), not this file's.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { DeadLetterSource } from '../../../src/core/dead-letters';
import { type ApiMetrics, type FunctionMetrics, type TableMetrics, deadLettersMetric } from './metrics';

export interface VestaAlarmProps {
  /** What the alarm says when it fires: what happened, and where to look. */
  readonly description: string;
  readonly metric: cloudwatch.IMetric;
  /**
   * The value the metric is compared with.
   * @default 1
   */
  readonly threshold?: number;
  /**
   * How the metric is compared with `threshold`.
   * @default cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD (at least `threshold`)
   */
  readonly comparisonOperator?: cloudwatch.ComparisonOperator;
  /**
   * Periods of the metric the alarm looks at.
   * @default 1
   */
  readonly evaluationPeriods?: number;
  /**
   * Breaching periods among `evaluationPeriods` that fire the alarm.
   * @default - every one of `evaluationPeriods`
   */
  readonly datapointsToAlarm?: number;
  /**
   * What a period without data counts as.
   * @default cloudwatch.TreatMissingData.NOT_BREACHING (no data: nothing happened)
   */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
}

/**
 * The alarm `<id>` in `scope`; by default it fires on one period of at least 1, no data meaning
 * nothing happened. Throws what `cloudwatch.Alarm` throws (e.g. an id already taken in `scope`).
 */
export function vestaAlarm(scope: Construct, id: string, props: VestaAlarmProps): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription: props.description,
    metric: props.metric,
    threshold: props.threshold ?? 1,
    comparisonOperator: props.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: props.evaluationPeriods ?? 1,
    datapointsToAlarm: props.datapointsToAlarm,
    treatMissingData: props.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/**
 * `<id>` in `scope`: the API answered at least `threshold` 5XX responses in 5 minutes (a count,
 * not a rate: Vesta answers 5XX only when it or AWS fails, so one is worth a look at any traffic).
 */
export function apiServerErrorsAlarm(
  scope: Construct,
  id: string,
  metrics: ApiMetrics,
  threshold: number,
): cloudwatch.Alarm {
  return vestaAlarm(scope, id, {
    metric: metrics.serverErrors,
    threshold,
    description: `Vesta API: at least ${threshold} 5XX answer(s) in 5 minutes`,
  });
}

export interface FunctionAlarms {
  readonly errors: cloudwatch.Alarm;
  readonly throttles: cloudwatch.Alarm;
}

/**
 * `<id>Errors` and `<id>Throttles` in `scope`: at least one failed (not counting the failures it
 * reports on purpose, `countsDeliberateFailures`), or throttled, invocation of `label` in 5 minutes.
 */
export function functionAlarms(scope: Construct, id: string, metrics: FunctionMetrics, label: string): FunctionAlarms {
  const deliberate = metrics.faults !== metrics.errors;
  return {
    errors: vestaAlarm(scope, `${id}Errors`, {
      metric: metrics.faults,
      description: `Vesta function ${label}: at least one failed invocation in 5 minutes${deliberate ? ' (not counting the failures it reports on purpose, such as a refused saga step)' : ''}`,
    }),
    throttles: vestaAlarm(scope, `${id}Throttles`, {
      metric: metrics.throttles,
      description: `Vesta function ${label}: at least one throttled invocation in 5 minutes`,
    }),
  };
}

/**
 * `DeadLetters<Source>` in `scope`: the path set at least one item aside in 5 minutes. One alarm
 * per source (not one on their sum), so the alarm itself says which path to look at.
 */
export function deadLettersAlarm(scope: Construct, source: DeadLetterSource): cloudwatch.Alarm {
  const id = `DeadLetters${source.charAt(0).toUpperCase()}${source.slice(1)}`;
  return vestaAlarm(scope, id, {
    metric: deadLettersMetric(source),
    description: `Vesta ${source}: at least one item set aside as a dead letter in 5 minutes; the rest flowed. See vesta dead-letter ls --source ${source} (docs/operations.md)`,
  });
}

/** `<id>Throttles` in `scope`: at least one read or write throttle event on table `label` in 5 minutes. */
export function tableThrottlesAlarm(
  scope: Construct,
  id: string,
  metrics: TableMetrics,
  label: string,
): cloudwatch.Alarm {
  return vestaAlarm(scope, `${id}Throttles`, {
    metric: metrics.throttles,
    description: `Vesta table ${label}: at least one throttled read or write in 5 minutes`,
  });
}
