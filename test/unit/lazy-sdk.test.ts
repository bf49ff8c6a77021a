/**
 * The SDK clients that only some paths need are made at their first use: the adapters take how to
 * make their client and call it once, at their first request; and a function's bundle, bundled as
 * the CDK app bundles it, loads no AWS SDK package at init but DynamoDB's.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { buildSync } from 'esbuild';
import { TABLE_DEFS } from '../../src/adapters/dynamodb/table-defs';
import { EventBridgeBus } from '../../src/adapters/events/eventbridge-bus';
import { LambdaDeadLetterReplay, REPLAY_FUNCTION_ENV } from '../../src/adapters/lambda/dead-letter-replay';
import { clientOf, once } from '../../src/adapters/lazy-sdk';
import { S3BlobStore } from '../../src/adapters/blob/s3-blob-store';
import { SfnExecutionStatus } from '../../src/adapters/sfn/execution-status';
import { SfnWorkflows } from '../../src/adapters/sfn/workflows';
import type { DeadLetterStore } from '../../src/core/ports';
import { ALL_MACHINES } from '../../src/sagas/state-machines';

const ROOT = resolve(__dirname, '../..');
const ARNS = { saga: 'arn:s', transfer: 'arn:t', snapshot: 'arn:sn', restore: 'arn:r' };

/** A factory that counts its calls and makes a client answering `answer` to every send. */
function factory<C>(answer: unknown = {}) {
  const made = { count: 0 };
  const make = () => {
    made.count++;
    return { send: async () => answer } as unknown as C;
  };
  return { made, make };
}

test('once: makes its value at the first call only', () => {
  let calls = 0;
  const get = once(() => ({ n: ++calls }));
  expect(calls).toBe(0);
  const first = get();
  expect(get()).toBe(first);
  expect(calls).toBe(1);
});

test('clientOf: a client is used as it is; a factory is called at the first use, once', () => {
  const client = { send: async () => ({}) };
  expect(clientOf(client)()).toBe(client);
  const { made, make } = factory<{ send: () => Promise<unknown> }>();
  const get = clientOf(make);
  expect(made.count).toBe(0);
  expect(get()).toBe(get());
  expect(made.count).toBe(1);
});

test('no adapter makes its client before its first request', async () => {
  const sfn = factory<SFNClient>({ status: 'RUNNING' });
  const lambda = factory<LambdaClient>();
  const s3 = factory<S3Client>();
  const events = factory<EventBridgeClient>();
  const workflows = new SfnWorkflows(sfn.make, ARNS);
  const statuses = new SfnExecutionStatus(sfn.make);
  new LambdaDeadLetterReplay(lambda.make, {} as DeadLetterStore, () => {
    throw new Error('not read before a replay');
  });
  new S3BlobStore(s3.make, 'bucket');
  const bus = new EventBridgeBus(events.make, 'bus');
  expect([sfn.made.count, lambda.made.count, s3.made.count, events.made.count]).toEqual([0, 0, 0, 0]);

  await workflows.start('saga', 'a', {});
  await workflows.start('saga', 'b', {});
  expect(sfn.made.count).toBe(1);
  expect(await statuses.status('arn:x')).toBe('RUNNING');
  expect(sfn.made.count).toBe(2); // its own client, made once
  await bus.publish([]);
  expect(events.made.count).toBe(0); // nothing to send: no request
});

describe('a bundled function at init', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vesta-lazy-sdk-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The AWS SDK packages loaded by `require` of `lambdas/<fn>.ts`'s bundle. */
  function sdkPackagesAtInit(fn: string): string[] {
    const bundling = JSON.parse(readFileSync(join(ROOT, 'lib/constructs/lambda-bundling.json'), 'utf8'));
    const outfile = join(dir, fn, 'index.js');
    buildSync({
      absWorkingDir: ROOT,
      entryPoints: [join(ROOT, 'lambdas', `${fn}.ts`)],
      outfile,
      bundle: true,
      format: 'cjs',
      platform: 'node',
      mainFields: ['module', 'main'],
      target: bundling.target,
      external: bundling.externalModules,
      logLevel: 'silent',
    });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_PATH: join(ROOT, 'node_modules'),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIAVESTATEST0000000',
      AWS_SECRET_ACCESS_KEY: 'not-a-secret',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      VESTA_EVENT_BUS: 'bus',
      VESTA_SNAPSHOT_BUCKET: 'bucket',
    };
    for (const def of TABLE_DEFS) env[def.envVar] = `t-${def.id}`;
    for (const { def } of ALL_MACHINES)
      env[def.envVar] = `arn:aws:states:us-east-1:123456789012:stateMachine:${def.id}`;
    for (const name of Object.values(REPLAY_FUNCTION_ENV)) env[name] = 'f';
    const probe = `require(process.argv[1]);
      const pkgs = Object.keys(require.cache).map((f) => /node_modules\\/(@aws-sdk\\/[^/]+)/.exec(f)?.[1]).filter(Boolean);
      process.stdout.write(JSON.stringify([...new Set(pkgs)].sort()));`;
    return JSON.parse(execFileSync(process.execPath, ['-e', probe, outfile], { env, cwd: ROOT }).toString());
  }

  const LAZY = ['client-eventbridge', 'client-lambda', 'client-s3', 'client-sfn', 'lib-storage'].map(
    (p) => `@aws-sdk/${p}`,
  );

  test.each(['api', 'change-publisher', 'lease-renewer', 'field-sweeper', 'snapshot-schedule'])(
    '%s loads the DynamoDB client and none of the others',
    (fn) => {
      const pkgs = sdkPackagesAtInit(fn);
      expect(pkgs).toContain('@aws-sdk/client-dynamodb');
      expect(pkgs.filter((p) => LAZY.includes(p))).toEqual([]);
    },
  );
});
