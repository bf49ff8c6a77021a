/**
 * The local stack: DynamoDB Local (or the endpoint in `AWS_ENDPOINT_URL_DYNAMODB`), the tables
 * from the shared definitions, the API's Lambda handler behind the local gateway, and the
 * schedules the CDK stack defines: the lease jobs, the field sweeper and the whole-store snapshot.
 */
import { WritesInFlight } from '../core/snapshot-cut';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type ApiHandler, createApiHandler } from '../api/app';
import { problem } from '../api/problem';
import { DYNAMODB_CLIENT_DEFAULTS } from '../adapters/dynamodb/client-config';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { wireApi, wireFieldSweeper, wireLeaseJobs, wireSagaStep, wireSnapshotWorker } from '../api/wiring';
import { FsBlobStore } from '../adapters/blob/fs-blob-store';
import { createExportHandler, createRestoreHandler, createScheduleHandler } from '../snapshots/worker';
import { SNAPSHOT_SCHEDULE_ENV, every, localSnapshotInterval } from './schedules';
import { meteredStepHandler } from '../sagas/step-handler';
import { LocalWorkflows } from './workflows';
import { LocalExecutions } from './executions';
import { ensureTables } from './bootstrap-tables';
import { type DynamoDbLocal, localClient, startDynamoDbLocal } from './dynamodb-local';
import { serve } from './server';
import { changePublisher } from './change-feed';
import { type Background, startBackground } from './background';
import { type LocalLog, SILENT_LOG } from './log';
import { type LocalReplayParts, localDeadLetterReplay } from './dead-letter-replay';
import { BroadcastChangeSignal } from './change-signal';
import { CHANGES_TABLE } from '../adapters/dynamodb/table-defs';

export interface LocalStackOptions {
  /** @default 8080; 0 picks a free port */
  readonly port?: number;
  /** @default '.vesta' */
  readonly dataDir?: string;
  /** Use this DynamoDB endpoint instead of starting DynamoDB Local. */
  readonly dynamoEndpoint?: string;
  /** @default 'vesta-local' */
  readonly tablePrefix?: string;
  /**
   * Start again the sagas, snapshots and restores a previous run left RUNNING (tests that share
   * tables turn it off).
   * @default true
   */
  readonly resumeSagas?: boolean;
  /**
   * Read the records table's stream and publish change events (tests that share tables with
   * other tests turn it off: the stream holds every test's writes).
   * @default true
   */
  readonly changeFeed?: boolean;
  /** Seconds between lease reaper, renewer and field sweeper runs; 0 turns them off. @default 10 */
  readonly leaseJobsSeconds?: number;
  /**
   * The scheduled whole-store snapshot, by the same handler as the schedule function in AWS:
   * `off`, or a `rate(...)` expression (the first run is one interval after the start, as with
   * EventBridge).
   * @default - `VESTA_SNAPSHOT_SCHEDULE`, else the CDK stack's default schedule (`rate(1 day)`)
   */
  readonly snapshotSchedule?: string;
  /** Milliseconds between scheduled snapshots instead of the schedule's interval (tests); the schedule being `off` still wins. */
  readonly snapshotIntervalMs?: number;
  /**
   * The local log (`src/local/log.ts`): one line per request, each execution's end, a summary of
   * change events; warnings and errors. @default nothing is logged
   */
  readonly log?: LocalLog;
}

export interface LocalStack {
  readonly url: string;
  readonly dynamoEndpoint: string;
  readonly client: DynamoDBClient;
  readonly tables: Record<string, string>;
  /** Execution statuses of local workflows (the renewer reads them). */
  readonly executions: LocalExecutions;
  /** The local Step Functions stand-in running the saga state machines. */
  readonly workflows: LocalWorkflows;
  /**
   * The worker thread of the background work (`background.ts`): the change feed and the lease
   * jobs, when either is on.
   */
  readonly background?: Background;
  stop(): Promise<void>;
}

/** Answers every request while the stack starts: 503, try again in a second. */
const starting: ApiHandler = async () => ({
  body: '',
  ...problem(503, 'Unavailable', 'the local stack is starting', {}, { 'retry-after': '1' }),
});

