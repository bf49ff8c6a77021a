/**
 * `vesta smoke` in-process against the local stack on DynamoDB Local: a stack with tables of its
 * own, so that its change feed runs and only this file's writes are on its stream, and snapshots
 * go to a temporary folder; and a quiet stack (no change feed) on which the change-feed step
 * cannot pass, to see a failure named, stop the run and still be cleaned up.
 */
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalStack, startLocalStack } from '../../src/local/stack';
import { runCli, runCliJson, startCli } from '../cli-harness';
import { endpoint, startQuietStack, uniqueNs } from './harness';

/** Every step of a run that passes, in order. */
const STEPS = [
  'namespace empty',
  'put (create)',
  'put (CAS)',
  'put (stale ETag: 412)',
  'patch (set + increment)',
  'txn',
  'lease grant',
  'lock acquire',
  'fenced write',
  'stale fence refused',
  'lease revoke',
  'saga',
  'changes (long-poll)',
  'snapshot',
  'cleanup',
];

let stack: LocalStack;
let quiet: LocalStack;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vesta-cli-smoke-'));
  [stack, quiet] = await Promise.all([
    startLocalStack({
      port: 0,
      dataDir,
      dynamoEndpoint: endpoint(),
      tablePrefix: `vesta-smoke-${randomUUID().slice(0, 8)}`,
      resumeSagas: false,
      leaseJobsSeconds: 0,
    }),
    startQuietStack(),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([stack?.stop(), quiet?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

/** The keys `ns` holds on the stack at `url`, read with the CLI. */
async function keysOf(url: string, ns: string): Promise<string[]> {
  const page = await runCliJson(['ls', ns, '--all'], { url });
  return page.items.map((i: { key: string }) => i.key);
}

/** The namespace a run of the default output names in its first line. */
function namespaceOf(stdout: string): string {
  const m = / in namespace (\S+)\n/.exec(stdout);
  if (!m) throw new Error(`no namespace in:\n${stdout}`);
  return m[1];
}

test('passes every step on the local stack, one line with its latency each, and leaves the namespace empty', async () => {
  const r = await runCli(['smoke', '--timeout', '30'], { url: stack.url });

  expect(r.stderr).not.toContain('error');
  expect(r.code).toBe(0);
  const lines = r.stdout.split('\n').filter((l) => /^(ok|FAIL) /.test(l));
  expect(lines).toHaveLength(STEPS.length);
  STEPS.forEach((name, i) => {
    expect(lines[i]).toMatch(new RegExp(`^ok {3}${name.replace(/[()+]/g, '\\$&')} +\\d+ ms$`));
  });
  expect(r.stdout).toMatch(/^smoke passed: 15 steps in \d+\.\d s$/m);
  // The default name is a valid namespace, made fresh for the run.
  const ns = namespaceOf(r.stdout);
  expect(ns).toMatch(/^smoke-\d{8}-\d{6}-[0-9a-f]{6}$/);
  expect(await keysOf(stack.url, ns)).toEqual([]);
  // The snapshot stays (the API has no delete for it), and the run says so.
  expect(r.stderr).toMatch(
    /^note: the run leaves saga \S+ and snapshot snap-\S+: the API has no delete for sagas or snapshots/m,
  );
  const snapshots = await runCliJson(['snapshot', 'list', '--namespace', ns], { url: stack.url });
  expect(snapshots.items).toHaveLength(1);
  expect(snapshots.items[0]).toMatchObject({ namespace: ns, status: 'COMPLETE', format: 'vesta-snapshot/1' });
  expect(snapshots.items[0].items).toBeGreaterThan(0);
});

test('--output json prints the steps with name, ok, ms and error; the lines go to standard error', async () => {
  const ns = uniqueNs('smoke');
  const r = await runCli(['smoke', '--namespace', ns, '--output', 'json', '--timeout', '30'], { url: stack.url });

  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout);
  expect(report).toMatchObject({ ok: true, namespace: ns, failedStep: null, url: stack.url });
  expect(report.steps.map((s: { name: string }) => s.name)).toEqual(STEPS);
  for (const step of report.steps) {
    expect(Object.keys(step).sort()).toEqual(['error', 'ms', 'name', 'ok']);
    expect(step).toMatchObject({ ok: true, error: null });
    expect(Number.isInteger(step.ms) && step.ms >= 0).toBe(true);
  }
  expect(report.left.snapshot).toMatch(/^snap-/);
  expect(r.stderr).toMatch(/^ok {3}snapshot +\d+ ms$/m);
  expect(await keysOf(stack.url, ns)).toEqual([]);
});

test('exits 1 naming the failing step and the problem when a capability is broken, and still cleans up', async () => {
  // The quiet stack publishes no changes: the long-poll cannot see the run's write.
  const ns = uniqueNs('smoke');
  const r = await runCli(['smoke', '--namespace', ns, '--timeout', '2'], { url: quiet.url });

  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/^ok {3}saga +\d+ ms$/m);
  expect(r.stdout).toMatch(/^FAIL changes \(long-poll\) +\d+ ms$/m);
  // The run stops at the first failure: no snapshot step; then the clean-up.
  expect(r.stdout).not.toMatch(/snapshot +\d+ ms/);
  expect(r.stdout).toMatch(/^ok {3}cleanup +\d+ ms$/m);
  expect(r.stdout).not.toContain('smoke passed');
  expect(r.stderr).toContain(
    `error: smoke step "changes (long-poll)" failed: no change of smoke/changes came from GET /v1/ns/${ns}/changes within 2 s`,
  );
  expect(await keysOf(quiet.url, ns)).toEqual([]);
});

test('a failure the API answers is named with its problem code, in the JSON report too', async () => {
  // A namespace that already holds records is refused before anything is written, and kept as it is.
  const ns = uniqueNs('smoke');
  await runCliJson(['put', ns, 'mine', '{"keep":true}'], { url: quiet.url });
  const r = await runCli(['smoke', '--namespace', ns, '--output', 'json'], { url: quiet.url });

  expect(r.code).toBe(1);
  const report = JSON.parse(r.stdout);
  expect(report).toMatchObject({ ok: false, failedStep: 'namespace empty' });
  expect(report.steps).toEqual([
    { name: 'namespace empty', ok: false, ms: expect.any(Number), error: expect.stringContaining('holds records') },
  ]);
  expect(r.stderr).toContain('error: smoke step "namespace empty" failed:');
  expect(await keysOf(quiet.url, ns)).toEqual(['mine']);

  // An API that cannot be reached: the first step fails with the client's network error.
  const down = await runCli(['smoke', '--url', 'http://127.0.0.1:1']);
  expect(down.code).toBe(1);
  expect(down.stdout).toMatch(/^FAIL namespace empty +\d+ ms$/m);
  expect(down.stderr).toContain('error: smoke step "namespace empty" failed: could not reach http://127.0.0.1:1');
});

test('Ctrl-C stops the run at the step it is in, cleans up and exits 130', async () => {
  const ns = uniqueNs('smoke');
  const ctrlC = new AbortController();
  const run = startCli(['smoke', '--namespace', ns, '--timeout', '60'], {
    url: quiet.url,
    interrupt: () => ctrlC.signal,
    // On the quiet stack the long-poll waits for a change that never comes: Ctrl-C it.
    onWrite: (stdout) => {
      if (/^ok {3}saga /m.test(stdout)) setTimeout(() => ctrlC.abort(), 300);
    },
  });
  const r = await run.done;

  expect(r.code).toBe(130);
  expect(r.stdout).toMatch(/^FAIL changes \(long-poll\) +\d+ ms$/m);
  expect(r.stdout).toMatch(/^ok {3}cleanup +\d+ ms$/m);
  expect(r.stderr).toMatch(
    /^stopped at \S+ during step "changes \(long-poll\)"; what the run created was cleaned up$/m,
  );
  expect(await keysOf(quiet.url, ns)).toEqual([]);
});

test('credentials that cannot be found fail the first step, naming the profile; nothing is sent', async () => {
  const empty = join(mkdtempSync(join(tmpdir(), 'vesta-aws-')), 'none');
  const saved = { ...process.env };
  // The credential chain reads the process environment: no files, no instance metadata.
  Object.assign(process.env, {
    AWS_CONFIG_FILE: empty,
    AWS_SHARED_CREDENTIALS_FILE: empty,
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  try {
    const deployed = 'https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod';
    const r = await runCli(['smoke', '--url', deployed, '--profile', 'nosuch']);

    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL namespace empty +\d+ ms$/m);
    expect(r.stdout).not.toContain('cleanup');
    expect(r.stderr).toMatch(/^error: cannot sign the request for the deployed API with AWS profile "nosuch": /m);
  } finally {
    process.env = saved;
  }
});

test('a namespace the contract does not allow, or a bad timeout, is a usage error and sends nothing', async () => {
  const bad = await runCli(['smoke', '--namespace', 'Not_Valid'], { url: 'http://127.0.0.1:1' });
  const timeout = await runCli(['smoke', '--timeout', '0'], { url: 'http://127.0.0.1:1' });

  expect([bad.code, timeout.code]).toEqual([2, 2]);
  expect(bad.stderr).toContain('--namespace must match');
  expect(timeout.stderr).toContain('--timeout must be a number of seconds');
});

test('generated --timeout and --namespace values: a usage error naming the option, or taken; never a crash', async () => {
  // Nothing answers at this address: a value that is taken fails the first step (exit 1), unsent.
  const down = { url: 'http://127.0.0.1:1' };
  const timeout = fc.oneof(
    fc.constantFrom('0', '-1', '3600', '3600.5', '3601', '1e3', '0x10', 'NaN', 'Infinity', ' 5', '5 ', '', '.5', '05'),
    fc.double().map(String),
    fc.string({ maxLength: 6 }),
  );
  await fc.assert(
    fc.asyncProperty(timeout, async (t) => {
      const r = await runCli(['smoke', '--timeout', t], down);
      const n = Number(t);
      const taken = /^\d+(\.\d+)?$/.test(t) && n > 0 && n <= 3600;
      expect(r.code).toBe(taken ? 1 : 2);
      if (!taken) expect(r.stderr).toContain('--timeout');
    }),
    { numRuns: 60 },
  );
  const namespace = fc.oneof(
    fc.constantFrom('__proto__', 'a', 'A', '-a', 'a'.repeat(63), 'a'.repeat(64), '%2F', '..', 'a/b', ' a', 'a b'),
    fc.string({ maxLength: 12 }),
  );
  await fc.assert(
    fc.asyncProperty(namespace, async (ns) => {
      const r = await runCli(['smoke', '--namespace', ns, '--timeout', '1'], down);
      expect([1, 2]).toContain(r.code);
      if (r.code === 2) expect(r.stderr).toContain('--namespace');
      else expect(r.stderr).toContain('error: smoke step');
    }),
    { numRuns: 60 },
  );
});
