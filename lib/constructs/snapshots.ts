/**
 * Snapshots: the bucket, the export, restore and schedule functions, the snapshot and restore
 * state machines (from `statemachines/snapshot.asl.json` and `restore.asl.json`), the schedule and
 * the "snapshot too old" alarm.
 *
 * - The bucket is encrypted (SSE-S3), TLS only, with every public access blocked and versioning on
 *   (an overwritten or deleted part stays recoverable for `NONCURRENT_DAYS`); objects under
 *   `snapshots/` expire after the retention, incomplete multipart uploads after a day.
 * - Each function may do exactly its part: export reads the records table and writes
 *   `snapshots/*`; restore reads `snapshots/*` and puts records; schedule records a snapshot and
 *   starts the snapshot machine. Each state machine may invoke only its own function.
 * - EventBridge starts a whole-store snapshot on the schedule (context `vesta:snapshotSchedule`,
 *   default daily), and every 15 minutes has the schedule function report
 *   `LatestSnapshotAgeSeconds`; the alarm fires when that age passes twice the schedule's interval
 *   or when it is not reported at all (no complete snapshot yet, or the function failing).
 * The stack hands the alarms (readonly properties) to `Monitoring`, which routes them to its topic.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { MAX_SEGMENTS, SNAPSHOTS_ROOT } from '../../src/core/snapshots';
import { DEFAULT_SNAPSHOT_SCHEDULE, scheduleIntervalSeconds } from '../../src/core/schedule';
import { ALL_MACHINES, SNAPSHOT_MACHINES, type SnapshotMachineId } from '../../src/sagas/state-machines';
import { SNAPSHOT_LIST_ACTIONS, SNAPSHOT_READ_ACTIONS, SNAPSHOT_START_ACTIONS, SNAPSHOT_WRITE_ACTIONS } from '../perms';
import { removalPolicyOf, retainsByDefault } from '../stage';
import { aslStateMachine } from './asl-state-machine';
import { METRIC_NAMES } from '../../src/core/metric-names';
import { createVestaFunction, vestaMetric } from './function-defaults';
import { vestaAlarm } from './monitoring/alarms';
import { MONITORING_PERIOD, functionMetrics } from './monitoring/metrics';
import { StageConstruct } from './stage-construct';
import {
  SNAPSHOT_SCHEDULE_CONTEXT,
  SNAPSHOT_SEGMENTS_CONTEXT,
  SNAPSHOT_MAX_AGE_CONTEXT,
  SNAPSHOT_FUNCTION_TIMEOUT_SECONDS,
  SNAPSHOT_SETTLE_SECONDS,
  NONCURRENT_DAYS,
  DEFAULT_STACK_SEGMENTS,
  AGE_REPORT_MINUTES,
  DEFAULT_CRON_MAX_AGE_SECONDS,
  type SnapshotsProps,
  contextValue,
  integerSetting,
} from './snapshot-settings';
import { retentionDays, retentionEnvironment } from './retention';

export { scheduleIntervalSeconds };

export * from './snapshot-settings';

export class Snapshots extends StageConstruct {
  readonly bucket: s3.Bucket;
  readonly exportFunction: lambda.Function;
  readonly restoreFunction: lambda.Function;
  readonly scheduleFunction: lambda.Function;
  /** The state machines by their id in `SNAPSHOT_MACHINES`. */
  readonly stateMachines: Readonly<Record<SnapshotMachineId, sfn.StateMachine>>;
  readonly scheduleRule: events.Rule;
  readonly ageReportRule: events.Rule;
  /** The schedule expression in use, and the alarm's age limit in seconds. */
  readonly schedule: string;
  readonly maxAgeSeconds: number;
  readonly segments: number;
  readonly retentionDays: number;
  /**
   * Every alarm of this construct, by name: `snapshotTooOld`, the newest complete snapshot is older
   * than `maxAgeSeconds`, or its age is not reported; `functionErrors`, any of the three functions
   * failed at least once in 5 minutes; `snapshotFailed` and `restoreFailed`, at least one failed
   * execution of that state machine in 5 minutes.
   */
  readonly alarms: Readonly<
    Record<'snapshotTooOld' | 'functionErrors' | `${SnapshotMachineId}Failed`, cloudwatch.Alarm>
  >;

  /** Throws an `Error` when the stage or a setting (prop or context) is malformed; the message echoes it. */
  constructor(scope: Construct, id: string, props: SnapshotsProps) {
    super(scope, id, { stage: props.stage, logRetention: props.logRetention, retainLogs: props.retain });
    const retain = props.retain ?? retainsByDefault(props.stage);

    const fromContext = contextValue(this, SNAPSHOT_SCHEDULE_CONTEXT);
    if (props.schedule === undefined && fromContext !== undefined && typeof fromContext !== 'string') {
      throw new Error(`${SNAPSHOT_SCHEDULE_CONTEXT} must be a string. Received: ${JSON.stringify(fromContext)}`);
    }
    this.schedule = props.schedule ?? (fromContext as string | undefined) ?? DEFAULT_SNAPSHOT_SCHEDULE;
    const interval = scheduleIntervalSeconds(this.schedule);
    this.retentionDays = retentionDays(this, 'snapshots', props.retentionDays ?? props.tables.retention.snapshots);
    this.segments = integerSetting(
      this,
      props.segments,
      SNAPSHOT_SEGMENTS_CONTEXT,
      DEFAULT_STACK_SEGMENTS,
      1,
      MAX_SEGMENTS,
    );
    this.maxAgeSeconds = integerSetting(
      this,
      props.maxAgeSeconds,
      SNAPSHOT_MAX_AGE_CONTEXT,
      // Never below the report period: the age is only measured every 15 minutes.
      interval !== undefined ? Math.max(2 * interval, AGE_REPORT_MINUTES * 60) : DEFAULT_CRON_MAX_AGE_SECONDS,
      AGE_REPORT_MINUTES * 60,
      366 * 86_400,
    );

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        {
          id: 'snapshot-retention',
          prefix: SNAPSHOTS_ROOT,
          expiration: Duration.days(this.retentionDays),
          noncurrentVersionExpiration: Duration.days(NONCURRENT_DAYS),
          expiredObjectDeleteMarker: false,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: removalPolicyOf(retain),
    });
    NagSuppressions.addResourceSuppressions(this.bucket, [
      {
        id: 'AwsSolutions-S1',
        reason:
          'Snapshot objects are written and read only by the snapshot functions, whose every call is in their logs and traces; server access logs would need a second bucket. Turn on CloudTrail data events for an audit trail.',
      },
    ]);

    const env = {
      VESTA_SNAPSHOT_BUCKET: this.bucket.bucketName,
      VESTA_SNAPSHOT_SEGMENTS: String(this.segments),
      ...retentionEnvironment({ snapshots: this.retentionDays }),
    };
    const fn = (
      cid: string,
      entry: string,
      description: string,
      memorySize: number,
      timeout: Duration,
      more: Record<string, string> = {},
    ) =>
      createVestaFunction(this, cid, {
        ...this.log,
        entry,
        description,
        tables: props.tables,
        memorySize,
        timeout,
        environment: { ...env, ...more },
      }).function;
    this.exportFunction = fn(
      'ExportFunction',
      'snapshot-export.ts',
      'Vesta snapshot export',
      512,
      Duration.seconds(SNAPSHOT_FUNCTION_TIMEOUT_SECONDS),
      { VESTA_SNAPSHOT_SETTLE_MS: String(SNAPSHOT_SETTLE_SECONDS * 1000) },
    );
    this.restoreFunction = fn(
      'RestoreFunction',
      'snapshot-restore.ts',
      'Vesta snapshot restore',
      512,
      Duration.seconds(SNAPSHOT_FUNCTION_TIMEOUT_SECONDS),
    );
    this.scheduleFunction = fn(
      'ScheduleFunction',
      'snapshot-schedule.ts',
      'Vesta snapshot schedule',
      256,
      Duration.seconds(60),
    );
    props.tables.grant(this.exportFunction, 'snapshotExport', 'deadLetterWrite');
    // Several Regions: a whole-store export reads every Region's items of each key it scans.
    if ((props.tables.regions?.regions.length ?? 1) > 1)
      props.tables.grant(this.exportFunction, 'regionalSnapshotExport');
    props.tables.grant(this.restoreFunction, 'snapshotRestore', 'deadLetterWrite');
    props.tables.grant(this.scheduleFunction, 'snapshotStore');
    const objects = this.bucket.arnForObjects(`${SNAPSHOTS_ROOT}*`);
    iam.Grant.addToPrincipal({
      grantee: this.exportFunction,
      actions: [...SNAPSHOT_WRITE_ACTIONS],
      resourceArns: [objects],
    });
    iam.Grant.addToPrincipal({
      grantee: this.restoreFunction,
      actions: [...SNAPSHOT_READ_ACTIONS],
      resourceArns: [objects],
    });
    for (const f of [this.exportFunction, this.restoreFunction]) {
      NagSuppressions.addResourceSuppressions(
        f.role!,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason: `Snapshot objects are named snapshots/<id>/...; the function may act on that prefix of the snapshot bucket only.`,
            appliesTo: [`Resource::<${this.bucketLogicalId()}.Arn>/snapshots/*`],
          },
        ],
        true,
      );
    }

    const machines: Partial<Record<SnapshotMachineId, sfn.StateMachine>> = {};
    const failed: Partial<Record<`${SnapshotMachineId}Failed`, cloudwatch.Alarm>> = {};
    for (const { def, substitution } of ALL_MACHINES.filter((m) => SNAPSHOT_MACHINES.some((d) => d.id === m.def.id))) {
      const made = aslStateMachine(this, {
        stage: props.stage,
        def,
        substitution,
        invokes: def.id === 'snapshot' ? this.exportFunction : this.restoreFunction,
        ...this.log,
        logExecutionData: props.logExecutionData,
      });
      machines[def.id as SnapshotMachineId] = made.machine;
      failed[`${def.id as SnapshotMachineId}Failed`] = made.executionsFailedAlarm;
    }
    this.stateMachines = machines as Record<SnapshotMachineId, sfn.StateMachine>;

    const snapshotMachine = this.stateMachines.snapshot;
    this.scheduleFunction.addEnvironment(
      SNAPSHOT_MACHINES.find((d) => d.id === 'snapshot')!.envVar,
      snapshotMachine.stateMachineArn,
    );
    iam.Grant.addToPrincipal({
      grantee: this.scheduleFunction,
      actions: [...SNAPSHOT_START_ACTIONS],
      resourceArns: [snapshotMachine.stateMachineArn],
    });

    this.scheduleRule = new events.Rule(this, 'ScheduleRule', {
      description: `Vesta: a whole-store snapshot, ${this.schedule}`,
      schedule: events.Schedule.expression(this.schedule),
      targets: [
        new targets.LambdaFunction(this.scheduleFunction, {
          event: events.RuleTargetInput.fromObject({ action: 'scheduledStart' }),
        }),
      ],
    });
    this.ageReportRule = new events.Rule(this, 'AgeReportRule', {
      description: 'Vesta: report the age of the newest complete snapshot (LatestSnapshotAgeSeconds)',
      schedule: events.Schedule.rate(Duration.minutes(AGE_REPORT_MINUTES)),
      targets: [
        new targets.LambdaFunction(this.scheduleFunction, {
          event: events.RuleTargetInput.fromObject({ action: 'reportAge' }),
        }),
      ],
    });

    const snapshotTooOld = vestaAlarm(this, 'SnapshotTooOld', {
      description: `Vesta snapshots: the newest complete snapshot is older than ${this.maxAgeSeconds} s (twice the schedule ${this.schedule}), or its age is not reported (no complete snapshot yet, or the schedule function failing)`,
      metric: vestaMetric(METRIC_NAMES.latestSnapshotAgeSeconds, 'Maximum', Duration.minutes(AGE_REPORT_MINUTES)),
      threshold: this.maxAgeSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const errors = (f: lambda.Function) => functionMetrics(f).errors;
    const functionErrors = vestaAlarm(this, 'FunctionErrors', {
      description: 'Vesta snapshots: the export, restore or schedule function failed at least once in 5 minutes',
      metric: new cloudwatch.MathExpression({
        expression: 'e + r + s',
        usingMetrics: {
          e: errors(this.exportFunction),
          r: errors(this.restoreFunction),
          s: errors(this.scheduleFunction),
        },
        period: MONITORING_PERIOD,
      }),
    });
    this.alarms = {
      snapshotTooOld,
      functionErrors,
      ...(failed as Record<`${SnapshotMachineId}Failed`, cloudwatch.Alarm>),
    };
  }

  private bucketLogicalId(): string {
    return Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
  }

  /** `states:StartExecution` on the snapshot and restore machines (the API function). */
  grantStart(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...SNAPSHOT_START_ACTIONS],
      resourceArns: SNAPSHOT_MACHINES.map((def) => this.stateMachines[def.id].stateMachineArn),
    });
  }

  /**
   * What `POST /v1/snapshots/import` needs: list the bucket and read its objects (snapshots are
   * imported from any prefix of the deployment's own bucket), and write `snapshots/*` (the parts
   * and manifest of a snapshot found under another prefix are copied there).
   */
  grantImport(fn: lambda.IFunction): void {
    const grantee = fn;
    iam.Grant.addToPrincipal({ grantee, actions: [...SNAPSHOT_LIST_ACTIONS], resourceArns: [this.bucket.bucketArn] });
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...SNAPSHOT_READ_ACTIONS],
      resourceArns: [this.bucket.arnForObjects('*')],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...SNAPSHOT_WRITE_ACTIONS],
      resourceArns: [this.bucket.arnForObjects(`${SNAPSHOTS_ROOT}*`)],
    });
    NagSuppressions.addResourceSuppressions(
      fn.role!,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'An import reads the snapshots a team copied under any prefix of the deployment’s own snapshot bucket (object names are not known in advance), and copies them under snapshots/<id>/. Nothing outside this bucket.',
          appliesTo: [
            `Resource::<${this.bucketLogicalId()}.Arn>/*`,
            `Resource::<${this.bucketLogicalId()}.Arn>/snapshots/*`,
          ],
        },
      ],
      true,
    );
  }

  /** What the API function needs to know: both machines' ARNs, the segments of a whole-store snapshot and the snapshots' retention. */
  environment(): Record<string, string> {
    return {
      ...Object.fromEntries(SNAPSHOT_MACHINES.map((def) => [def.envVar, this.stateMachines[def.id].stateMachineArn])),
      VESTA_SNAPSHOT_SEGMENTS: String(this.segments),
      // For imports.
      VESTA_SNAPSHOT_BUCKET: this.bucket.bucketName,
      ...retentionEnvironment({ snapshots: this.retentionDays }),
    };
  }
}