/**
 * Starts everything; throws (after stopping what it started) when a part fails to start. The port
 * is taken first, so a busy port fails at once; until the rest is ready every request is `503`.
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const dataDir = opts.dataDir ?? '.vesta';
  let ddb: DynamoDbLocal | undefined;
  let client: DynamoDBClient | undefined;
  let api: ApiHandler = starting;
  const out = opts.log ?? SILENT_LOG;
  const server = await serve(
    (event, context) => api(event, context),
    opts.port ?? 8080,
    undefined,
    (r) => out.info(`${r.method} ${r.target} ${r.status} ${r.ms} ms`),
  );
  let workflows: LocalWorkflows | undefined;
  let background: Background | undefined;
  let stopSummary = () => {};
  let stopSnapshotSchedule = async () => {};
  let changeSignal: BroadcastChangeSignal | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      // Long polls (`wait` up to 20 s) and keep-alive connections would hold the close open.
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      // A scheduled snapshot being started finishes starting; its execution stops with the others.
      await stopSnapshotSchedule();
      await workflows?.stop();
      await background?.stop();
      stopSummary();
      changeSignal?.close();
      await closed;
      client?.destroy();
      await ddb?.stop();
    })());
  try {
    // Checked before anything starts: a malformed schedule fails the start, naming the variable.
    const scheduled = localSnapshotInterval(opts.snapshotSchedule ?? process.env[SNAPSHOT_SCHEDULE_ENV]);
    const snapshotEvery = scheduled === undefined ? undefined : (opts.snapshotIntervalMs ?? scheduled);
    const log = (m: string) => console.error(m);
    let endpoint = opts.dynamoEndpoint;
    if (endpoint === undefined) {
      ddb = await startDynamoDbLocal({ dataDir: join(dataDir, 'dynamodb'), restart: true, log });
      endpoint = ddb.endpoint;
    }
    // An endpoint given from outside may be a real table set: then use the default credential chain.
    const external =
      opts.dynamoEndpoint !== undefined && Boolean(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE);
    client = external ? new DynamoDBClient({ endpoint, ...DYNAMODB_CLIENT_DEFAULTS }) : localClient(endpoint);
    const tables = await ensureTables(client, opts.tablePrefix ?? 'vesta-local');
    const env = { ...process.env, ...tables, VESTA_REPLICA: process.env.VESTA_REPLICA ?? 'local' };
    const executions = new LocalExecutions();
    const logger = new Logger({ serviceName: 'vesta' });
    const metrics = new Metrics({ namespace: 'Vesta', serviceName: 'vesta' });
    // Every record write of this process, so that a snapshot reads as soon as none before its cut is left.
    const inFlight = new WritesInFlight();
    const stepDeps = wireSagaStep({ client, env, inFlight });
    const step = meteredStepHandler({ ...stepDeps, logger, metrics });
    // Snapshot parts and manifests: $VESTA_DATA_DIR/snapshots/<id>/ (blob names start with snapshots/).
    const snapshotDeps = {
      ...wireSnapshotWorker({ client, env, blobs: new FsBlobStore(dataDir), logger, metrics, inFlight }),
      logger,
      metrics,
    };
    workflows = new LocalWorkflows({
      step,
      export: createExportHandler(snapshotDeps),
      restore: createRestoreHandler(snapshotDeps),
      executions,
      log: out,
    });
    if (snapshotEvery !== undefined) {
      // What EventBridge invokes the schedule function with in AWS, on a timer.
      const schedule = createScheduleHandler({ ...snapshotDeps, workflows }, { segments: snapshotDeps.segments });
      stopSnapshotSchedule = every(snapshotEvery, [
        async () => {
          const { snapshotId } = (await schedule({ action: 'scheduledStart' })) as { snapshotId: string };
          out.info('scheduled snapshot started', { snapshotId });
        },
      ]);
    }
    if (opts.resumeSagas ?? true) {
      const resumed = await workflows.resume(stepDeps.sagas.unfinished());
      if (resumed > 0) out.info('resumed unfinished sagas', { resumed });
      const { snapshots, restores } = await snapshotDeps.store.unfinished();
      for (const id of snapshots) await workflows.start('snapshot', id, { snapshotId: id });
      for (const id of restores) await workflows.start('restore', id, { restoreId: id });
      if (snapshots.length + restores.length > 0)
        out.info('resumed unfinished snapshots and restores', { snapshots, restores });
    }
    // The API publishes EMF lines on every request, which would flood `npm start`'s console. So
    // locally its metrics are off unless POWERTOOLS_METRICS_DISABLED is set: Powertools 2.35
    // honours that variable, and `POWERTOOLS_METRICS_DISABLED=false npm start` prints them.
    const apiMetrics = process.env.POWERTOOLS_METRICS_DISABLED === undefined ? undefined : metrics;
    const jobs = wireLeaseJobs(executions, { client, env, logger, metrics });
    // Dead letters are replayed in process, by the same code the background functions run in AWS.
    const replayParts: LocalReplayParts = {
      snapshots: snapshotDeps,
      reaper: jobs.reaper,
      renewer: jobs.renewer,
      sweeper: wireFieldSweeper({ client, env, logger, metrics }).sweeper,
    };
    const deadLetterReplay = localDeadLetterReplay(jobs.deadLetters, replayParts);
    // The background worker's publisher tells this thread's long polls of each append.
    changeSignal = new BroadcastChangeSignal(tables[CHANGES_TABLE.envVar]);
    const handler = createApiHandler({
      ...wireApi({
        client,
        env,
        workflows,
        logger,
        deadLetterReplay,
        changeSignal,
        blobs: snapshotDeps.blobs,
        inFlight,
      }),
      metrics: apiMetrics,
    });
    // Change events (the records table's stream, the same publisher as in AWS, the log as the bus)
    // and the lease jobs run in a worker thread, off the API's event loop.
    const changeFeed = opts.changeFeed ?? true;
    const leaseJobsSeconds = opts.leaseJobsSeconds ?? 10;
    if (changeFeed || leaseJobsSeconds > 0)
      background = await startBackground({
        endpoint,
        external,
        env,
        changeFeed,
        leaseJobsSeconds,
        log: out,
        executions,
        // The lease jobs alone first run after `leaseJobsSeconds`: the stack need not wait for them.
        waitReady: changeFeed,
      });
    if (changeFeed) {
      // The publisher's dead letters are replayed here, by the API, as the other sources' are.
      const replay = changePublisher({ client, env, logger, log: out, metrics: apiMetrics, changeSignal });
      stopSummary = () => replay.summary.stop();
      replayParts.publisher = replay.deps;
    }
    api = handler;
    const { port } = server.address() as { port: number };
    return {
      url: `http://127.0.0.1:${port}`,
      dynamoEndpoint: endpoint,
      client,
      tables,
      executions,
      workflows,
      background,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
