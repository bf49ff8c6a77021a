/**
 * A restore interrupted any number of times ends with the same records and the same counts as
 * one that ran straight through, on DynamoDB Local with the real restore ASL and handlers.
 *
 * An interruption is a killed run: from a chosen DynamoDB request on, every request of that run
 * fails, so nothing after it reaches the store (not even the restore's FAILED mark, as when the
 * process dies), and the restore stays RUNNING. Resuming is what the local stack does on its next
 * start: the restore workflow starts again from the beginning. The kill points count record
 * writes, whatever request carries them: before the request carrying the n-th write of the run
 * is sent, after it was applied but before its answer arrives, and just before the counts are
 * added up.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { FsBlobStore } from '../../src/adapters/blob/fs-blob-store';
import { wireSnapshotWorker } from '../../src/api/wiring';
import { manifestName, newId, partPath } from '../../src/core/snapshots';
import { localClient } from '../../src/local/dynamodb-local';
import { LocalExecutions } from '../../src/local/executions';
import { LocalWorkflows, type StepHandler } from '../../src/local/workflows';
import { createRestoreHandler } from '../../src/snapshots/worker';
import { RESTORE_BATCH_RECORDS } from '../../src/adapters/dynamodb/restore-writer';
import { type TestApi, endpoint, testApi, testTables, uniqueNs } from './harness';

jest.setTimeout(300_000);

/** Where a run dies: before the request with its n-th record write is sent, after it was applied, or before the counts are added up. */
type Kill = { readonly before: number } | { readonly after: number } | { readonly atFinish: true };

/** Record writes a DynamoDB request carries: a put of the records table, alone or in a transaction. */
function recordWrites(
  command: string,
  input: { TableName?: string; TransactItems?: { Put?: { TableName?: string } }[] },
  table: string,
): number {
  if (command === 'PutItemCommand') return input.TableName === table ? 1 : 0;
  if (command === 'TransactWriteItemsCommand')
    return (input.TransactItems ?? []).filter((i) => i.Put?.TableName === table).length;
  return 0;
}

const KEYS = Array.from({ length: 230 }, (_, i) => `k${String(i).padStart(3, '0')}`);

let api: TestApi;
let snapshotId: string;
let baseline: { written: number; skipped: number };
let baselineRecords: Map<string, unknown>;

/** Puts `fields` on `keys` with transactions of 100 keys; each call adds one revision to each key. */
async function putAll(
  ns: string,
  keys: readonly string[],
  fields: (key: string) => Record<string, unknown>,
): Promise<void> {
  for (let i = 0; i < keys.length; i += 100) {
    const ops = keys.slice(i, i + 100).map((key) => ({ op: 'put', key, fields: fields(key) }));
    const r = await api.call('POST', `/v1/ns/${ns}/txn`, { body: { ops } });
    if (r.status !== 200) throw new Error(`txn: ${r.status} ${r.text}`);
  }
}

/**
 * A target namespace as every test starts it: 20 keys newer than the snapshot (skipped), 20
 * older (replaced), 10 deleted (brought back), 20 more newer ones, and the rest absent (written).
 */
async function prepareTarget(): Promise<string> {
  const ns = uniqueNs('target');
  for (let i = 0; i < 5; i++) await putAll(ns, KEYS.slice(0, 20), () => ({ v: 'target-newer' }));
  await putAll(ns, KEYS.slice(20, 40), () => ({ v: 'target-older' }));
  await putAll(ns, KEYS.slice(40, 50), () => ({ v: 'target-deleted' }));
  await api.call('POST', `/v1/ns/${ns}/txn`, {
    body: { ops: KEYS.slice(40, 50).map((key) => ({ op: 'delete', key })) },
  });
  for (let i = 0; i < 2; i++) await putAll(ns, KEYS.slice(100, 120), () => ({ v: 'target-newer' }));
  return ns;
}

/** Every record of `ns`: key to fields and rev (incarnations differ between targets, so ETags do too). */
async function recordsOf(ns: string): Promise<Map<string, unknown>> {
  const r = await api.call('GET', `/v1/ns/${ns}/keys?limit=1000&fields=true`);
  return new Map(
    r.body.items.map((i: { key: string; rev: number; fields: unknown }) => [i.key, { rev: i.rev, fields: i.fields }]),
  );
}

