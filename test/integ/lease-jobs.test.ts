/**
 * The lease reaper and renewer on DynamoDB Local, with a fake clock.
 */
import { FakeClock } from './contract/clock';
import { BatchWriteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { wireLeaseJobs } from '../../src/api/wiring';
import type { Clock } from '../../src/core/ports';
import { LocalExecutions } from '../../src/local/executions';
import { ensureTables } from '../../src/local/bootstrap-tables';
import { localClient } from '../../src/local/dynamodb-local';
import { endpoint, testApi, uniqueNs } from './harness';

jest.setTimeout(180000);

// Reapers here run with clocks years ahead: they get tables of their own, so that they never
// reap the leases other test files are using at the same time.
let tables: Record<string, string>;
beforeAll(async () => {
  const client = localClient(endpoint());
  tables = await ensureTables(client, 'vesta-jobs-test');
  client.destroy();
});
const testTables = () => tables;
const jobsApi = (clock?: Clock) => testApi({ clock, env: tables });

test('the reaper removes expired leases, their records and locks, and reads no live lease', async () => {
  // Its own far-future time range, so other tests' leases are all long expired or live apart.
  const clock = new FakeClock(Date.parse('2031-01-01T00:00:00.000Z'));
  const api = jobsApi(clock);
  const executions = new LocalExecutions();
  const { reaper } = wireLeaseJobs(executions, { client: api.client, clock, env: testTables() });
  await reaper.run(); // clears whatever earlier tests left expired
  const ns = uniqueNs();
  const short = (await api.call('POST', '/v1/leases', { body: { ttlSeconds: 10 } })).body.id;
  const long = (await api.call('POST', '/v1/leases', { body: { ttlSeconds: 3600 } })).body.id;
  await api.call('PUT', `/v1/ns/${ns}/keys/a`, { body: { fields: { x: 1 } }, headers: { 'X-Lease-Id': short } });
  await api.call('PUT', `/v1/ns/${ns}/keys/b`, { body: { fields: { x: 2 } }, headers: { 'X-Lease-Id': long } });
  const lock = await api.call('POST', `/v1/ns/${ns}/locks/l`, { body: { leaseId: short } });
  clock.t += 11000;
  const r = await reaper.run();
  expect(r).toMatchObject({ reaped: 1, recordsExpired: 1, locksFreed: 1, lagSeconds: 1 });
  expect((await api.call('GET', `/v1/ns/${ns}/keys/b`)).status).toBe(200);
  clock.t -= 11000; // even seen from before the expiry, the reaped record is gone for good
  expect((await api.call('GET', `/v1/ns/${ns}/keys/a`)).status).toBe(404);
  clock.t += 11000;
  const other = (await api.call('POST', '/v1/leases', { body: { ttlSeconds: 60 } })).body.id;
  const again = await api.call('POST', `/v1/ns/${ns}/locks/l`, { body: { leaseId: other } });
  expect(again.body.fencingToken).toBeGreaterThan(lock.body.fencingToken);
  expect(await reaper.run()).toMatchObject({ reaped: 0, itemsRead: 0 });
  const health = await api.call('GET', '/v1/health');
  expect(health.body.checks.leaseReaperLagSeconds).toBe(0);
  api.close();
});

test('the reaper reads at most 1.1 x the expired leases when 1,000 of 11,000 have expired', async () => {
  const clock = new FakeClock(Date.parse('2031-01-01T00:00:00.000Z'));
  clock.t = Date.parse('2032-01-01T00:00:00.000Z');
  const api = jobsApi(clock);
  const { reaper } = wireLeaseJobs(new LocalExecutions(), { client: api.client, clock, env: testTables() });
  await reaper.run();
  const table = testTables().VESTA_CONTROL_TABLE;
  const lease = (i: number, expiresAt: number) => ({
    PutRequest: {
      Item: {
        pk: { S: `lease#${i.toString(16).padStart(24, '0')}.30` },
        sk: { S: '#lease' },
        ttlSeconds: { N: '30' },
        ttlMs: { N: '30000' },
        expiresAt: { N: String(expiresAt) },
        shard: { S: `leases#${i % 16}` },
      },
    },
  });
  const items = [
    ...Array.from({ length: 1000 }, (_, i) => lease(i, clock.t - 1000 - i)),
    // Live well past every other test's clock, so no later reaper run has to reap them.
    ...Array.from({ length: 10000 }, (_, i) => lease(100000 + i, Date.parse('2100-01-01T00:00:00.000Z') + i)),
  ];
  for (let i = 0; i < items.length; i += 25) {
    await api.client.send(new BatchWriteItemCommand({ RequestItems: { [table]: items.slice(i, i + 25) } }));
  }
  const r = await reaper.run();
  expect(r.reaped).toBe(1000);
  expect(r.itemsRead).toBeLessThanOrEqual(1100);
  console.log(`reaper: ${r.reaped} expired leases reaped, ${r.itemsRead} items read`);
  expect((await reaper.run()).reaped).toBe(0);
  api.close();
});

test("the renewer keeps a running execution's lease alive and stops once it ends", async () => {
  const clock = new FakeClock(Date.parse('2031-01-01T00:00:00.000Z'));
  clock.t = Date.parse('2033-01-01T00:00:00.000Z');
  const api = jobsApi(clock);
  const executions = new LocalExecutions();
  const { renewer } = wireLeaseJobs(executions, { client: api.client, clock, env: testTables() });
  const arn = 'arn:aws:states:us-east-1:000000000000:execution:saga:order-991';
  const g = await api.call('POST', '/v1/leases', { body: { ttlSeconds: 10, executionArn: arn } });
  expect(g.status).toBe(201);
  executions.record(arn, 'RUNNING');
  for (let i = 0; i < 3; i++) {
    clock.t += 8000;
    expect((await renewer.run()).renewed).toBe(1);
  }
  expect((await api.call('GET', `/v1/leases/${g.body.id}`)).body.remainingSeconds).toBe(10);
  executions.record(arn, 'FAILED');
  clock.t += 8000;
  expect(await renewer.run()).toEqual({ renewed: 0, released: 1, setAside: 0 });
  clock.t += 3000;
  expect((await api.call('GET', `/v1/leases/${g.body.id}`)).status).toBe(404);
  const bad = await api.call('POST', '/v1/leases', { body: { ttlSeconds: 10, executionArn: 'not-an-arn' } });
  expect(bad.status).toBe(400);
  api.close();
});

test('a status item is only written by the reaper', async () => {
  // Guards the health figure: before any reaper run there is no lag to report.
  const api = jobsApi();
  const table = testTables().VESTA_CONTROL_TABLE;
  await api.client.send(
    new PutItemCommand({
      TableName: table,
      Item: { pk: { S: 'reaper' }, sk: { S: 'status' }, lastRunAt: { N: String(Date.now() - 5000) } },
    }),
  );
  const h = await api.call('GET', '/v1/health');
  expect(h.body.checks.leaseReaperLagSeconds).toBeGreaterThanOrEqual(4);
  api.close();
});

test('two reapers at once finish the work once: no error, each record expired a single time', async () => {
  const clock = new FakeClock(Date.parse('2031-01-01T00:00:00.000Z'));
  clock.t = Date.parse('2034-01-01T00:00:00.000Z');
  const api = jobsApi(clock);
  const jobs = [1, 2].map(
    () => wireLeaseJobs(new LocalExecutions(), { client: api.client, clock, env: testTables() }).reaper,
  );
  await jobs[0].run();
  const ns = uniqueNs();
  for (let i = 0; i < 20; i++) {
    const id = (await api.call('POST', '/v1/leases', { body: { ttlSeconds: 5 } })).body.id;
    await api.call('PUT', `/v1/ns/${ns}/keys/k${i}`, { body: { fields: { i } }, headers: { 'X-Lease-Id': id } });
    await api.call('POST', `/v1/ns/${ns}/locks/l${i}`, { body: { leaseId: id } });
  }
  clock.t += 6000;
  const [a, b] = await Promise.all(jobs.map((j) => j.run()));
  expect(a.reaped + b.reaped).toBeGreaterThanOrEqual(20);
  expect(await jobs[0].run()).toMatchObject({ reaped: 0 });
  const page = await api.call('GET', `/v1/ns/${ns}/keys`);
  expect(page.body.items).toEqual([]);
  clock.t -= 6000; // tombstones, not lease-hidden records: gone even before the expiry instant
  for (let i = 0; i < 20; i += 7) {
    const put = await api.call('PUT', `/v1/ns/${ns}/keys/k${i}`, { body: { fields: {} } });
    expect(put.body.rev).toBe(3);
  }
  api.close();
});

test('the reaper frees the locks an expired lease still holds, and leaves alone those it released or lost', async () => {
  const clock = new FakeClock(Date.parse('2031-01-01T00:00:00.000Z'));
  clock.t = Date.parse('2035-01-01T00:00:00.000Z');
  const api = jobsApi(clock);
  const { reaper } = wireLeaseJobs(new LocalExecutions(), { client: api.client, clock, env: testTables() });
  await reaper.run();
  const ns = uniqueNs();
  const grant = async (ttlSeconds: number) =>
    (await api.call('POST', '/v1/leases', { body: { ttlSeconds } })).body.id as string;
  const lock = (name: string, leaseId: string) => api.call('POST', `/v1/ns/${ns}/locks/${name}`, { body: { leaseId } });
  const a = await grant(10);
  const b = await grant(3600);
  for (const name of ['held', 'released', 'lost']) await lock(name, a);
  // A release leaves the lease's holding item in place; the reaper must not count it as freed.
  expect((await api.call('DELETE', `/v1/ns/${ns}/locks/released`, { headers: { 'X-Lease-Id': a } })).status).toBe(204);
  clock.t += 11000;
  const taken = await lock('lost', b); // taken over once a expired, before any reaper ran
  expect(taken.status).toBe(200);
  expect(await reaper.run()).toMatchObject({ reaped: 1, locksFreed: 1 });
  const names = (await api.call('GET', `/v1/ns/${ns}/locks`)).body.items.map((i: { name: string }) => i.name);
  expect(names).toEqual(['lost']);
  const fenced = await api.call('PUT', `/v1/ns/${ns}/keys/k`, {
    body: { fields: {} },
    headers: { 'X-Fencing-Token': `lost:${taken.body.fencingToken}` },
  });
  expect(fenced.status).toBe(201);
  expect((await lock('held', b)).status).toBe(200);
  expect((await lock('released', b)).status).toBe(200);
  api.close();
});
