/**
 * Wiring: the one place that reads the environment and builds clients and adapters. Lambda
 * entries call it with no arguments; the local stack and the tests pass their own client, table
 * names and clock.
 *
 * Only the DynamoDB client is made (and its SDK loaded) at init: every function uses it at once.
 * The Step Functions, Lambda, S3 and EventBridge clients are made, and their SDK packages loaded,
 * at their first use (`lazy-sdk.ts`), so that a function's cold start does not pay for the
 * clients of paths its request may not take (e.g. a record request of the API uses none of them).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { type ChangeSignal, type Clock, type ExecutionStatusSource, systemClock } from '../core/ports';
import { signallingChangeLog } from '../core/change-signal';
import { LeaseReaper } from '../adapters/dynamodb/lease-reaper';
import { FieldSweeper } from '../adapters/dynamodb/field-sweeper';
import { RegionalSweeper } from '../adapters/dynamodb/regional-sweeper';
import { LeaseRenewer } from '../adapters/dynamodb/lease-renewer';
import { DynamoRecordStore } from '../adapters/dynamodb/record-store';
import { DynamoSettingsStore } from '../adapters/dynamodb/settings-store';
import { DynamoLeaseStore } from '../adapters/dynamodb/lease-store';
import {
  CHANGES_TABLE,
  CONTROL_TABLE,
  DEAD_LETTERS_TABLE,
  IDEMPOTENCY_TABLE,
  RECORDS_TABLE,
  SAGAS_TABLE,
} from '../adapters/dynamodb/table-defs';
import { DynamoChangeLog } from '../adapters/dynamodb/change-log';
import {
  type StreamRecordLike,
  conflictChange,
  dynamoStreamDecoder,
  replicatedRejectItem,
} from '../adapters/dynamodb/stream-records';
import { DynamoDeadLetterStore } from '../adapters/dynamodb/dead-letter-store';
import { type DeadLetterMetrics, deadLetterSink } from '../core/dead-letters';
import { retentionFromEnv } from '../core/retention';
import { DynamoSagaLog } from '../adapters/dynamodb/saga-log';
import { translateCause } from '../adapters/dynamodb/errors';
import { SfnWorkflows } from '../adapters/sfn/workflows';
import { DynamoSnapshotCuts } from '../adapters/dynamodb/snapshot-cuts';
import { DynamoSnapshotStore } from '../adapters/dynamodb/snapshot-store';
import { DynamoRecordScan } from '../adapters/dynamodb/record-scan';
import { restoreWriterFor } from '../adapters/dynamodb/regional-restore-writer';
import { DynamoRegionalScan } from '../adapters/dynamodb/regional-scan';
import { S3BlobStore } from '../adapters/blob/s3-blob-store';
import { FsBlobStore } from '../adapters/blob/fs-blob-store';
import { bucketImportLocations, folderImportLocations } from '../adapters/blob/import-locations';
import type { ImportDeps } from '../core/snapshot-import';
import { ALL_MACHINES } from '../sagas/state-machines';
import type {
  BlobStore,
  DeadLetterReplay,
  DeadLetterStore,
  EventBus,
  WorkflowId,
  WorkflowStarter,
} from '../core/ports';
import { LambdaDeadLetterReplay, replayFunctions } from '../adapters/lambda/dead-letter-replay';
import { EventBridgeBus } from '../adapters/events/eventbridge-bus';
import { DEFAULT_PRE_IMAGE_WAIT_MS, DEFAULT_SETTLE_MS, type WritesInFlight } from '../core/snapshot-cut';
import type { SnapshotWorkerDeps } from '../snapshots/deps';
import type { ApiDeps } from './app';
import { DYNAMODB_CLIENT_DEFAULTS } from '../adapters/dynamodb/client-config';
import { SfnExecutionStatus } from '../adapters/sfn/execution-status';
import { eventBridgeSdk, lambdaSdk, s3Sdk, sfnSdk } from '../adapters/lazy-sdk';
import { changeRetentionSeconds, msSetting, regionsOf, replicaOf, snapshotSegments, tableName } from './env-settings';

export { changeRetentionSeconds, regionsOf, snapshotSegments, tableName } from './env-settings';

export interface WiringOptions {
  readonly client?: DynamoDBClient;
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Starts saga and snapshot executions. @default Step Functions, state machine ARNs from the environment */
  readonly workflows?: WorkflowStarter;
  /**
   * Where snapshot parts and manifests go (the API imports snapshots into it). @default the S3
   * bucket `VESTA_SNAPSHOT_BUCKET`
   */
  readonly blobs?: BlobStore;
  /** Where background paths count the items they set aside (`DeadLetters`). @default not counted */
  readonly metrics?: DeadLetterMetrics;
  /** How the API replays dead letters. @default the background functions named in the environment (`REPLAY_FUNCTION_ENV`) */
  readonly deadLetterReplay?: DeadLetterReplay;
  /** Told of each append to the change log; wakes the changes endpoint's long polls. @default none: they poll */
  readonly changeSignal?: ChangeSignal;
  /**
   * The record writes of this process while they run, shared by every entry point of a process
   * that takes snapshots (the local stack): an export then reads as soon as no write stamped
   * before its cut is left, instead of waiting `VESTA_SNAPSHOT_SETTLE_MS`. @default none
   */
  readonly inFlight?: WritesInFlight;
}

