/**
 * `vesta watch` in-process against the local stack, whose stream reader and publisher fill the
 * change log from DynamoDB Local's stream. The stack has a table set of its own, so its stream
 * holds only this file's writes.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChangeDetail } from '../../src/core/changes';
import { EXIT_INTERRUPTED } from '../../src/cli/saga-args';
import { type LocalStack, startLocalStack } from '../../src/local/stack';
import { runCli, runCliJson } from '../cli-harness';
import { endpoint, uniqueNs } from './harness';

/** How long a watch is given to print what the test waits for. */
const WATCH_DEADLINE_MS = 30_000;

let stack: LocalStack;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vesta-cli-watch-'));
  const tablePrefix = `vesta-watch-${randomUUID().slice(0, 8)}`;
  stack = await startLocalStack({
    port: 0,
    dataDir,
    dynamoEndpoint: endpoint(),
    tablePrefix,
    resumeSagas: false,
    leaseJobsSeconds: 0,
  });
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs a command that ends by itself; throws with its standard error when it fails. */
async function vesta(...argv: string[]): Promise<void> {
  await runCliJson(argv, { url: stack.url });
}

interface Watch {
  /** Resolves once the watch has found where it starts. */
  readonly ready: Promise<void>;
  /** Resolves once `lines` changes were printed, then stops the watch as Ctrl-C does. */
  readonly done: Promise<{ code: number; changes: ChangeDetail[]; stderr: string }>;
}

/** Starts `vesta watch` and stops it (Ctrl-C) after it printed `lines` changes, or at the deadline. */
function watch(argv: string[], lines: number): Watch {
  const controller = new AbortController();
  let readied: () => void = () => {};
  const ready = new Promise<void>((r) => (readied = r));
  const timer = setTimeout(() => controller.abort(), WATCH_DEADLINE_MS);
  const onWrite = (stdout: string, stderr: string) => {
    if (stdout.split('\n').length > lines) controller.abort();
    if (stderr.includes('watching ')) readied();
  };
  const done = runCli(['watch', ...argv], { url: stack.url, interrupt: () => controller.signal, onWrite }).then(
    ({ code, stdout, stderr }) => {
      clearTimeout(timer);
      readied();
      const changes = stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as ChangeDetail);
      return { code, changes, stderr };
    },
  );
  return { ready, done };
}

/** Waits until the change log of `ns` holds `count` changes, so that "from now" comes after them. */
async function logged(ns: string, count: number): Promise<void> {
  for (const until = Date.now() + WATCH_DEADLINE_MS; Date.now() < until; ) {
    const res = await fetch(`${stack.url}/v1/ns/${ns}/changes?limit=1000&wait=2`);
    const body = (await res.json()) as { items: unknown[] };
    if (body.items.length >= count) return;
  }
  throw new Error(`the change log of ${ns} did not reach ${count} changes`);
}

const summary = (c: ChangeDetail) => `${c.change} ${c.key}@${c.rev}`;

test('from now it prints each later change once, in commit order per key, with its kind; Ctrl-C exits 130 with a cursor to go on', async () => {
  const ns = uniqueNs('watch');
  await vesta('put', ns, 'cart/0', '{"qty":0}');
  await logged(ns, 1);

  const w = watch([ns], 4);
  await w.ready;
  await vesta('put', ns, 'cart/1', '{"qty":1}');
  await vesta('patch', ns, 'cart/1', '--set', 'qty=2');
  await vesta('put', ns, 'other/1', '{"x":true}');
  await vesta('delete', ns, 'cart/1');
  const r = await w.done;

  expect(r.code).toBe(EXIT_INTERRUPTED);
  expect(r.changes.map(summary).sort()).toEqual(['delete cart/1@3', 'patch cart/1@2', 'put cart/1@1', 'put other/1@1']);
  expect(r.changes.filter((c) => c.key === 'cart/1').map(summary)).toEqual([
    'put cart/1@1',
    'patch cart/1@2',
    'delete cart/1@3',
  ]);
  expect(r.changes.find((c) => c.change === 'patch')).toMatchObject({ namespace: ns, fields: { qty: 2 } });
  expect(r.changes.find((c) => c.change === 'delete')).not.toHaveProperty('fields');
  expect(r.stderr).toContain(`watching ${ns} from now`);
  expect(r.stderr).toMatch(new RegExp(`\`vesta watch ${ns} --cursor \\S+\` goes on from here`));
});

test('--prefix keeps only matching keys; --from-start prints what is kept; --cursor goes on without a gap', async () => {
  const ns = uniqueNs('watchp');
  await vesta('put', ns, 'cart/1', '{"qty":1}');
  await vesta('put', ns, 'user/1', '{"name":"a"}');
  await vesta('patch', ns, 'cart/1', '--incr', 'qty=1');
  await logged(ns, 3);

  const history = await watch([ns, '--prefix', 'cart/', '--from-start'], 2).done;

  expect(history.code).toBe(EXIT_INTERRUPTED);
  expect(history.changes.map(summary)).toEqual(['put cart/1@1', 'patch cart/1@2']);
  const cursor = /--cursor (\S+)`/.exec(history.stderr)?.[1];
  expect(cursor).toBeDefined();

  await vesta('put', ns, 'user/2', '{"name":"b"}');
  await vesta('put', ns, 'cart/2', '{"qty":5}');
  const resumed = await watch([ns, '--prefix', 'cart/', '--cursor', cursor!], 1).done;

  expect(resumed.code).toBe(EXIT_INTERRUPTED);
  expect(resumed.changes.map(summary)).toEqual(['put cart/2@1']);
  expect(resumed.changes[0]).toMatchObject({ fields: { qty: 5 } });
});

test('a cursor of another namespace is rejected by the API: exit 1 with the problem on standard error', async () => {
  const a = uniqueNs('watcha');
  await vesta('put', a, 'k', '{}');
  await logged(a, 1);
  const first = await watch([a, '--from-start'], 1).done;
  const cursor = /--cursor (\S+)`/.exec(first.stderr)![1];

  const r = await watch([uniqueNs('watchb'), '--cursor', cursor], 1).done;

  expect(r.code).toBe(1);
  expect(r.changes).toEqual([]);
  expect(r.stderr).toContain('error: ValidationError (400)');
});
