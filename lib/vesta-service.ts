/**
 * The whole Vesta service as one construct, for a team's own CDK app: the state tables, the HTTP
 * API, the scheduled lease jobs, the saga state machines, the snapshots (bucket, workflows,
 * schedule), the change events, and their monitoring (alarm topic, alarms, dashboard).
 *
 * ```ts
 * const state = new VestaService(this, 'State');
 * state.grantWrite(ordersFunction, { namespace: 'orders' });
 * ```
 *
 * Every prop is optional. Each capability is a construct of its own (`tables`, `api`, `leases`,
 * `fieldSweeper`, `sagas`, `snapshots`, `changeEvents`, `monitoring`), documented on its class.
 */
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { Access } from '../src/api/access';
import { Api } from './constructs/api';
import { ChangeEvents } from './constructs/change-events';
import { FieldSweeperJob } from './constructs/field-sweeper';
import { Leases } from './constructs/leases';
import { Monitoring } from './constructs/monitoring';
import { Sagas } from './constructs/sagas';
import { Snapshots } from './constructs/snapshots';
import { StateTables } from './constructs/state-tables';

/** The stage of a `VestaService` given none. */
export const DEFAULT_STAGE = 'dev';

/** CDK context key of `logExecutionData`, e.g. `-c vesta:logExecutionData=true`. */
export const LOG_EXECUTION_DATA_CONTEXT = 'vesta:logExecutionData';

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

export interface VestaServiceProps {
  /**
   * Deployment stage, e.g. `dev` or `prod`: a lowercase letter, then lowercase letters, digits
   * and hyphens, at most 20 characters. It names the physical resources (tables
   * `vesta-<stage>-records`, ..., the API, the event bus `vesta-<stage>`), so two services in one
   * account and Region need two stages; and `prod` keeps its data and logs by default.
   * @default 'dev'
   */
  readonly stage?: string;
  /**
   * What happens to the data when it leaves the stack (or the stack is deleted): `RETAIN` keeps
   * the tables (with deletion protection on), the snapshot bucket, its functions' logs and the
   * alarm topic's key; `DESTROY` deletes them. No other policy is accepted.
   * @default - RemovalPolicy.RETAIN for the `prod` stage, RemovalPolicy.DESTROY for every other stage
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Keep the log groups (of the functions, state machines and API access logs) when they leave
   * the stack.
   * @default true for the `prod` stage, false for every other stage
   */
  readonly retainLogs?: boolean;
  /**
   * How long the logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * API Gateway stage throttling.
   * @default - 1000 requests per second, bursts of 2000
   */
  readonly throttling?: VestaThrottling;
  /**
   * Log each state machine event with its execution data (the inputs and outputs of every state,
   * which may hold record values), not only the events. For debugging a stage: the data lands in
   * the state machines' log groups.
   * @default - the `vesta:logExecutionData` context value (`true` or `false`), else false
   */
  readonly logExecutionData?: boolean;
  /**
   * Email addresses subscribed to every alarm (each must confirm the subscription first).
   * @default - the `vesta:alarmEmails` context value (comma-separated), else no subscription
   */
  readonly alarmEmails?: readonly string[];
  /**
   * A topic of yours for every alarm (ALARM and OK) instead of one of its own. CloudWatch must be
   * allowed to publish to it, and to use its key if it is encrypted (not `alias/aws/sns`).
   * @default - a topic of its own, TLS only, encrypted with a customer-managed key
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * 5XX answers of the API in 5 minutes from which its alarm fires.
   * @default 1
   */
  readonly apiServerErrorsThreshold?: number;
  /**
   * When snapshots are taken: an EventBridge `rate(...)` or `cron(...)` expression.
   * @default - the `vesta:snapshotSchedule` context value, else `rate(1 day)`
   */
  readonly snapshotSchedule?: string;
  /**
   * Days a snapshot is kept, from its start: its objects (an S3 lifecycle rule on `snapshots/`)
   * and its record, which the API stops showing at the same age, so it never lists a snapshot
   * whose objects are gone. The newest-complete mark that health and the "snapshot too old" alarm
   * read is not removed with it.
   * @default - the `vesta:snapshotRetentionDays` context value, else 35
   */
  readonly snapshotRetentionDays?: number;
  /**
   * Days the log of a finished saga (SUCCEEDED or COMPENSATED: header, steps and entries) is kept
   * after its end; a RUNNING or COMPENSATION_FAILED saga is kept until it ends. Past it the API
   * answers 404 for the saga and leaves it out of the list, and DynamoDB TTL deletes its items.
   * @default - the `vesta:sagaRetentionDays` context value, else 30
   */
  readonly sagaLogRetentionDays?: number;
  /**
   * Days a finished restore's record (and its part checkpoints) is kept after its end; past it
   * the API answers 404 for the restore, and DynamoDB TTL deletes the items.
   * @default - the `vesta:restoreRetentionDays` context value, else 30
   */
  readonly restoreRetentionDays?: number;
  /**
   * Age of the newest complete snapshot, in seconds, from which its alarm fires.
   * @default - the `vesta:snapshotMaxAgeSeconds` context value, else twice the schedule's interval
   */
  readonly snapshotMaxAgeSeconds?: number;
  /**
   * When the lease reaper runs.
   * @default - the `vesta:reaperSchedule` context value, else every minute
   */
  readonly reaperSchedule?: events.Schedule;
  /**
   * When the lease renewer runs.
   * @default - the `vesta:renewerSchedule` context value, else every minute
   */
  readonly renewerSchedule?: events.Schedule;
  /**
   * When the field sweeper runs.
   * @default - the `vesta:sweeperSchedule` context value, else every minute
   */
  readonly sweeperSchedule?: events.Schedule;
  /**
   * How long the event bus archive keeps change events, for replays.
   * @default Duration.days(7)
   */
  readonly eventArchiveRetention?: Duration;
  /**
   * The Regions of an active-active deployment, the first one first (docs/regions.md): each a
   * Region name, none twice. The records table becomes a global table that the first Region's
   * stack creates with a replica in each other Region; the stacks of the other Regions use their
   * Region's replica. Every function gets the list as `VESTA_REGIONS` and its stack's Region as
   * `VESTA_REPLICA`. With more than one Region the stack's Region must be concrete and listed.
   * @default - the `regions` context value (or `vesta:regions`): a JSON array or a comma-separated list, else one Region, the stack's
   */
  readonly regions?: readonly string[];
}

