/**
 * Test harness: the real API handler on the run's DynamoDB Local, called with the same proxy
 * events the local gateway builds, and a client that counts the DynamoDB requests it sends.
 */
import { WritesInFlight } from '../../src/core/snapshot-cut';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type ApiHandler, createApiHandler } from '../../src/api/app';
import { wireApi, wireFieldSweeper, wireLeaseJobs, wireSagaStep, wireSnapshotWorker } from '../../src/api/wiring';
import { type LocalReplayParts, localDeadLetterReplay } from '../../src/local/dead-letter-replay';
import { FsBlobStore } from '../../src/adapters/blob/fs-blob-store';
import { createExportHandler, createRestoreHandler } from '../../src/snapshots/worker';
import { type LocalStack, startLocalStack } from '../../src/local/stack';
import type { SnapshotWorkerDeps } from '../../src/snapshots/deps';
import type { DynamoSnapshotStore } from '../../src/adapters/dynamodb/snapshot-store';
import { createSagaStepHandler, type SagaStepDeps } from '../../src/sagas/step-handler';
import { LocalExecutions } from '../../src/local/executions';
import { LocalWorkflows, type StepHandler } from '../../src/local/workflows';
import type { Clock } from '../../src/core/ports';
import { TABLE_DEFS, physicalTableName } from '../../src/adapters/dynamodb/table-defs';
import { localClient } from '../../src/local/dynamodb-local';
import { RequestCounter } from '../../src/adapters/dynamodb/request-counter';

export { RequestCounter };
import { invoke } from '../../src/local/server';

export const TEST_TABLE_PREFIX = 'vesta-test';

export function testTables(): Record<string, string> {
  return Object.fromEntries(TABLE_DEFS.map((d) => [d.envVar, physicalTableName(TEST_TABLE_PREFIX, d)]));
}

/**
 * The local stack on a free port and the test tables, as `npm start` runs it but without resuming
 * sagas, reading the change feed or taking scheduled snapshots (for tests that only call the API
 * through it).
 */
export function startQuietStack(): Promise<LocalStack> {
  return startLocalStack({
    port: 0,
    dynamoEndpoint: endpoint(),
    tablePrefix: TEST_TABLE_PREFIX,
    resumeSagas: false,
    changeFeed: false,
    snapshotSchedule: 'off',
  });
}

/** This jest worker's DynamoDB Local (global-setup.ts starts one per worker). */
export function endpoint(): string {
  const all = (process.env.VESTA_TEST_DDB_ENDPOINTS ?? '').split(',').filter((e) => e.length > 0);
  if (all.length === 0)
    throw new Error('VESTA_TEST_DDB_ENDPOINTS is not set: run through jest (global setup starts DynamoDB Local)');
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  return all[(Number.isInteger(worker) && worker > 0 ? worker - 1 : 0) % all.length];
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
  readonly body: any;
}

export interface CallOptions {
  readonly headers?: Record<string, string>;
  /** An object is sent as JSON with content-type application/json; a string as it is. */
  readonly body?: unknown;
}

export interface TestApi {
  readonly handler: ApiHandler;
  readonly client: DynamoDBClient;
  readonly requests: RequestCounter;
  /** The local Step Functions stand-in that runs this API's sagas. */
  readonly workflows: LocalWorkflows;
  /** The saga-step handler the workflows call (before any `wrapStep`). */
  readonly step: StepHandler;
  /** What the snapshot export and restore handlers use (blobs in a fresh temporary directory). */
  readonly snapshotDeps: SnapshotWorkerDeps & { readonly store: DynamoSnapshotStore; readonly recordsTable: string };
  /** The directory that holds this API's snapshot parts and manifests (`snapshots/<id>/...`). */
  readonly blobDir: string;
  /** What the dead-letter replay route runs (a change feed adds its publisher). */
  readonly replayParts: LocalReplayParts;
  call(method: string, path: string, opts?: CallOptions): Promise<Reply>;
  close(): void;
}

