/**
 * Nothing wedges, lease reaper and renewer, on DynamoDB Local with a fake clock: an item written
 * straight into a table in a shape Vesta never writes is set aside as a dead letter after its
 * retries, the other leases are reaped or renewed in the same run, a later run tries it again,
 * and a replay through the API goes through once the item is sound.
 */
import { FakeClock } from './contract/clock';
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { wireLeaseJobs } from '../../src/api/wiring';
import { CONTROL_TABLE, RECORDS_TABLE } from '../../src/adapters/dynamodb/table-defs';
import { EXPIRY_SHARDS } from '../../src/adapters/dynamodb/lease-store';
import { LocalExecutions } from '../../src/local/executions';
import { ensureTables } from '../../src/local/bootstrap-tables';
import { localClient } from '../../src/local/dynamodb-local';
import { endpoint, testApi, uniqueNs } from './harness';

jest.setTimeout(120000);

// Far-future clocks reap every lease of their tables: these tables are this file's own.
let tables: Record<string, string>;
beforeAll(async () => {
  const client = localClient(endpoint());
  tables = await ensureTables(client, 'vesta-dl-jobs');
  client.destroy();
});

test('a lease the reaper cannot reap is set aside after its retries; the others are reaped; a later run tries it again; a replay reaps it once it is sound', async () => {
  const clock = new FakeClock(Date.parse('2041-01-01T00:00:00.000Z'));
  const api = testApi({ clock, env: tables });
  const { reaper } = wireLeaseJobs(new LocalExecutions(), { client: api.client, clock, env: tables });
  await reaper.run();
  const ns = uniqueNs('dlreap');
  const leases: string[] = [];
  for (let i = 0; i < 4; i++) {
    const id = (await api.call('POST', '/v1/leases', { body: { ttlSeconds: 5 } })).body.id as string;
    expect(
      (await api.call('PUT', `/v1/ns/${ns}/keys/k${i}`, { body: { fields: { i } }, headers: { 'X-Lease-Id': id } }))
        .status,
    ).toBe(201);
    leases.push(id);
  }
  // The record of lease 1 gets a `rev` that is a string: expiring it fails in DynamoDB itself.
  const recordKey = { ns: { S: ns }, k: { S: 'k1' } };
  const records = tables[RECORDS_TABLE.envVar];
  await api.client.send(
    new UpdateItemCommand({
      TableName: records,
      Key: recordKey,
      UpdateExpression: 'SET rev = :bad',
      ExpressionAttributeValues: { ':bad': { S: 'one' } },
    }),
  );
  clock.t += 6000;

  const first = await reaper.run();
  expect(first).toMatchObject({ reaped: 3, recordsExpired: 3, setAside: 1 });
  const list = await api.call('GET', '/v1/dead-letters?source=reaper');
  const entry = list.body.items.find((e: { item: { leaseId: string } }) => e.item.leaseId === leases[1]);
  expect(entry).toMatchObject({ source: 'reaper', attempts: 3, error: { name: 'ValidationException' } });
  for (const i of [0, 2, 3]) expect((await api.call('GET', `/v1/ns/${ns}/keys/k${i}`)).status).toBe(404);

  const second = await reaper.run();
  expect(second).toMatchObject({ reaped: 0, setAside: 1 });
  expect((await api.call('GET', `/v1/dead-letters/${entry.id}`)).body.attempts).toBe(6);

  await api.client.send(
    new UpdateItemCommand({
      TableName: records,
      Key: recordKey,
      UpdateExpression: 'SET rev = :n',
      ExpressionAttributeValues: { ':n': { N: '1' } },
    }),
  );
  const replay = await api.call('POST', `/v1/dead-letters/${entry.id}/replay`);
  expect(replay.body).toEqual({ id: entry.id, status: 'REPLAYED' });
  expect((await api.call('GET', `/v1/dead-letters/${entry.id}`)).status).toBe(404);
  expect((await api.call('GET', `/v1/ns/${ns}/keys/k1`)).status).toBe(404);
  expect(await reaper.run()).toMatchObject({ reaped: 0, setAside: 0 });
  console.log(`reaper: 1 lease set aside after ${entry.attempts} tries, 3 reaped in the same run`);
  api.close();
});

test('a lease the renewer cannot renew is set aside after its retries; the other execution lease is renewed; a replay renews it once it is sound', async () => {
  const clock = new FakeClock(Date.parse('2042-01-01T00:00:00.000Z'));
  const api = testApi({ clock, env: tables });
  const executions = new LocalExecutions();
  const { renewer } = wireLeaseJobs(executions, { client: api.client, clock, env: tables });
  api.replayParts.renewer = renewer;
  const arn = (n: string) => `arn:aws:states:us-east-1:000000000000:execution:saga:${n}`;
  const good = (await api.call('POST', '/v1/leases', { body: { ttlSeconds: 10, executionArn: arn('good') } })).body
    .id as string;
  // A lease item of an execution without `ttlMs`: the keepalive's update has nothing to add to.
  const badId = `${'f'.repeat(24)}.10`;
  const control = tables[CONTROL_TABLE.envVar];
  await api.client.send(
    new PutItemCommand({
      TableName: control,
      Item: {
        pk: { S: `lease#${badId}` },
        sk: { S: '#lease' },
        ttlSeconds: { N: '10' },
        expiresAt: { N: String(clock.t + 10000) },
        shard: { S: `leases#${0xffff % EXPIRY_SHARDS}` },
        rshard: { S: `renew#${0xffff % EXPIRY_SHARDS}` },
        executionArn: { S: arn('bad') },
      },
    }),
  );
  executions.record(arn('good'), 'RUNNING');
  executions.record(arn('bad'), 'RUNNING');
  clock.t += 8000;

  expect(await renewer.run()).toEqual({ renewed: 1, released: 0, setAside: 1 });
  expect((await api.call('GET', `/v1/leases/${good}`)).body.remainingSeconds).toBe(10);
  const list = await api.call('GET', '/v1/dead-letters?source=renewer&limit=500');
  const entry = list.body.items.find((e: { item: { leaseId: string } }) => e.item.leaseId === badId);
  expect(entry).toMatchObject({ source: 'renewer', attempts: 3, error: { name: 'ValidationException' } });

  const failed = await api.call('POST', `/v1/dead-letters/${entry.id}/replay`);
  expect(failed.body).toMatchObject({ id: entry.id, status: 'FAILED', entry: { attempts: 4 } });
  await api.client.send(
    new UpdateItemCommand({
      TableName: control,
      Key: { pk: { S: `lease#${badId}` }, sk: { S: '#lease' } },
      UpdateExpression: 'SET ttlMs = :ms',
      ExpressionAttributeValues: { ':ms': { N: '10000' } },
    }),
  );
  expect((await api.call('POST', `/v1/dead-letters/${entry.id}/replay`)).body).toEqual({
    id: entry.id,
    status: 'REPLAYED',
  });
  expect((await api.call('GET', `/v1/leases/${badId}`)).body.remainingSeconds).toBe(10);
  console.log(`renewer: 1 lease set aside after 3 tries, 1 renewed in the same pass`);
  api.close();
});