/** Whose records a grant covers. */
export interface VestaGrantOptions {
  /**
   * The namespace whose paths the grant covers; routes that reach every namespace (sagas,
   * snapshots, restores, dead letters) are then left out.
   * @default - every namespace, and those routes
   */
  readonly namespace?: string;
}

/**
 * Whether a removal policy keeps the data; `undefined` (the stage decides) when none is given.
 * Throws an `Error` that echoes any policy other than `RETAIN` and `DESTROY`.
 */
function retainOf(policy: RemovalPolicy | undefined): boolean | undefined {
  if (policy === undefined) return undefined;
  if (policy === RemovalPolicy.RETAIN) return true;
  if (policy === RemovalPolicy.DESTROY) return false;
  throw new Error(`removalPolicy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY. Received: ${policy}`);
}

/** A boolean context value; `undefined` when unset. Throws an `Error` that echoes anything else. */
function flagFromContext(scope: Construct, key: string): boolean | undefined {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context ${key} must be true or false. Received: ${JSON.stringify(value)}`);
}

/** Throws an `Error` when the stage, a limit, a schedule or a context value is malformed; the message echoes it. */
export class VestaService extends Construct {
  /** The deployment stage. */
  readonly stage: string;
  readonly tables: StateTables;
  readonly api: Api;
  readonly leases: Leases;
  /** The scheduled field sweeper, which removes expired fields. */
  readonly fieldSweeper: FieldSweeperJob;
  readonly sagas: Sagas;
  readonly snapshots: Snapshots;
  /** The event bus and the change publisher on the records table's stream. */
  readonly changeEvents: ChangeEvents;
  /** Alarm topic, alarms and dashboard; alarms of your own can join with `monitoring.addAlarms`. */
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: VestaServiceProps = {}) {
    super(scope, id);
    const stage = props.stage ?? DEFAULT_STAGE;
    this.stage = stage;
    const retainData = retainOf(props.removalPolicy);
    const logs = { stage, logRetention: props.logRetention, retainLogs: props.retainLogs };
    this.tables = new StateTables(this, 'StateTables', {
      stage,
      tableNamePrefix: `vesta-${stage}`,
      retain: retainData,
      regions: props.regions,
      retention: {
        snapshots: props.snapshotRetentionDays,
        sagas: props.sagaLogRetentionDays,
        restores: props.restoreRetentionDays,
      },
    });
    this.api = new Api(this, 'Api', {
      ...logs,
      tables: this.tables,
      throttlingRateLimit: props.throttling?.rateLimit,
      throttlingBurstLimit: props.throttling?.burstLimit,
    });
    const logExecutionData = props.logExecutionData ?? flagFromContext(this, LOG_EXECUTION_DATA_CONTEXT) ?? false;
    this.sagas = new Sagas(this, 'Sagas', { ...logs, tables: this.tables, logExecutionData });
    // The API function starts sagas: it gets the state machines' ARNs and may start executions of
    // those two only.
    for (const [name, value] of Object.entries(this.sagas.environment())) this.api.function.addEnvironment(name, value);
    this.sagas.grantStart(this.api.function);
    // And redrives a failed saga execution when a person retries a COMPENSATION_FAILED saga.
    this.sagas.grantRedrive(this.api.function);
    // It also records snapshots and restores and starts their executions, and imports snapshots
    // (it reads the bucket and copies what it imports under snapshots/).
    this.snapshots = new Snapshots(this, 'Snapshots', {
      stage,
      tables: this.tables,
      logExecutionData,
      logRetention: props.logRetention,
      retain: retainData,
      schedule: props.snapshotSchedule,
      retentionDays: this.tables.retention.snapshots,
      maxAgeSeconds: props.snapshotMaxAgeSeconds,
    });
    for (const [name, value] of Object.entries(this.snapshots.environment()))
      this.api.function.addEnvironment(name, value);
    this.snapshots.grantStart(this.api.function);
    this.snapshots.grantImport(this.api.function);
    // The lease jobs; the renewer may describe executions of these state machines and no other.
    this.leases = new Leases(this, 'Leases', {
      ...logs,
      tables: this.tables,
      stateMachines: [...Object.values(this.sagas.stateMachines), ...Object.values(this.snapshots.stateMachines)],
      reaperSchedule: props.reaperSchedule,
      renewerSchedule: props.renewerSchedule,
    });
    // Expired fields: invisible at once, removed (and published) by the sweeper.
    this.fieldSweeper = new FieldSweeperJob(this, 'FieldSweeper', {
      ...logs,
      tables: this.tables,
      schedule: props.sweeperSchedule,
    });
    // Every committed change: appended to the change log (which the API reads) and put on the bus.
    this.changeEvents = new ChangeEvents(this, 'ChangeEvents', {
      ...logs,
      tables: this.tables,
      archiveRetention: props.eventArchiveRetention,
    });
    // Dead letters are replayed by the function of the path that set them aside.
    this.api.grantDeadLetterReplay({
      publisher: this.changeEvents.publisher,
      snapshot: this.snapshots.exportFunction,
      restore: this.snapshots.restoreFunction,
      reaper: this.leases.reaper,
      renewer: this.leases.renewer,
      sweeper: this.fieldSweeper.function,
    });
    // Alarm emails come from the prop, else from the context key `vesta:alarmEmails`.
    this.monitoring = new Monitoring(this, 'Monitoring', {
      stage,
      alarmEmails: props.alarmEmails,
      apiServerErrorsThreshold: props.apiServerErrorsThreshold,
      retainKey: retainData,
      alarmTopic: props.alarmTopic,
      restApi: this.api.restApi,
      functions: [
        this.api.function,
        this.leases.reaper,
        this.leases.renewer,
        this.fieldSweeper.function,
        this.sagas.stepFunction,
        this.snapshots.exportFunction,
        this.snapshots.restoreFunction,
        this.snapshots.scheduleFunction,
        this.changeEvents.publisher,
      ],
      tables: Object.values(this.tables.tables),
      stateMachines: [...Object.values(this.sagas.stateMachines), ...Object.values(this.snapshots.stateMachines)],
      alarms: [this.leases, this.fieldSweeper, this.sagas, this.snapshots, this.changeEvents].flatMap((c) =>
        Object.values(c.alarms),
      ),
    });
    this.monitoring.addSection('Change events', this.changeEvents.widgets());
  }

  /** Invoke URL of the API stage, ending in `/`; the contract's paths (`v1/...`) follow it. */
  get url(): string {
    return this.api.url;
  }

  /**
   * Lets `grantee` read: a namespace's settings, keys, records and changes (`GET`), and the
   * health check. Throws an `Error` that echoes a malformed namespace.
   */
  grantRead(grantee: iam.IGrantable, options: VestaGrantOptions = {}): iam.Grant {
    return this.grant(grantee, 'read', options);
  }

  /**
   * What `grantRead` covers, and writes: put, patch and delete records, transactions, locks, and
   * leases (which hold no records; locks need them). Without a namespace also sagas, which write
   * records of any namespace. Throws an `Error` that echoes a malformed namespace.
   */
  grantWrite(grantee: iam.IGrantable, options: VestaGrantOptions = {}): iam.Grant {
    return this.grant(grantee, 'write', options);
  }

  /**
   * What `grantWrite` covers, and a namespace's settings (its conflict mode). Without a namespace:
   * the whole API, snapshots, restores and dead letters included. Throws an `Error` that echoes
   * a malformed namespace.
   */
  grantAdmin(grantee: iam.IGrantable, options: VestaGrantOptions = {}): iam.Grant {
    return this.grant(grantee, 'admin', options);
  }

  private grant(grantee: iam.IGrantable, access: Access, options: VestaGrantOptions): iam.Grant {
    return this.api.grantInvoke(grantee, access, options.namespace);
  }
}
