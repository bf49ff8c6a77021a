/**
 * The scheduled lease jobs: the reaper, which removes expired leases and what they held, and the
 * renewer, which keeps alive the leases of running executions of the given state machines (and
 * may describe executions of those only). Each is a Lambda
 * function on an EventBridge rule, with least-privilege grants and alarms. The stack hands the
 * alarms (readonly properties) to `Monitoring`, which routes them to its topic.
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { EXECUTION_STATUS_ACTIONS } from '../perms';
import { METRIC_NAMES } from '../../src/core/metric-names';
import { createVestaFunction, vestaMetric } from './function-defaults';
import { vestaAlarm } from './monitoring/alarms';
import { functionMetrics } from './monitoring/metrics';
import { StageConstruct, type StageProps } from './stage-construct';
import type { StateTables } from './state-tables';

/** CDK context keys that override the default schedules, e.g. `-c vesta:reaperSchedule="rate(5 minutes)"`. */
export const REAPER_SCHEDULE_CONTEXT = 'vesta:reaperSchedule';
export const RENEWER_SCHEDULE_CONTEXT = 'vesta:renewerSchedule';

/** The reaper's lag alarm fires when expired leases wait longer than this to be reaped. */
export const REAPER_LAG_THRESHOLD_SECONDS = 300;

export interface LeasesProps extends StageProps {
  /** Deployment stage; decides the default of `retainLogs`. */
  readonly stage: string;
  /** The tables the jobs read and write. */
  readonly tables: StateTables;
  /**
   * The state machines whose executions may hold leases that the renewer keeps alive (a lease
   * granted with `executionArn`). The renewer may describe the executions of these and of no
   * other state machine; a lease of any other execution is never renewed and expires by itself.
   */
  readonly stateMachines: readonly sfn.StateMachine[];
  /**
   * When the reaper runs.
   * @default - the `vesta:reaperSchedule` context value (a `rate(...)` or `cron(...)` expression), else every minute
   */
  readonly reaperSchedule?: events.Schedule;
  /**
   * When the renewer runs.
   * @default - the `vesta:renewerSchedule` context value (a `rate(...)` or `cron(...)` expression), else every minute
   */
  readonly renewerSchedule?: events.Schedule;
}

/**
 * The schedule from a context value, or `undefined` when the key is not set. Throws an `Error`
 * that echoes the value when it is not a `rate(...)` or `cron(...)` expression.
 */
export function scheduleFromContext(scope: Construct, key: string): events.Schedule | undefined {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^(rate|cron)\(.+\)$/.test(value)) {
    throw new Error(`context ${key} must be a rate(...) or cron(...) expression. Received: ${JSON.stringify(value)}`);
  }
  return events.Schedule.expression(value);
}

export class Leases extends StageConstruct {
  readonly reaper: lambda.Function;
  readonly renewer: lambda.Function;
  readonly reaperRule: events.Rule;
  readonly renewerRule: events.Rule;
  /**
   * Every alarm of this construct, by name: `reaperErrors` and `renewerErrors`, the job failed at
   * least once in 5 minutes; `reaperLag`, expired leases waited more than 5 minutes to be reaped,
   * three minutes in a row.
   */
  readonly alarms: Readonly<Record<'reaperErrors' | 'reaperLag' | 'renewerErrors', cloudwatch.Alarm>>;