/**
 * One run of the restore workflow, as one process would run it, killed at `kill` if given.
 * Returns the restore as it stands after the run.
 */
async function run(restoreId: string, kill?: Kill) {
  const client = localClient(endpoint());
  let killed = false;
  let writes = 0;
  const table = testTables().VESTA_RECORDS_TABLE;
  const die = () => {
    killed = true;
    return Object.assign(new Error('the process was killed'), { name: 'Killed' });
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (killed) throw die();
      const from = writes;
      writes += recordWrites(context.commandName ?? '', args.input as never, table);
      const carries = (n: number) => from < n && n <= writes;
      if (kill && 'before' in kill && carries(kill.before)) throw die();
      const out = await next(args);
      if (kill && 'after' in kill && carries(kill.after)) throw die();
      return out;
    },
    { step: 'initialize', name: 'killSwitch' },
  );
  const deps = wireSnapshotWorker({ client, env: testTables(), blobs: new FsBlobStore(api.blobDir) });
  const restore = createRestoreHandler(deps) as StepHandler;
  const workflows = new LocalWorkflows({
    step: () => Promise.reject(new Error('no sagas in this test')),
    restore: (input) => {
      if (kill && 'atFinish' in kill && (input as { action?: string }).action === 'restoreFinish') throw die();
      return restore(input);
    },
    executions: new LocalExecutions(),
    retryIntervalMs: 0,
  });
  try {
    await workflows.start('restore', restoreId, { restoreId });
    await workflows.settled();
  } finally {
    client.destroy();
  }
  return (await api.call('GET', `/v1/restores/${restoreId}`)).body;
}

/** Restores the snapshot into `ns` (mode `newer`), killed at each of `kills` in turn, resumed until it completes. */
async function restoreWithKills(ns: string, kills: readonly Kill[], from = snapshotId) {
  const id = newId('rest', new Date());
  await api.snapshotDeps.store.createRestore({
    id,
    snapshotId: from,
    namespace: ns,
    mode: 'newer',
    startedAt: new Date().toISOString(),
  });
  let runs = 0;
  for (const kill of [...kills, undefined]) {
    const r = await run(id, kill);
    runs++;
    if (r.status !== 'RUNNING') return { ...r, runs };
  }
  throw new Error(`restore ${id} is still RUNNING after ${runs} runs`);
}

/** Temporary files anywhere under the blob directory. */
const temporaries = () =>
  readdirSync(api.blobDir, { recursive: true })
    .map(String)
    .filter((n) => n.includes('.tmp-'));

beforeAll(async () => {
  api = testApi();
  const source = uniqueNs('source');
  await putAll(source, KEYS, (key) => ({ v: 'snapshot', key }));
  for (let i = 0; i < 2; i++) await putAll(source, KEYS.slice(0, 100), (key) => ({ v: 'snapshot', key, again: i }));
  const s = await api.call('POST', '/v1/snapshots', { body: { namespace: source } });
  await api.workflows.settled();
  snapshotId = s.body.id;
  const target = await prepareTarget();
  const straight = await restoreWithKills(target, []);
  baseline = { written: straight.written, skipped: straight.skipped };
  baselineRecords = await recordsOf(target);
});
afterAll(() => api.close());

test('the uninterrupted restore: 190 written, 40 skipped, in several batches', () => {
  expect(baseline).toEqual({ written: 190, skipped: 40 });
  expect(KEYS.length).toBeGreaterThan(4 * RESTORE_BATCH_RECORDS);
});

test.each<[string, Kill[]]>([
  ['before its first write', [{ before: 1 }]],
  ['after its first write was applied, before the answer', [{ after: 1 }]],
  ['mid-part, then again mid-part, then just before adding up', [{ before: 120 }, { after: 30 }, { atFinish: true }]],
  [
    'after its first write was applied, five times over',
    [{ after: 1 }, { after: 1 }, { after: 1 }, { after: 1 }, { after: 1 }],
  ],
  [
    'before its first write, five times over',
    [{ before: 1 }, { before: 1 }, { before: 1 }, { before: 1 }, { before: 1 }],
  ],
])('killed %s: resumed to the same counts and records, no temporary file left', async (_, kills) => {
  const ns = await prepareTarget();
  const r = await restoreWithKills(ns, kills);
  expect(r).toMatchObject({ status: 'COMPLETE', ...baseline, runs: kills.length + 1 });
  expect(await recordsOf(ns)).toEqual(baselineRecords);
  expect(temporaries()).toEqual([]);
});