export interface TestApiOptions {
  readonly clock?: Clock;
  readonly env?: Record<string, string>;
  /** Wraps the saga-step handler, e.g. to inject faults around it. */
  readonly wrapStep?: (step: StepHandler) => StepHandler;
  /** Extra saga-step dependencies (metrics, logger). */
  readonly stepDeps?: Partial<SagaStepDeps>;
  /** Milliseconds between retries of a Task. @default 0 */
  readonly retryIntervalMs?: number;
  /** Where snapshot parts and manifests go. @default a fresh temporary directory */
  readonly blobDir?: string;
}

/** A handler's answer as tests read it: lower-case headers, the text, and its JSON when it is JSON. */
export function replyOf(out: Awaited<ReturnType<typeof invoke>>): Reply {
  const hs: Record<string, string> = {};
  for (const [k, v] of Object.entries(out.headers ?? {})) hs[k.toLowerCase()] = String(v);
  for (const [k, v] of Object.entries(out.multiValueHeaders ?? {})) hs[k.toLowerCase()] = v.join(', ');
  const text = out.body ?? '';
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: out.statusCode, headers: hs, text, body };
}

export function testApi(opts: TestApiOptions = {}): TestApi {
  const client = localClient(endpoint());
  const requests = new RequestCounter();
  requests.attach(client);
  // Whole-store snapshots of the shared tables have no publisher keeping pre-images of the other
  // tests' writes: they fail after a short wait instead of the default minutes.
  const env = { ...testTables(), VESTA_REPLICA: 'local', VESTA_SNAPSHOT_PRE_IMAGE_WAIT_MS: '5000', ...opts.env };
  // The record writes of this API, its saga steps and its restores: an export reads once none
  // stamped before its cut is left (as in the local stack).
  const inFlight = new WritesInFlight();
  const step = createSagaStepHandler({
    ...wireSagaStep({ client, clock: opts.clock, env, inFlight }),
    ...opts.stepDeps,
  }) as StepHandler;
  const blobDir = opts.blobDir ?? mkdtempSync(join(tmpdir(), 'vesta-blobs-'));
  const snapshotDeps = wireSnapshotWorker({
    client,
    clock: opts.clock,
    env,
    blobs: new FsBlobStore(blobDir),
    inFlight,
  });
  const workflows = new LocalWorkflows({
    step: opts.wrapStep ? opts.wrapStep(step) : step,
    export: createExportHandler(snapshotDeps),
    restore: createRestoreHandler(snapshotDeps),
    executions: new LocalExecutions(),
    retryIntervalMs: opts.retryIntervalMs ?? 0,
  });
  const jobs = wireLeaseJobs(new LocalExecutions(), { client, clock: opts.clock, env });
  const replayParts: LocalReplayParts = {
    snapshots: snapshotDeps,
    reaper: jobs.reaper,
    renewer: jobs.renewer,
    sweeper: wireFieldSweeper({ client, clock: opts.clock, env }).sweeper,
  };
  const deadLetterReplay = localDeadLetterReplay(jobs.deadLetters, replayParts);
  const handler = createApiHandler(
    wireApi({ client, clock: opts.clock, env, workflows, deadLetterReplay, blobs: snapshotDeps.blobs, inFlight }),
  );
  return {
    handler,
    client,
    requests,
    workflows,
    step,
    snapshotDeps,
    blobDir,
    replayParts,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      let raw = '';
      if (typeof o.body === 'string') raw = o.body;
      else if (o.body !== undefined) {
        raw = JSON.stringify(o.body);
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
          headers['content-type'] = 'application/json';
      }
      const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      return replyOf(await invoke(handler, method, path, lower, Buffer.from(raw)));
    },
    close: () => {
      client.destroy();
      if (!opts.blobDir) rmSync(blobDir, { recursive: true, force: true });
    },
  };
}

/** A namespace no other test uses. */
export function uniqueNs(prefix = 't'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
