/**
 * One Vesta deployment (one stage in one account and Region): the state tables, the HTTP API, the
 * scheduled lease jobs, the saga state machines, the snapshots (bucket, workflows, schedule) and
 * their monitoring (alarm topic, alarms, dashboard).
 * The stack only composes constructs; what each part does is documented on its construct.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Api } from '../constructs/api';
import { Leases } from '../constructs/leases';
import { Monitoring } from '../constructs/monitoring';
import { Sagas } from '../constructs/sagas';
import { Snapshots } from '../constructs/snapshots';
import { ChangeEvents } from '../constructs/change-events';
import { StateTables } from '../constructs/state-tables';

export interface VestaThrottling {
  /**
   * Steady-state requests per second for the whole API stage.
   * @default 1000
   */
  readonly rateLimit?: number;
  /**
   * Burst of requests above the steady rate.
   * @default 2000
   */
  readonly burstLimit?: number;
}

export interface VestaStackProps extends StackProps {
  /** Deployment stage, e.g. `dev` or `prod`; see `lib/stage.ts` for the allowed names. */
  readonly stage: string;
  /**
   * API Gateway stage throttling.
   * @default - the `Api` construct's defaults
   */
  readonly throttling?: VestaThrottling;
  /**
   * Log each state machine event with its execution data (the inputs and outputs of every state,
   * which may hold record values), not only the events. For debugging a stage: the data lands in
   * the state machines' log groups.
   * @default - the `vesta:logExecutionData` context value (`true` or `false`), else false
   */
  readonly logExecutionData?: boolean;
}

/** CDK context key of `logExecutionData`, e.g. `-c vesta:logExecutionData=true`. */
export const LOG_EXECUTION_DATA_CONTEXT = 'vesta:logExecutionData';

/** A boolean context value; `undefined` when unset. Throws an `Error` that echoes anything else. */
function flagFromContext(scope: Construct, key: string): boolean | undefined {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context ${key} must be true or false. Received: ${JSON.stringify(value)}`);
}

/** Throws an `Error` when the stage, a throttling limit or a context value is malformed. */
export class VestaStack extends Stack {
  readonly tables: StateTables;
  readonly api: Api;
  readonly leases: Leases;
  readonly sagas: Sagas;
  readonly snapshots: Snapshots;
  /** The event bus and the change publisher on the records table's stream. */
  readonly changeEvents: ChangeEvents;
  /** Alarm topic, alarms and dashboard; capabilities added later hand their alarms to `addAlarms`. */
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: VestaStackProps) {
    super(scope, id, props);
    this.tables = new StateTables(this, 'StateTables', {
      stage: props.stage,
      tableNamePrefix: `vesta-${props.stage}`,
    });
    this.api = new Api(this, 'Api', {
      stage: props.stage,
      tables: this.tables,
      throttlingRateLimit: props.throttling?.rateLimit,
      throttlingBurstLimit: props.throttling?.burstLimit,
    });
    const logExecutionData = props.logExecutionData ?? flagFromContext(this, LOG_EXECUTION_DATA_CONTEXT) ?? false;
    this.sagas = new Sagas(this, 'Sagas', { stage: props.stage, tables: this.tables, logExecutionData });
    // The API function starts sagas: it gets the state machines' ARNs and may start executions of
    // those two only.
    for (const [name, value] of Object.entries(this.sagas.environment())) this.api.function.addEnvironment(name, value);
    this.sagas.grantStart(this.api.function);
    // It also records snapshots and restores and starts their executions (it never reads the bucket).
    this.snapshots = new Snapshots(this, 'Snapshots', { stage: props.stage, tables: this.tables, logExecutionData });
    for (const [name, value] of Object.entries(this.snapshots.environment()))
      this.api.function.addEnvironment(name, value);
    this.snapshots.grantStart(this.api.function);
    // The lease jobs; the renewer may describe executions of these state machines and no other.
    this.leases = new Leases(this, 'Leases', {
      stage: props.stage,
      tables: this.tables,
      stateMachines: [...Object.values(this.sagas.stateMachines), ...Object.values(this.snapshots.stateMachines)],
    });
    // Every committed change: appended to the change log (which the API reads) and put on the bus.
    this.changeEvents = new ChangeEvents(this, 'ChangeEvents', { stage: props.stage, tables: this.tables });
    // Dead letters are replayed by the function of the path that set them aside.
    this.api.grantDeadLetterReplay({
      publisher: this.changeEvents.publisher,
      snapshot: this.snapshots.exportFunction,
      restore: this.snapshots.restoreFunction,
      reaper: this.leases.reaper,
      renewer: this.leases.renewer,
    });
    // Alarm emails come from the context key `vesta:alarmEmails`, read by the construct.
    this.monitoring = new Monitoring(this, 'Monitoring', {
      stage: props.stage,
      restApi: this.api.restApi,
      functions: [
        this.api.function,
        this.leases.reaper,
        this.leases.renewer,
        this.sagas.stepFunction,
        this.snapshots.exportFunction,
        this.snapshots.restoreFunction,
        this.snapshots.scheduleFunction,
        this.changeEvents.publisher,
      ],
      tables: Object.values(this.tables.tables),
      stateMachines: [...Object.values(this.sagas.stateMachines), ...Object.values(this.snapshots.stateMachines)],
      alarms: [this.leases, this.sagas, this.snapshots, this.changeEvents].flatMap((c) => Object.values(c.alarms)),
    });
    this.monitoring.addSection('Change events', this.changeEvents.widgets());
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.monitoring.topic.topicArn,
      description:
        'SNS topic of every Vesta alarm (ALARM and OK); email subscriptions from -c vesta:alarmEmails=a@example.com,b@example.com.',
    });
    new CfnOutput(this, 'EventBusName', {
      value: this.changeEvents.bus.eventBusName,
      description: 'EventBridge bus of the change events (source vesta, detail-type vesta.StateChanged).',
    });
    new CfnOutput(this, 'SnapshotBucketName', {
      value: this.snapshots.bucket.bucketName,
      description: 'Bucket of the snapshots: snapshots/<id>/part-NNNNN.jsonl.gz and manifest.json.',
    });
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: 'Invoke URL of the API stage; requests are signed with SigV4 (service execute-api).',
    });
  }
}
