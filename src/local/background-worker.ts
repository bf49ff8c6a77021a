/**
 * The entry of the local stack's background worker thread (started by `background.ts`): the change
 * feed (stream poller, publisher, change log writes, local bus), and the lease reaper, renewer
 * and field sweeper schedules, on a DynamoDB client of their own, off the API's event loop. It tells the API side
 * `ready` once everything runs (or `failed`), sends each line of the local log as a message (the
 * API side writes it to the same log), and on `stop` stops its work, writes what the change summary
 * holds and answers `stopped`.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DYNAMODB_CLIENT_DEFAULTS } from '../adapters/dynamodb/client-config';
import { wireFieldSweeper, wireLeaseJobs } from '../api/wiring';
import type { BackgroundConfig, FromWorker, ToWorker } from './background';
import { type ChangeFeed, startChangeFeed } from './change-feed';
import { localClient } from './dynamodb-local';
import { LocalExecutions } from './executions';
import { type LocalLog, type LogLevel, formatLine, localLog } from './log';
import { every } from './schedules';

const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);

/**
 * The local log of the worker: each line's text is formatted here (so values keep their JSON
 * form) and written by the API side's log, which adds the time and the level.
 */
function workerLog(level: LogLevel): LocalLog {
  const { enabled } = localLog(level);
  const line = (l: Exclude<LogLevel, 'SILENT'>, message: string, data?: Readonly<Record<string, unknown>>) => {
    if (enabled(l)) send({ type: 'log', level: l, line: formatLine(message, data) });
  };
  return {
    level,
    enabled,
    debug: (m, d) => line('DEBUG', m, d),
    info: (m, d) => line('INFO', m, d),
    warn: (m, d) => line('WARN', m, d),
    error: (m, d) => line('ERROR', m, d),
  };
}

/**
 * Where threads have a niceness of their own (Linux), this thread's is raised: when the API and
 * the background work want the same core, the request goes first.
 */
function yieldToRequests(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, BACKGROUND_NICENESS);
  } catch {
    // No /proc, or not allowed: the thread keeps the process's priority.
  }
}

const BACKGROUND_NICENESS = 10;

async function main(cfg: BackgroundConfig): Promise<void> {
  yieldToRequests();
  const log = workerLog(cfg.logLevel);
  // As on the API side under `npm start`: a failure that escapes a background path is logged and
  // the work goes on.
  process.on('uncaughtException', (e) => console.error(`background failure (the stack goes on): ${e.stack ?? e}`));
  process.on('unhandledRejection', (e) =>
    console.error(`background failure (the stack goes on): ${(e as Error)?.stack ?? e}`),
  );
  const executions = new LocalExecutions();
  for (const [arn, status] of cfg.executions) executions.record(arn, status);
  let stopRequested = false;
  let stop = async () => {};
  port.on('message', (m: ToWorker) => {
    if (m.type === 'execution') executions.record(m.arn, m.status);
    else if (m.type === 'stop' && !stopRequested) {
      stopRequested = true;
      void stop().then(() => send({ type: 'stopped' }));
    }
  });
  const client = cfg.external
    ? new DynamoDBClient({ endpoint: cfg.endpoint, ...DYNAMODB_CLIENT_DEFAULTS })
    : localClient(cfg.endpoint);
  const logger = new Logger({ serviceName: 'vesta' });
  const metrics = new Metrics({ namespace: 'Vesta', serviceName: 'vesta' });
  let feed: ChangeFeed | undefined;
  let stopJobs = () => {};
  stop = async () => {
    stopJobs();
    await feed?.stop();
    client.destroy();
  };
  try {
    if (cfg.changeFeed)
      feed = await startChangeFeed({
        client,
        endpoint: cfg.endpoint,
        external: cfg.external,
        env: cfg.env,
        logger,
        log,
        // Off unless POWERTOOLS_METRICS_DISABLED is set, as the API's (see stack.ts).
        metrics: process.env.POWERTOOLS_METRICS_DISABLED === undefined ? undefined : metrics,
      });
    if (cfg.leaseJobsSeconds > 0) {
      const jobs = wireLeaseJobs(executions, { client, env: cfg.env, logger, metrics });
      const stopLeaseJobs = every(cfg.leaseJobsSeconds * 1000, [() => jobs.reaper.run(), () => jobs.renewer.run()]);
      // The field sweeper on the same interval, on a schedule of its own as in AWS: a failed
      // lease job run does not hold it back.
      const { sweeper } = wireFieldSweeper({ client, env: cfg.env, logger, metrics });
      const stopSweeper = every(cfg.leaseJobsSeconds * 1000, [() => sweeper.run()]);
      stopJobs = () => {
        stopLeaseJobs();
        stopSweeper();
      };
    }
  } catch (e) {
    await stop().catch(() => {});
    send({ type: 'failed', error: (e as Error).message ?? String(e) });
    return;
  }
  send({ type: 'ready' });
}

void main(workerData as BackgroundConfig);