  /** Throws an `Error` when `stage` or a schedule given as context is malformed; the message echoes it. */
  constructor(scope: Construct, id: string, props: LeasesProps) {
    super(scope, id, props);
    const everyMinute = events.Schedule.rate(Duration.minutes(1));

    // Safe to run twice at once (every step is conditional), but one at a time saves work.
    this.reaper = createVestaFunction(this, 'Reaper', {
      ...this.log,
      entry: 'lease-reaper.ts',
      description: 'Vesta lease reaper',
      tables: props.tables,
      memorySize: 512,
      timeout: Duration.minutes(5),
      reservedConcurrentExecutions: 1,
    }).function;
    props.tables.grant(this.reaper, 'leaseReaping', 'deadLetterWrite');

    this.renewer = createVestaFunction(this, 'Renewer', {
      ...this.log,
      entry: 'lease-renewer.ts',
      description: 'Vesta lease renewer',
      tables: props.tables,
      memorySize: 256,
      timeout: Duration.minutes(1),
    }).function;
    props.tables.grant(this.renewer, 'leaseRenewal', 'deadLetterWrite');
    this.grantExecutionStatus(this.renewer, props.stateMachines);

    this.reaperRule = this.schedule(
      'ReaperSchedule',
      this.reaper,
      props.reaperSchedule ?? scheduleFromContext(this, REAPER_SCHEDULE_CONTEXT) ?? everyMinute,
      'reaper',
    );
    this.renewerRule = this.schedule(
      'RenewerSchedule',
      this.renewer,
      props.renewerSchedule ?? scheduleFromContext(this, RENEWER_SCHEDULE_CONTEXT) ?? everyMinute,
      'renewer',
    );

    const reaperLag = vestaAlarm(this, 'ReaperLag', {
      description: `Vesta lease reaper: expired leases waited more than ${REAPER_LAG_THRESHOLD_SECONDS} s to be reaped, 3 minutes in a row`,
      metric: vestaMetric(METRIC_NAMES.leaseReaperLagSeconds, 'Maximum', Duration.minutes(1)),
      threshold: REAPER_LAG_THRESHOLD_SECONDS,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      // No data means no run reaped anything; a reaper that does not run shows in its errors alarm.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarms = {
      reaperErrors: this.errorsAlarm('ReaperErrors', this.reaper, 'reaper'),
      reaperLag,
      renewerErrors: this.errorsAlarm('RenewerErrors', this.renewer, 'renewer'),
    };
  }

  /**
   * `states:DescribeExecution` on the executions of `machines` only
   * (`arn:<partition>:states:<region>:<account>:execution:<state machine name>:*`), in a policy of
   * its own so that its cdk-nag suppression covers this statement only. No machines: no policy.
   */
  private grantExecutionStatus(fn: lambda.Function, machines: readonly sfn.StateMachine[]): void {
    if (machines.length === 0) return;
    const executions = machines.map((m) =>
      Stack.of(this).formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${m.stateMachineName}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    const policy = new iam.Policy(this, 'RenewerExecutionStatus', {
      roles: [fn.role!],
      statements: [new iam.PolicyStatement({ actions: [...EXECUTION_STATUS_ACTIONS], resources: executions })],
    });
    // Attached before the function exists, so no run starts without it.
    fn.node.addDependency(policy);
    NagSuppressions.addResourceSuppressions(policy, [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          "The renewer only calls states:DescribeExecution, on the executions of this stack's own state machines: an execution ARN is <state machine ARN with :execution:>:<execution name>, and the execution names (saga and snapshot ids) are only known at run time, hence the trailing :*.",
        // Partition, Region and account are literals when the stack has an environment, tokens
        // otherwise; the state machine's name is its Name attribute.
        appliesTo: [
          {
            regex:
              '/^Resource::arn:(<AWS::Partition>|aws[a-z-]*):states:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\\d{12}):execution:<[A-Za-z0-9]+\\.Name>:\\*$/g',
          },
        ],
      },
    ]);
  }

  private schedule(id: string, fn: lambda.Function, schedule: events.Schedule, job: string): events.Rule {
    // A failed or throttled run is not retried: the next scheduled run does the same work, and
    // queued runs would only pile up behind the reaper's single concurrent execution.
    fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    return new events.Rule(this, id, {
      description: `Runs the Vesta lease ${job}`,
      schedule,
      // A run that could not start within a minute is overtaken by the next one.
      targets: [new targets.LambdaFunction(fn, { maxEventAge: Duration.minutes(1), retryAttempts: 0 })],
    });
  }

  private errorsAlarm(id: string, fn: lambda.Function, job: string): cloudwatch.Alarm {
    return vestaAlarm(this, id, {
      description: `Vesta lease ${job}: at least one failed run in 5 minutes`,
      metric: functionMetrics(fn).errors,
    });
  }
}