/** The stores every entry point shares, built from the environment (or the options). */
export function wireStores(opts: WiringOptions = {}) {
  const env = opts.env ?? process.env;
  const client = opts.client ?? new DynamoDBClient({ ...DYNAMODB_CLIENT_DEFAULTS });
  const clock = opts.clock ?? systemClock;
  const controlTable = tableName(env, CONTROL_TABLE);
  // The two stores need each other: writes check leases, revoking a lease expires its records.
  const leases: DynamoLeaseStore = new DynamoLeaseStore(client, controlTable, clock, {
    expireAttached: (ns, key, id) => records.expireAttached(ns, key, id),
  });
  const records = new DynamoRecordStore({
    client,
    tableName: tableName(env, RECORDS_TABLE),
    replica: replicaOf(env),
    regions: regionsOf(env),
    clock,
    leases,
    controlTable,
    inFlight: opts.inFlight,
  });
  const deadLetters = new DynamoDeadLetterStore({ client, tableName: tableName(env, DEAD_LETTERS_TABLE), clock });
  const setAside = deadLetterSink(deadLetters, opts.metrics, opts.logger);
  const reaper = new LeaseReaper(client, controlTable, leases, clock, setAside);
  const regions = regionsOf(env);
  const fieldSweeper = new FieldSweeper({
    client,
    recordsTable: tableName(env, RECORDS_TABLE),
    controlTable,
    replica: replicaOf(env),
    clock,
    setAsideItem: setAside,
    // Several Regions: every Region sweeps its own items (docs/regions.md).
    ...(regions.length > 1
      ? {
          regional: new RegionalSweeper({
            client,
            recordsTable: tableName(env, RECORDS_TABLE),
            regions,
            self: replicaOf(env),
            clock,
          }),
        }
      : {}),
  });
  const settings = new DynamoSettingsStore({
    client,
    tableName: controlTable,
    clock,
    cacheSeconds: Number(env.VESTA_SETTINGS_CACHE_SECONDS ?? 5),
  });
  // VESTA_SNAPSHOT_RETENTION_DAYS, VESTA_SAGA_RETENTION_DAYS, VESTA_RESTORE_RETENTION_DAYS.
  const retention = retentionFromEnv(env);
  const sagas = new DynamoSagaLog(client, tableName(env, SAGAS_TABLE), clock, retention.sagas);
  const snapshots = new DynamoSnapshotStore(client, controlTable, clock, retention);
  const cuts = new DynamoSnapshotCuts(client, controlTable);
  const changeLog = new DynamoChangeLog({
    client,
    tableName: tableName(env, CHANGES_TABLE),
    clock,
    retentionSeconds: changeRetentionSeconds(env),
  });
  const changes = opts.changeSignal ? signallingChangeLog(changeLog, opts.changeSignal) : changeLog;
  return {
    env,
    client,
    clock,
    controlTable,
    records,
    leases,
    reaper,
    fieldSweeper,
    settings,
    sagas,
    snapshots,
    cuts,
    changes,
    deadLetters,
    setAside,
  };
}

