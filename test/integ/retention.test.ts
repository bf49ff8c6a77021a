/**
 * Bounded history on DynamoDB Local with a clock moved by hand: a finished saga's log, a finished
 * restore's record and a snapshot are served until their retention ends and are absent after it
 * (404, not listed), although nothing deletes them (DynamoDB Local has no TTL clean-up: the reads
 * decide). A RUNNING or COMPENSATION_FAILED saga never expires; the newest-complete mark that
 * health reads outlives the snapshot it names.
 */
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { wireSagaStep } from '../../src/api/wiring';
import { DAY_SECONDS } from '../../src/core/retention';
import { parseSagaBody } from '../../src/core/sagas';
import { FakeClock } from './contract/clock';
import { TABLE_DEFS, physicalTableName } from '../../src/adapters/dynamodb/table-defs';
import { ensureTables } from '../../src/local/bootstrap-tables';
import { localClient } from '../../src/local/dynamodb-local';
import { type TestApi, endpoint, testApi, uniqueNs } from './harness';

jest.setTimeout(120_000);

// Tables of its own: health reads the newest complete snapshot of the whole deployment, which
// other test files, with clocks of their own, would otherwise be moving while this one reads it.
const TABLE_PREFIX = 'vesta-retention-test';
const tables = Object.fromEntries(TABLE_DEFS.map((d) => [d.envVar, physicalTableName(TABLE_PREFIX, d)]));
beforeAll(async () => {
  const admin = localClient(endpoint());
  await ensureTables(admin, TABLE_PREFIX);
  admin.destroy();
});

let clock: FakeClock;
let api: TestApi;
beforeEach(() => {
  clock = new FakeClock(Date.now());
  // Retentions of their own, to show the settings are read (and differ from each other).
  api = testApi({
    clock,
    env: {
      ...tables,
      VESTA_SAGA_RETENTION_DAYS: '3',
      VESTA_RESTORE_RETENTION_DAYS: '5',
      VESTA_SNAPSHOT_RETENTION_DAYS: '7',
    },
  });
});
afterEach(() => api.close());

const steps = (ns: string, n: number) => ({
  namespace: ns,
  steps: Array.from({ length: n }, (_, i) => ({
    name: `s${i}`,
    action: { op: 'patch', key: `k${i}`, increment: { n: 1 } },
    compensation: { op: 'patch', key: `k${i}`, increment: { n: -1 } },
  })),
});

