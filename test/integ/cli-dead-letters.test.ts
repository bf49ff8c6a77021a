/**
 * `vesta dead-letter ls|get|replay|rm` in-process against the local stack, on entries set aside
 * through the same store the background paths use.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wireStores } from '../../src/api/wiring';
import type { DeadLetter } from '../../src/core/dead-letters';
import { type LocalStack, startLocalStack } from '../../src/local/stack';
import { runCli } from '../cli-harness';
import { endpoint } from './harness';

let stack: LocalStack;
let dataDir: string;
let reaperEntry: DeadLetter;
let snapshotEntry: DeadLetter;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vesta-cli-dl-'));
  stack = await startLocalStack({
    port: 0,
    dataDir,
    dynamoEndpoint: endpoint(),
    tablePrefix: `vesta-cli-dl-${randomUUID().slice(0, 8)}`,
    resumeSagas: false,
    changeFeed: false,
    leaseJobsSeconds: 0,
  });
  const { setAside } = wireStores({ client: stack.client, env: stack.tables });
  // A lease that is gone by now (reaping it is a no-op that succeeds), and a record no decoder takes.
  reaperEntry = await setAside({
    source: 'reaper',
    item: { leaseId: `${'a'.repeat(24)}.30` },
    error: { name: 'ValidationException', message: 'boom' },
    attempts: 3,
    payload: { leaseId: `${'a'.repeat(24)}.30` },
  });
  const poison = { ns: { S: 'shop' }, k: { S: 'bad' }, rev: { N: '1' }, f: { S: 'not a map' } };
  snapshotEntry = await setAside({
    source: 'snapshot',
    item: {
      snapshotId: 'snap-20260101T000000000Z-00000000',
      part: 'part-00000.jsonl.gz',
      namespace: 'shop',
      key: 'bad',
    },
    error: { name: 'MalformedItemError', message: 'f' },
    attempts: 1,
    payload: { item: poison },
  });
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function vesta(argv: string[]) {
  return runCli(argv, { url: stack.url });
}

test('ls lists entries newest first, of one source with --source, as a table with --table; get prints the payload', async () => {
  const all = await vesta(['dead-letter', 'ls']);
  expect(all.code).toBe(0);
  expect(JSON.parse(all.stdout).items.map((e: DeadLetter) => e.id)).toEqual([snapshotEntry.id, reaperEntry.id]);
  const reaper = JSON.parse((await vesta(['dead-letter', 'ls', '--source', 'reaper'])).stdout);
  expect(reaper).toEqual({
    items: [
      expect.objectContaining({
        id: reaperEntry.id,
        source: 'reaper',
        attempts: 3,
        error: { name: 'ValidationException', message: 'boom' },
      }),
    ],
    cursor: null,
  });
  const paged = JSON.parse((await vesta(['dead-letter', 'ls', '--limit', '1'])).stdout);
  expect(paged.items).toHaveLength(1);
  const next = JSON.parse((await vesta(['dead-letter', 'ls', '--limit', '1', '--cursor', paged.cursor])).stdout);
  expect(next.items.map((e: DeadLetter) => e.id)).toEqual([reaperEntry.id]);
  const table = await vesta(['dead-letter', 'ls', '--table']);
  expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+SOURCE\s+ITEM\s+ERROR\s+ATTEMPTS\s+LASTAT$/);
  expect(table.stdout).toContain('leaseId=aaaaaaaaaaaaaaaaaaaaaaaa.30');
  const one = JSON.parse((await vesta(['dead-letter', 'get', snapshotEntry.id])).stdout);
  expect(one.payload.item.f).toEqual({ S: 'not a map' });
});

test('replay exits 0 when the item goes through (the entry is gone) and 3 when it fails again (the entry stays); rm discards', async () => {
  const failed = await vesta(['dead-letter', 'replay', snapshotEntry.id]);
  expect(failed.code).toBe(3);
  expect(JSON.parse(failed.stdout)).toMatchObject({
    id: snapshotEntry.id,
    status: 'FAILED',
    entry: { attempts: 2, error: { name: 'MalformedItemError' } },
  });
  const replayed = await vesta(['dead-letter', 'replay', reaperEntry.id]);
  expect({ code: replayed.code, out: JSON.parse(replayed.stdout) }).toEqual({
    code: 0,
    out: { id: reaperEntry.id, status: 'REPLAYED' },
  });
  expect((await vesta(['dead-letter', 'get', reaperEntry.id])).code).toBe(1);
  expect(JSON.parse((await vesta(['dead-letter', 'rm', snapshotEntry.id])).stdout)).toEqual({
    id: snapshotEntry.id,
    removed: true,
  });
  const again = await vesta(['dead-letter', 'rm', snapshotEntry.id]);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('NotFound');
});

test('usage errors exit 2: an unknown source, a bad limit, a missing id', async () => {
  expect((await vesta(['dead-letter', 'ls', '--source', 'nope'])).code).toBe(2);
  expect((await vesta(['dead-letter', 'ls', '--limit', '0'])).code).toBe(2);
  expect((await vesta(['dead-letter', 'replay'])).code).toBe(2);
});