/** Step Functions, with the ARNs of the state machines `ids` from the environment. */
function sfnWorkflows(env: Readonly<Record<string, string | undefined>>, ids: readonly WorkflowId[]): WorkflowStarter {
  const arns = Object.fromEntries(
    ALL_MACHINES.filter(({ def }) => ids.includes(def.id)).map(({ def }) => {
      const arn = env[def.envVar];
      if (!arn) throw new Error(`environment variable ${def.envVar} (the ${def.id} state machine ARN) is not set`);
      return [def.id, arn];
    }),
  ) as Record<WorkflowId, string>;
  return new SfnWorkflows(sfnClient, arns);
}

/** A Step Functions client, made at the first call of an adapter that uses it. */
const sfnClient = () => new (sfnSdk().SFNClient)({ ...DYNAMODB_CLIENT_DEFAULTS });

/** Execution statuses from Step Functions (the lease renewer's in AWS). */
export function sfnExecutionStatus(): ExecutionStatusSource {
  return new SfnExecutionStatus(sfnClient);
}

/** An S3 client for the snapshot bucket, made at the first use. */
const s3Client = () => new (s3Sdk().S3Client)({ maxAttempts: 4 });

/**
 * What the snapshot import route needs: a folder blob store imports from folders of this machine
 * into it; the bucket `VESTA_SNAPSHOT_BUCKET` (when no store is given) from prefixes of itself.
 * `undefined` when there is neither (the route then answers 503).
 */
function snapshotImport(
  env: Readonly<Record<string, string | undefined>>,
  blobs: BlobStore | undefined,
  registry: DynamoSnapshotStore,
): ImportDeps | undefined {
  if (blobs instanceof FsBlobStore) return { blobs, locations: folderImportLocations(blobs.root), registry };
  const bucket = env.VESTA_SNAPSHOT_BUCKET;
  if (blobs || !bucket) return undefined;
  const store = new S3BlobStore(s3Client, bucket);
  return { blobs: store, locations: bucketImportLocations(bucket, store), registry };
}

/** What the saga-step function needs: the saga log, the records and the namespace settings. */
export function wireSagaStep(opts: WiringOptions = {}) {
  const { records, settings, sagas } = wireStores(opts);
  return { records, settings, sagas };
}

export function wireApi(opts: WiringOptions = {}): ApiDeps {
  const {
    env,
    client,
    clock,
    records,
    leases,
    reaper,
    fieldSweeper,
    settings,
    sagas,
    snapshots,
    changes,
    deadLetters,
  } = wireStores(opts);
  const logger = opts.logger ?? new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'vesta' });
  return {
    region: replicaOf(env),
    sagas,
    workflows:
      opts.workflows ??
      sfnWorkflows(
        env,
        ALL_MACHINES.map(({ def }) => def.id),
      ),
    snapshots,
    snapshotSegments: snapshotSegments(env),
    snapshotImport: snapshotImport(env, opts.blobs, snapshots),
    changes,
    changeSignal: opts.changeSignal,
    deadLetters,
    // Functions are read at the first replay, so a stack without them still serves everything else.
    deadLetterReplay:
      opts.deadLetterReplay ??
      new LambdaDeadLetterReplay(
        () => new (lambdaSdk().LambdaClient)({ maxAttempts: 2 }),
        deadLetters,
        () => replayFunctions(env),
      ),
    records,
    leases,
    clock,
    settings,
    health: {
      storeOk: () => settings.storeOk(),
      leaseReaperLagSeconds: () => reaper.secondsSinceLastRun().catch(() => null),
      fieldSweeperLagSeconds: () => fieldSweeper.secondsSinceLastRun().catch(() => null),
      latestSnapshotAgeSeconds: () => snapshots.latestCompleteAgeSeconds().catch(() => null),
    },
    idempotencyStore: {
      layer: new DynamoDBPersistenceLayer({ tableName: tableName(env, IDEMPOTENCY_TABLE), awsSdkV3Client: client }),
      failure: translateCause,
    },
    logger,
  };
}

/** The scheduled lease jobs: the reaper, and the renewer over the given execution statuses. */
export function wireLeaseJobs(executions: ExecutionStatusSource, opts: WiringOptions = {}) {
  const { client, clock, controlTable, leases, reaper, deadLetters, setAside } = wireStores(opts);
  return { reaper, renewer: new LeaseRenewer(client, controlTable, leases, executions, clock, setAside), deadLetters };
}