test('any sequence of kills and resumes ends with the counts of an uninterrupted restore', async () => {
  const kill = fc.oneof(
    fc.integer({ min: 1, max: 200 }).map((n): Kill => ({ before: n })),
    fc.integer({ min: 1, max: 200 }).map((n): Kill => ({ after: n })),
    fc.constant<Kill>({ atFinish: true }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(kill, { minLength: 1, maxLength: 6 }), async (kills) => {
      const ns = await prepareTarget();
      const r = await restoreWithKills(ns, kills);
      expect(r).toMatchObject({ status: 'COMPLETE', ...baseline });
      expect(await recordsOf(ns)).toEqual(baselineRecords);
    }),
    { numRuns: 6 },
  );
  expect(temporaries()).toEqual([]);
});

test('while a restore is interrupted, its counts are what was committed, never more', async () => {
  const ns = await prepareTarget();
  const id = newId('rest', new Date());
  await api.snapshotDeps.store.createRestore({
    id,
    snapshotId,
    namespace: ns,
    mode: 'newer',
    startedAt: new Date().toISOString(),
  });
  const cut = await run(id, { after: 50 });
  expect(cut).toMatchObject({ status: 'RUNNING' });
  expect(cut.written).toBeGreaterThanOrEqual(50);
  expect(cut.written + cut.skipped).toBeLessThanOrEqual(KEYS.length);
  const again = await run(id, { before: 1 });
  expect(again).toMatchObject({ written: cut.written, skipped: cut.skipped });
  expect(await run(id)).toMatchObject({ status: 'COMPLETE', ...baseline });
});

test('lines that cannot be restored are set aside once, whatever the kills: one unreadable, one the store refuses amid a batch', async () => {
  const source = uniqueNs('poison');
  await putAll(source, KEYS.slice(0, 120), (key) => ({ v: 'snapshot', key }));
  const snap = await api.call('POST', '/v1/snapshots', { body: { namespace: source } });
  await api.workflows.settled();
  const manifest = (await api.call('GET', `/v1/snapshots/${snap.body.id}`)).body;
  // Two lines no snapshot would hold, put in the part with its size and sha256 made right: one
  // that is not a snapshot line (line 11), one whose record is too big for a DynamoDB item (line 62).
  const file = join(api.blobDir, partPath(manifest.id, 'part-00000.jsonl.gz'));
  const lines = gunzipSync(readFileSync(file))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const big = JSON.stringify({
    ...JSON.parse(lines[0]),
    key: 'too-big',
    siblings: [{ ...JSON.parse(lines[0]).siblings[0], fields: { pad: 'x'.repeat(420_000) } }],
  });
  lines.splice(60, 0, big);
  lines.splice(10, 0, '{"not":"a snapshot line"}');
  const body = gzipSync(Buffer.from(`${lines.join('\n')}\n`, 'utf8'));
  writeFileSync(file, body);
  const parts = [{ ...manifest.parts[0], bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') }];
  expect(await api.snapshotDeps.store.addPart(manifest.id, manifest.items, parts)).toBe(true);
  const manifestFile = join(api.blobDir, manifestName(manifest.id));
  writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(readFileSync(manifestFile, 'utf8')), parts }));

  const straight = await restoreWithKills(uniqueNs('poison-to'), [], manifest.id);
  const killed = await restoreWithKills(
    uniqueNs('poison-to'),
    [{ after: 30 }, { before: 1 }, { after: 60 }],
    manifest.id,
  );
  for (const r of [straight, killed])
    expect(r).toMatchObject({ status: 'COMPLETE', written: 120, skipped: 0, setAside: 2 });
  const listed = (await api.call('GET', '/v1/dead-letters?source=restore&limit=500')).body.items as {
    item: Record<string, unknown>;
    error: { name: string };
  }[];
  for (const r of [straight, killed]) {
    const mine = listed
      .filter((e) => e.item.restoreId === r.id)
      .sort((a, b) => Number(a.item.line) - Number(b.item.line));
    expect(mine.map((e) => [e.item.line, e.item.key ?? null, e.error.name])).toEqual([
      [11, null, 'ValidationError'],
      [62, 'too-big', 'PayloadTooLargeError'],
    ]);
  }
});
