/**
 * `vesta snapshot create|list|get|restore|restore-status` in-process against the local stack,
 * whose exports and restores run on the local Step Functions runner into a temporary directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalStack, startLocalStack } from '../../src/local/stack';
import { type CliOptions, runCli, runCliJson } from '../cli-harness';
import { TEST_TABLE_PREFIX, endpoint, uniqueNs } from './harness';

let stack: LocalStack;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vesta-cli-snap-'));
  stack = await startLocalStack({
    port: 0,
    dataDir,
    dynamoEndpoint: endpoint(),
    tablePrefix: TEST_TABLE_PREFIX,
    resumeSagas: false,
    changeFeed: false,
    leaseJobsSeconds: 0,
  });
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function vesta(argv: string[], extra: CliOptions = {}) {
  return runCli(argv, { ...extra, url: stack.url });
}

function json(argv: string[]) {
  return runCliJson(argv, { url: stack.url });
}

test('create --wait with a progress bar, list, get, restore --wait into another namespace, restore-status', async () => {
  const ns = uniqueNs('clisnap');
  for (let i = 0; i < 5; i++) await json(['put', ns, `k${i}`, JSON.stringify({ i })]);

  const made = await vesta(['snapshot', 'create', '--namespace', ns, '--wait', '--interval', '20'], { errIsTty: true });
  expect(made.code).toBe(0);
  const snap = JSON.parse(made.stdout);
  expect(snap).toMatchObject({ namespace: ns, status: 'COMPLETE', items: 5, segments: 1, format: 'vesta-snapshot/1' });
  expect(made.stderr).toContain(`started snapshot ${snap.id}`);
  expect(made.stderr).toMatch(/\[#+\] snap-\S+ COMPLETE: 1\/1 parts, 5 records/);

  const listed = await json(['snapshot', 'list', '--namespace', ns]);
  expect(listed.items.map((s: { id: string }) => s.id)).toContain(snap.id);
  expect(await json(['snapshot', 'get', snap.id])).toEqual(snap);

  const target = uniqueNs('clirest');
  const restored = await vesta([
    'snapshot',
    'restore',
    snap.id,
    '--mode',
    'missing',
    '--namespace',
    target,
    '--wait',
    '--interval',
    '20',
  ]);
  expect(restored.code).toBe(0);
  const r = JSON.parse(restored.stdout);
  expect(r).toMatchObject({
    snapshotId: snap.id,
    namespace: target,
    mode: 'missing',
    status: 'COMPLETE',
    written: 5,
    skipped: 0,
  });
  expect(restored.stderr).not.toContain('\r');
  expect(await json(['snapshot', 'restore-status', r.id])).toEqual(r);
  expect((await json(['get', target, 'k3'])).fields).toEqual({ i: 3 });

  const started = await json(['snapshot', 'restore', snap.id, '--mode', 'newer']);
  expect(started).toEqual({ id: expect.stringMatching(/^rest-/), status: 'RUNNING', snapshotId: snap.id });
  await stack.workflows.settled();
});

test('usage errors exit 2 and send nothing; unknown ids exit 1 with a hint; a damaged snapshot exits 3', async () => {
  const noMode = await vesta(['snapshot', 'restore', 'snap-x']);
  expect(noMode.code).toBe(2);
  expect(noMode.stderr).toContain('--mode is required');
  const badMode = await vesta(['snapshot', 'restore', 'snap-x', '--mode', 'all']);
  expect(badMode.code).toBe(2);
  expect(badMode.stderr).toContain('--mode expects missing or newer');

  const unknown = await vesta(['snapshot', 'get', 'snap-20260101T000000000Z-00000000']);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain('hint: no snapshot has that id; `vesta snapshot list` lists them');

  const ns = uniqueNs('clidmg');
  await json(['put', ns, 'k', '{"v":1}']);
  const snap = await json(['snapshot', 'create', '--namespace', ns, '--wait', '--interval', '20']);
  writeFileSync(join(dataDir, 'snapshots', snap.id, snap.parts[0].name), 'not gzip');
  const failed = await vesta([
    'snapshot',
    'restore',
    snap.id,
    '--mode',
    'missing',
    '--namespace',
    uniqueNs('clidmg'),
    '--wait',
    '--interval',
    '20',
  ]);
  expect(failed.code).toBe(3);
  expect(JSON.parse(failed.stdout)).toMatchObject({ status: 'FAILED', written: 0 });
  expect(failed.stderr).toMatch(
    /FAILED: Vesta\.ChecksumMismatch: part part-00000\.jsonl\.gz of snapshot \S+ is corrupt/,
  );

  const running = await vesta(['snapshot', 'restore', 'snap-20260101T000000000Z-00000000', '--mode', 'missing']);
  expect(running.code).toBe(1);
  expect(running.stderr).toContain('NotFound (404)');
});
