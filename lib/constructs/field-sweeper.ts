/**
 * The scheduled field sweeper: removes the expired fields of records (found through the records
 * table's sparse `byFieldExpiry` index) as `expire-fields` changes. Reads never wait on it (an
 * expired field is invisible from its due instant on); it reclaims storage and publishes the
 * removals. A Lambda function on an EventBridge rule, with least-privilege grants and alarms that
 * the stack hands to `Monitoring`.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { METRIC_NAMES } from '../../src/core/metric-names';
import { createVestaFunction, vestaMetric } from './function-defaults';
import { scheduleFromContext } from './leases';
import { vestaAlarm } from './monitoring/alarms';
import { functionMetrics } from './monitoring/metrics';
import { StageConstruct, type StageProps } from './stage-construct';
import type { StateTables } from './state-tables';

/** CDK context key that overrides the default schedule, e.g. `-c vesta:sweeperSchedule="rate(5 minutes)"`. */
export const SWEEPER_SCHEDULE_CONTEXT = 'vesta:sweeperSchedule';

/** The sweeper's lag alarm fires when expired fields wait longer than this to be removed. */
export const SWEEPER_LAG_THRESHOLD_SECONDS = 300;

export interface FieldSweeperProps extends StageProps {
  /** The tables the sweeper reads and writes. */
  readonly tables: StateTables;
  /**
   * When the sweeper runs.
   * @default - the `vesta:sweeperSchedule` context value (a `rate(...)` or `cron(...)` expression), else every minute
   */
  readonly schedule?: events.Schedule;
}

export class FieldSweeperJob extends StageConstruct {
  readonly function: lambda.Function;
  readonly rule: events.Rule;
  /**
   * Every alarm of this construct, by name: `sweeperErrors`, a run failed at least once in 5
   * minutes; `sweeperLag`, expired fields waited more than 5 minutes to be removed, three minutes
   * in a row.
   */
  readonly alarms: Readonly<Record<'sweeperErrors' | 'sweeperLag', cloudwatch.Alarm>>;

  /** Throws an `Error` when `stage` or a schedule given as context is malformed; the message echoes it. */
  constructor(scope: Construct, id: string, props: FieldSweeperProps) {
    super(scope, id, props);
    // Safe to run twice at once (every write is conditional), but one at a time saves work.
    this.function = createVestaFunction(this, 'Function', {
      ...this.log,
      entry: 'field-sweeper.ts',
      description: 'Vesta field sweeper',
      tables: props.tables,
      memorySize: 512,
      timeout: Duration.minutes(5),
      reservedConcurrentExecutions: 1,
    }).function;
    props.tables.grant(this.function, 'fieldSweeping', 'deadLetterWrite');
    // Several Regions: each Region's sweeper reads every Region's item of a key it sweeps.
    if ((props.tables.regions?.regions.length ?? 1) > 1) props.tables.grant(this.function, 'regionalSweeping');

    // A failed or throttled run is not retried: the next scheduled run does the same work.
    this.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Runs the Vesta field sweeper',
      schedule:
        props.schedule ??
        scheduleFromContext(this, SWEEPER_SCHEDULE_CONTEXT) ??
        events.Schedule.rate(Duration.minutes(1)),
      // A run that could not start within a minute is overtaken by the next one.
      targets: [new targets.LambdaFunction(this.function, { maxEventAge: Duration.minutes(1), retryAttempts: 0 })],
    });

    this.alarms = {
      sweeperErrors: vestaAlarm(this, 'Errors', {
        description: 'Vesta field sweeper: at least one failed run in 5 minutes',
        metric: functionMetrics(this.function).errors,
      }),
      sweeperLag: vestaAlarm(this, 'Lag', {
        description: `Vesta field sweeper: expired fields waited more than ${SWEEPER_LAG_THRESHOLD_SECONDS} s to be removed, 3 minutes in a row`,
        metric: vestaMetric(METRIC_NAMES.fieldSweeperLagSeconds, 'Maximum', Duration.minutes(1)),
        threshold: SWEEPER_LAG_THRESHOLD_SECONDS,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        // No data means no run removed anything; a sweeper that does not run shows in its errors alarm.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    };
  }
}