/** The scheduled field sweeper, which removes expired fields, and the dead letters it replays. */
export function wireFieldSweeper(opts: WiringOptions = {}) {
  const { fieldSweeper, deadLetters } = wireStores(opts);
  return { sweeper: fieldSweeper, deadLetters };
}

/**
 * What the snapshot functions need: the records table, the snapshot store, the blob store (S3
 * unless given) and, for the schedule function, the snapshot state machine.
 */
export function wireSnapshotWorker(
  opts: WiringOptions & { readonly startsSnapshots?: boolean } = {},
): SnapshotWorkerDeps & {
  readonly segments: number;
  readonly store: DynamoSnapshotStore;
  readonly deadLetters: DeadLetterStore;
  readonly recordsTable: string;
} {
  const { env, client, clock, controlTable, records, settings, snapshots, cuts, deadLetters, setAside } =
    wireStores(opts);
  const bucket = env.VESTA_SNAPSHOT_BUCKET;
  if (!opts.blobs && !bucket)
    throw new Error('environment variable VESTA_SNAPSHOT_BUCKET (the snapshot bucket) is not set');
  const recordsTable = tableName(env, RECORDS_TABLE);
  return {
    recordsTable,
    // Several Regions: each record is exported once, its Region items rolled back to the cut and joined.
    scan:
      regionsOf(env).length > 1
        ? new DynamoRegionalScan(client, recordsTable, regionsOf(env))
        : new DynamoRecordScan(client, recordsTable),
    // Several Regions: a writer of this Region's own items, in the namespaces' conflict modes.
    restoreWriter: restoreWriterFor(
      {
        client,
        recordsTable,
        controlTable,
        clock,
        replica: replicaOf(env),
        resolve: (s) => records.resolve(s),
        setAside,
      },
      regionsOf(env),
      async (ns) => (await settings.get(ns)).conflicts,
    ),
    blobs: opts.blobs ?? new S3BlobStore(s3Client, bucket!),
    store: snapshots,
    cuts,
    settleMs: msSetting(env, 'VESTA_SNAPSHOT_SETTLE_MS', opts.inFlight ? 0 : DEFAULT_SETTLE_MS),
    ...(opts.inFlight ? { inFlight: opts.inFlight } : {}),
    preImageWaitMs: msSetting(env, 'VESTA_SNAPSHOT_PRE_IMAGE_WAIT_MS', DEFAULT_PRE_IMAGE_WAIT_MS),
    clock,
    setAside,
    deadLetters,
    ...(opts.workflows || opts.startsSnapshots ? { workflows: opts.workflows ?? sfnWorkflows(env, ['snapshot']) } : {}),
    segments: snapshotSegments(env),
  };
}

/**
 * What the change publisher needs: the change log and the bus (EventBridge bus `VESTA_EVENT_BUS`
 * unless given; the local stack passes its log bus).
 */
export function wireChangePublisher(opts: WiringOptions & { readonly bus?: EventBus } = {}) {
  const { env, clock, changes, cuts, deadLetters, setAside, records } = wireStores(opts);
  // Several Regions: a replicated record may make losers no write has replaced yet; publish them.
  const self = replicaOf(env);
  const conflicts =
    regionsOf(env).length > 1
      ? async (r: unknown) => {
          const at = replicatedRejectItem(r as StreamRecordLike, self);
          const found = at ? await records.losers(at.ns, at.key) : undefined;
          return found ? found.losers.map((l) => conflictChange(found.state, l)) : [];
        }
      : undefined;
  const common = {
    decoder: dynamoStreamDecoder,
    log: changes,
    setAside,
    deadLetters,
    preImages: cuts,
    clock,
    ...(conflicts ? { conflicts } : {}),
  };
  if (opts.bus) return { ...common, bus: opts.bus };
  const busName = env.VESTA_EVENT_BUS;
  if (!busName) throw new Error('environment variable VESTA_EVENT_BUS (the event bus name) is not set');
  return {
    ...common,
    bus: new EventBridgeBus(() => new (eventBridgeSdk().EventBridgeClient)({ maxAttempts: 4 }), busName) as EventBus,
  };
}