/** The ids of the sagas of `status` the list shows, following every page. */
async function listed(status: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.call('GET', `/v1/sagas?status=${status}&limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    ids.push(...page.body.items.map((s: { id: string }) => s.id));
    cursor = page.body.cursor ?? undefined;
  } while (cursor);
  return ids;
}

/** Every item of a saga as stored, expired or not. */
async function storedSagaItems(id: string) {
  const out = await api.client.send(
    new QueryCommand({
      TableName: tables.VESTA_SAGAS_TABLE,
      KeyConditionExpression: 'id = :id',
      ExpressionAttributeValues: { ':id': { S: id } },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

describe('a finished saga', () => {
  test('is served until its retention ends, then 404 and not listed, while every item stays stored', async () => {
    const ns = uniqueNs('ret');
    for (let i = 0; i < 3; i++) await api.call('PUT', `/v1/ns/${ns}/keys/k${i}`, { body: { fields: { n: 1 } } });
    const started = await api.call('POST', '/v1/sagas', { body: steps(ns, 3) });
    expect(started.status).toBe(202);
    await api.workflows.settled();
    const id: string = started.body.id;
    expect((await api.call('GET', `/v1/sagas/${id}`)).body.status).toBe('SUCCEEDED');

    // Every item (header, steps, entries) carries the same ttl: 3 days after the end.
    const items = await storedSagaItems(id);
    expect(items.length).toBe(1 + 3 + 3);
    const ttl = Math.floor(clock.t / 1000) + 3 * DAY_SECONDS;
    for (const it of items) expect(Number(it.ttl?.N)).toBe(ttl);

    clock.advance(3 * DAY_SECONDS - 1);
    expect((await api.call('GET', `/v1/sagas/${id}`)).status).toBe(200);
    expect(await listed('SUCCEEDED')).toContain(id);

    clock.advance(1);
    const gone = await api.call('GET', `/v1/sagas/${id}`);
    expect(gone.status).toBe(404);
    expect(await listed('SUCCEEDED')).not.toContain(id);
    // Nothing was deleted: the reads alone leave it out.
    expect(await storedSagaItems(id)).toHaveLength(items.length);
    // Its id is not free until the clean-up: starting it again is refused, nothing started.
    const again = await api.call('POST', '/v1/sagas', { body: { id, ...steps(ns, 3) } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'Conflict', reason: 'SagaIdReused' });
  });

  test('a compensated saga expires as a succeeded one does', async () => {
    const ns = uniqueNs('ret');
    const body = steps(ns, 2);
    // The second step fails (its key does not exist), so the first is undone.
    (body.steps[1].action as Record<string, unknown>).require = [{ field: 'n', op: '>', value: 1000 }];
    await api.call('PUT', `/v1/ns/${ns}/keys/k0`, { body: { fields: { n: 1 } } });
    await api.call('PUT', `/v1/ns/${ns}/keys/k1`, { body: { fields: { n: 1 } } });
    const started = await api.call('POST', '/v1/sagas', { body });
    await api.workflows.settled();
    const id: string = started.body.id;
    expect((await api.call('GET', `/v1/sagas/${id}`)).body.status).toBe('COMPENSATED');
    clock.advance(3 * DAY_SECONDS - 1);
    expect(await listed('COMPENSATED')).toContain(id);
    clock.advance(1);
    expect((await api.call('GET', `/v1/sagas/${id}`)).status).toBe(404);
    expect(await listed('COMPENSATED')).not.toContain(id);
  });
});

describe('a saga that has not ended for good', () => {
  test('RUNNING or COMPENSATION_FAILED, it is never expired and carries no ttl', async () => {
    const ns = uniqueNs('ret');
    const { sagas } = wireSagaStep({ client: api.client, clock, env: { ...tables } });
    const running = parseSagaBody({ id: `run-${ns}`, ...steps(ns, 2) });
    const failed = parseSagaBody({ id: `cf-${ns}`, ...steps(ns, 2) });
    expect(await sagas.create(running, 'arn:aws:states:local:0:execution:saga:run')).toBe(true);
    expect(await sagas.create(failed, 'arn:aws:states:local:0:execution:saga:cf')).toBe(true);
    expect(await sagas.finish(failed.id, 'COMPENSATION_FAILED', ['RUNNING'])).toBe(true);

    clock.advance(10_000 * DAY_SECONDS);
    const run = await api.call('GET', `/v1/sagas/${running.id}`);
    expect(run.status).toBe(200);
    expect(run.body.status).toBe('RUNNING');
    const cf = await api.call('GET', `/v1/sagas/${failed.id}`);
    expect(cf.status).toBe(200);
    expect(cf.body.status).toBe('COMPENSATION_FAILED');
    expect(await listed('RUNNING')).toContain(running.id);
    expect(await listed('COMPENSATION_FAILED')).toContain(failed.id);
    for (const id of [running.id, failed.id])
      for (const it of await storedSagaItems(id)) expect(it.ttl).toBeUndefined();
  });
});

describe('snapshots and restores', () => {
  test('a finished restore is served until its retention ends, a snapshot until its own; health keeps the age', async () => {
    const ns = uniqueNs('ret');
    await api.call('PUT', `/v1/ns/${ns}/keys/a`, { body: { fields: { n: 1 } } });
    const s = await api.call('POST', '/v1/snapshots', { body: { namespace: ns } });
    expect(s.status).toBe(202);
    await api.workflows.settled();
    const snapId: string = s.body.id;
    expect((await api.call('GET', `/v1/snapshots/${snapId}`)).body.status).toBe('COMPLETE');

    clock.advance(DAY_SECONDS);
    const r = await api.call('POST', `/v1/snapshots/${snapId}/restore`, {
      body: { namespace: uniqueNs('to'), mode: 'missing' },
    });
    expect(r.status).toBe(202);
    await api.workflows.settled();
    const restId: string = r.body.id;
    expect((await api.call('GET', `/v1/restores/${restId}`)).body.status).toBe('COMPLETE');
    const key = (pk: string, sk: string) => ({ pk: { S: pk }, sk: { S: sk } });
    const stored = async (pk: string, sk: string) =>
      (
        await api.client.send(
          new GetItemCommand({ TableName: tables.VESTA_CONTROL_TABLE, Key: key(pk, sk), ConsistentRead: true }),
        )
      ).Item;
    expect(Number((await stored('restore', restId))?.ttl?.N)).toBe(Math.floor(clock.t / 1000) + 5 * DAY_SECONDS);
    expect(Number((await stored(`restore-part#${restId}`, 'part-00000.jsonl.gz'))?.ttl?.N)).toBe(
      Math.floor(clock.t / 1000) + 5 * DAY_SECONDS,
    );

    // The restore: 5 days after its end.
    clock.advance(5 * DAY_SECONDS - 1);
    expect((await api.call('GET', `/v1/restores/${restId}`)).status).toBe(200);
    clock.advance(1);
    expect((await api.call('GET', `/v1/restores/${restId}`)).status).toBe(404);
    expect(await stored('restore', restId)).toBeDefined();

    // The snapshot: 7 days after its start (6 days have passed).
    const inList = async () =>
      (await api.call('GET', `/v1/snapshots?namespace=${ns}`)).body.items.some((x: { id: string }) => x.id === snapId);
    expect(await inList()).toBe(true);
    clock.advance(DAY_SECONDS - 1);
    expect((await api.call('GET', `/v1/snapshots/${snapId}`)).status).toBe(200);
    clock.advance(1);
    expect((await api.call('GET', `/v1/snapshots/${snapId}`)).status).toBe(404);
    expect(await inList()).toBe(false);
    // Nor can it be restored any more (its objects are gone in AWS); nothing was deleted here.
    const late = await api.call('POST', `/v1/snapshots/${snapId}/restore`, { body: { mode: 'missing' } });
    expect(late.status).toBe(404);
    expect(await stored('snapshot', snapId)).toBeDefined();
    expect(existsSync(join(api.blobDir, 'snapshots', snapId))).toBe(true);

    // Health still reports the newest complete snapshot's age: the alarm goes on seeing it grow.
    const health = await api.call('GET', '/v1/health');
    expect(health.body.checks.latestSnapshotAgeSeconds).toBeGreaterThanOrEqual(7 * DAY_SECONDS - 60);
  });
});
