/**
 * The local stack's background work, in a worker thread of its own: the change feed (stream
 * poller, publisher, change log writes) and the lease reaper, renewer and field sweeper
 * schedules. In AWS these are functions of their own; locally they used to share the API's event loop, so every write's
 * change slowed the next request. The worker has its own DynamoDB client; the API side and the
 * worker share nothing but messages:
 *
 * - to the worker: each execution status the local workflows record (the renewer reads them), and
 *   `stop`;
 * - from the worker: `ready` (or `failed`, which fails the stack's start), each local log line
 *   (written to the stack's log, so `LOG_LEVEL` and the lines are as before), and `stopped`.
 *
 * What the API reads of the background work it reads from the tables, as in AWS: the changes
 * endpoint's long poll looks at the change log, health at the reaper's and the sweeper's marks.
 *
 * A worker that dies after it was ready (an error it could not handle, or out of memory) is
 * reported as an `ERROR` line and started again after a pause (1 s, doubling up to 30 s while it
 * keeps dying); the stream poller goes on from its checkpoint, so no change is lost or published
 * twice to the log. The API keeps serving meanwhile.
 *
 * The worker loads TypeScript through tsx's require hook (it runs outside the loader of `npm
 * start` and of jest), or the compiled `.js` when this file is one.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ExecutionStatus } from '../core/ports';
import type { LocalExecutions } from './executions';
import type { LocalLog, LogLevel } from './log';

/** What the worker is started with (`workerData`). */
export interface BackgroundConfig {
  readonly endpoint: string;
  /** The endpoint is a real DynamoDB: use the default credential chain. */
  readonly external: boolean;
  /** The environment with the table names. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly changeFeed: boolean;
  /** Seconds between runs of the lease reaper and renewer and of the field sweeper; 0: none of them. */
  readonly leaseJobsSeconds: number;
  readonly logLevel: LogLevel;
  /** The statuses recorded before the worker started. */
  readonly executions: readonly (readonly [string, ExecutionStatus])[];
}

export type ToWorker = { type: 'execution'; arn: string; status: ExecutionStatus } | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'log'; level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'; line: string }
  | { type: 'stopped' };

export interface BackgroundOptions extends Omit<BackgroundConfig, 'logLevel' | 'executions'> {
  readonly log: LocalLog;
  readonly executions: LocalExecutions;
  /**
   * Resolve once the worker's work runs, rejecting when it fails to start; otherwise at once (a
   * failure to start is logged, and the worker started again later).
   * @default true
   */
  readonly waitReady?: boolean;
}

export interface Background {
  /** The worker thread now running (tests end it to see it started again). */
  worker(): Worker;
  /** Stops the work (the change summary writes what it holds) and ends the worker. */
  stop(): Promise<void>;
}

/** How long a clean stop may take before the worker is ended regardless. */
const STOP_TIMEOUT_MS = 3000;
const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 30000;
/** A worker that ran this long before dying is started again after the shortest pause. */
const STABLE_MS = 60000;

const WRITE: Record<Extract<FromWorker, { type: 'log' }>['level'], (log: LocalLog, line: string) => void> = {
  DEBUG: (log, line) => log.debug(line),
  INFO: (log, line) => log.info(line),
  WARN: (log, line) => log.warn(line),
  ERROR: (log, line) => log.error(line),
};

/** The worker's source: its entry file, through tsx when this module is TypeScript. */
function workerSource(): string {
  const entry = join(__dirname, 'background-worker');
  const hook = __filename.endsWith('.ts')
    ? `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register();`
    : '';
  return `${hook}require(${JSON.stringify(entry)});`;
}

/**
 * Starts the worker; resolves once its work runs, rejects (with the worker ended) when it fails
 * to start, e.g. when the records table has no stream (or at once, without `waitReady`).
 */
export async function startBackground(opts: BackgroundOptions): Promise<Background> {
  const { log, executions, waitReady: _, ...rest } = opts;
  let worker: Worker;
  let workerReady = false;
  let stopping = false;
  let restartMs = RESTART_MIN_MS;
  let restartTimer: NodeJS.Timeout | undefined;

  const spawn = () =>
    new Promise<void>((ok, fail) => {
      const config: BackgroundConfig = { ...rest, logLevel: log.level, executions: executions.entries() };
      const started = Date.now();
      let ready = false;
      const w = new Worker(workerSource(), { eval: true, workerData: config, execArgv: [] });
      worker = w;
      workerReady = false;
      const unsubscribe = executions.subscribe((arn, status) => w.postMessage({ type: 'execution', arn, status }));
      w.on('message', (m: FromWorker) => {
        if (m.type === 'log') WRITE[m.level](log, m.line);
        else if (m.type === 'ready') {
          ready = true;
          workerReady = true;
          ok();
        } else if (m.type === 'failed') {
          fail(new Error(m.error));
          void w.terminate();
        }
      });
      w.on('error', (e) => {
        if (!ready) fail(e);
        else log.error('background worker failed', { error: e.stack ?? String(e) });
      });
      w.on('exit', (code) => {
        unsubscribe();
        if (!ready) return fail(new Error(`the background worker exited (code ${code}) before it was ready`));
        if (stopping) return;
        if (Date.now() - started > STABLE_MS) restartMs = RESTART_MIN_MS;
        restartLater(`background worker exited (code ${code})`);
      });
    });

  const restartLater = (why: string) => {
    if (stopping) return;
    log.error(`${why}; starting it again`, { inSeconds: restartMs / 1000 });
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping) return;
      spawn().catch((e) => restartLater(`background worker failed to start: ${(e as Error).message}`));
    }, restartMs);
    restartMs = Math.min(restartMs * 2, RESTART_MAX_MS);
  };

  if (opts.waitReady ?? true) await spawn();
  else spawn().catch((e) => restartLater(`background worker failed to start: ${(e as Error).message}`));
  let stopped: Promise<void> | undefined;
  return {
    worker: () => worker,
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        if (restartTimer) clearTimeout(restartTimer);
        const w = worker;
        if (w.threadId < 0) return;
        // One still starting has nothing to finish.
        if (!workerReady) return void (await w.terminate());
        const exited = new Promise<void>((r) => w.once('exit', () => r()));
        const done = new Promise<void>((r) => {
          w.on('message', (m: FromWorker) => m.type === 'stopped' && r());
          setTimeout(r, STOP_TIMEOUT_MS).unref();
        });
        w.postMessage({ type: 'stop' } satisfies ToWorker);
        await Promise.race([done, exited]);
        await w.terminate();
        await exited;
      })()),
  };
}
