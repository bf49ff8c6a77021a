/**
 * The field sweeper on DynamoDB Local, with a fake clock: what it reads (due fields only, never
 * the rest of the table), what it writes (one `expire-fields` write per record, invisible to
 * reads), the bound it fixes without a change, siblings and dead letters.
 */
import { BatchWriteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { FakeClock } from './contract/clock';
import { wireFieldSweeper } from '../../src/api/wiring';
import { type Item, fieldExpiryShard, keyOf, toItem } from '../../src/adapters/dynamodb/codec';
import { changeFromStreamRecord } from '../../src/adapters/dynamodb/stream-records';
import { RECORDS_TABLE } from '../../src/adapters/dynamodb/table-defs';
import type { RecordState } from '../../src/core/record-view';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTables } from '../../src/local/bootstrap-tables';
import { localClient } from '../../src/local/dynamodb-local';
import { startLocalStack } from '../../src/local/stack';
import { endpoint, testApi, uniqueNs } from './harness';

jest.setTimeout(300000);

// Sweepers here run with clocks years ahead: they get tables of their own, so that they never
// sweep the fields other test files are using at the same time.
let tables: Record<string, string>;
beforeAll(async () => {
  const client = localClient(endpoint());
  tables = await ensureTables(client, 'vesta-sweeper-test');
  client.destroy();
});

/** An API and a sweeper on the test's tables, both on `clock`. */
function setUp(clock: FakeClock) {
  const api = testApi({ clock, env: tables });
  const { sweeper, deadLetters } = wireFieldSweeper({ client: api.client, clock, env: tables });
  const rawItem = async (ns: string, key: string): Promise<Item | undefined> =>
    (
      await api.client.send(
        new GetItemCommand({ TableName: tables[RECORDS_TABLE.envVar], Key: keyOf(ns, key), ConsistentRead: true }),
      )
    ).Item;
  return { api, sweeper, deadLetters, rawItem };
}

/** Records without any expiry, written straight to the table (25 to a batch). */
async function fillWithoutExpiry(api: ReturnType<typeof testApi>, ns: string, from: number, count: number) {
  const at = '2030-01-01T00:00:00.000Z';
  const item = (i: number): Item => {
    const state: RecordState = {
      namespace: ns,
      key: `plain-${i}`,
      inc: 'i',
      rev: 1,
      vv: { local: 1 },
      siblings: [{ fields: { v: i }, dot: { replica: 'local', counter: 1 }, at }],
      deleted: false,
      updatedAt: at,
    };
    return toItem(state);
  };
  const table = tables[RECORDS_TABLE.envVar];
  const writes: Promise<unknown>[] = [];
  for (let i = from; i < from + count; i += 25) {
    const batch = Array.from({ length: Math.min(25, from + count - i) }, (_, j) => ({
      PutRequest: { Item: item(i + j) },
    }));
    writes.push(api.client.send(new BatchWriteItemCommand({ RequestItems: { [table]: batch } })));
    if (writes.length >= 8) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
}

test('items read grow with due fields, not with the table: 50 due among 2,050 and among 8,050 records', async () => {
  const clock = new FakeClock(Date.parse('2031-01-01T00:00:00.000Z'));
  const { api, sweeper } = setUp(clock);
  expect((await api.call('GET', '/v1/health')).body.checks.fieldSweeperLagSeconds).toBeNull();
  await sweeper.run(); // clears whatever earlier runs of this file left due
  expect((await api.call('GET', '/v1/health')).body.checks.fieldSweeperLagSeconds).toBe(0);
  const ns = uniqueNs('sweep');
  const runWith = async (round: number) => {
    for (let i = 0; i < 50; i++) {
      const put = await api.call('PUT', `/v1/ns/${ns}/keys/due-${round}-${i}`, {
        body: { fields: { keep: i, gone: 'x' }, expire: { gone: 30 } },
      });
      expect(put.status).toBe(201);
    }
    clock.advance(31);
    return sweeper.run();
  };
  await fillWithoutExpiry(api, ns, 0, 2000);
  const small = await runWith(1);
  await fillWithoutExpiry(api, ns, 2000, 6000);
  const large = await runWith(2);
  console.log(
    `field sweeper: 50 due fields among 2,050 records: ${small.itemsRead} items read, ${small.fieldsRemoved} removed; ` +
      `among 8,050 records: ${large.itemsRead} items read, ${large.fieldsRemoved} removed`,
  );
  for (const r of [small, large]) {
    expect(r).toMatchObject({ swept: 50, fieldsRemoved: 50, lagSeconds: 1, setAside: 0 });
    expect(r.itemsRead).toBeGreaterThanOrEqual(100);
    expect(r.itemsRead).toBeLessThanOrEqual(110);
  }
  expect(large.itemsRead).toBe(small.itemsRead);
  expect(await sweeper.run()).toMatchObject({ swept: 0, itemsRead: 0 });
  api.close();
});

test('a sweep changes nothing a read sees: rev grows by one, the stored item no longer holds the field', async () => {
  const clock = new FakeClock(Date.parse('2032-01-01T00:00:00.000Z'));
  const { api, sweeper, rawItem } = setUp(clock);
  await sweeper.run();
  const ns = uniqueNs('sweep');
  const path = `/v1/ns/${ns}/keys/k`;
  await api.call('PUT', path, { body: { fields: { a: 1, b: 'two', c: true }, expire: { b: 10, c: 3600 } } });
  clock.advance(11);
  const before = await api.call('GET', path);
  expect(before.body.fields).toEqual({ a: 1, c: true });
  const r = await sweeper.run();
  expect(r).toMatchObject({ swept: 1, fieldsRemoved: 1, lagSeconds: 1 });
  const after = await api.call('GET', path);
  expect(after.status).toBe(200);
  expect(after.body.fields).toEqual(before.body.fields);
  expect(after.body.expires).toEqual(before.body.expires);
  expect(after.body.rev).toBe(before.body.rev + 1);
  const item = (await rawItem(ns, 'k'))!;
  expect(Object.keys(item.f.M!).sort()).toEqual(['a', 'c']);
  expect(Object.keys(item.fx.M!)).toEqual(['c']);
  expect(item).toMatchObject({ op: { S: 'expire-fields' }, xf: { L: [{ S: 'b' }] } });
  // The bound is now the remaining field's exact expiry: nothing is due until then.
  expect(Number(item.due.N)).toBe(Date.parse('2032-01-01T01:00:00.000Z'));
  expect(await sweeper.run()).toMatchObject({ swept: 0, itemsRead: 0 });
  // A PATCH takes the single-request path again once nothing is due.
  expect((await api.call('PATCH', path, { body: { set: { a: 2 } } })).status).toBe(200);
  api.close();
});

test('a record whose every field expired becomes a tombstone and stays 404', async () => {
  const clock = new FakeClock(Date.parse('2033-01-01T00:00:00.000Z'));
  const { api, sweeper, rawItem } = setUp(clock);
  await sweeper.run();
  const ns = uniqueNs('sweep');
  const path = `/v1/ns/${ns}/keys/k`;
  await api.call('PUT', path, { body: { fields: { a: 1, b: 2 }, expire: { a: 5, b: 10 } } });
  clock.advance(11);
  expect((await api.call('GET', path)).status).toBe(404);
  expect(await sweeper.run()).toMatchObject({ swept: 1, fieldsRemoved: 2, lagSeconds: 6 });
  const item = (await rawItem(ns, 'k'))!;
  expect(item.tomb).toEqual({ BOOL: true });
  expect(item.due).toBeUndefined();
  expect(item.xshard).toBeUndefined();
  expect((await api.call('GET', path)).status).toBe(404);
  clock.advance(-11); // even seen from before the expiry, the swept record is gone for good
  expect((await api.call('GET', path)).status).toBe(404);
  clock.advance(11);
  expect(await sweeper.run()).toMatchObject({ swept: 0, itemsRead: 0 });
  expect((await api.call('GET', path)).status).toBe(404);
  api.close();
});

test('a refreshed field is kept, and its early bound is fixed without a new rev or a change', async () => {
  const clock = new FakeClock(Date.parse('2034-01-01T00:00:00.000Z'));
  const { api, sweeper, rawItem } = setUp(clock);
  await sweeper.run();
  const ns = uniqueNs('sweep');
  const path = `/v1/ns/${ns}/keys/k`;
  await api.call('PUT', path, { body: { fields: { a: 1 }, expire: { a: 10 } } });
  expect((await api.call('PATCH', path, { body: { expire: { a: 100 } } })).status).toBe(200);
  const patched = (await rawItem(ns, 'k'))!;
  // The PATCH kept the earlier bound: the index still lists the record at the first expiry.
  expect(Number(patched.due.N)).toBe(Date.parse('2034-01-01T00:00:10.000Z'));
  clock.advance(11);
  const r = await sweeper.run();
  expect(r).toMatchObject({ swept: 0, fieldsRemoved: 0, itemsRead: 2, setAside: 0 });
  const fixed = (await rawItem(ns, 'k'))!;
  expect(Number(fixed.due.N)).toBe(Date.parse('2034-01-01T00:01:40.000Z'));
  expect(fixed.xshard).toEqual({ S: fieldExpiryShard(ns, 'k') });
  expect(fixed.rev).toEqual(patched.rev);
  expect(fixed.op).toEqual(patched.op);
  // The change publisher publishes only writes that advance rev: this update is none.
  expect(changeFromStreamRecord({ eventName: 'MODIFY', dynamodb: { OldImage: patched, NewImage: fixed } })).toBe(
    undefined,
  );
  expect((await api.call('GET', path)).body.fields).toEqual({ a: 1 });
  expect(await sweeper.run()).toMatchObject({ swept: 0, itemsRead: 0 });
  clock.advance(90);
  expect(await sweeper.run()).toMatchObject({ swept: 1, fieldsRemoved: 1 });
  expect((await api.call('GET', path)).status).toBe(404);
  api.close();
});

test('siblings expire their fields independently: each loses its own field', async () => {
  const clock = new FakeClock(Date.parse('2035-01-01T00:00:00.000Z'));
  const { api, sweeper, rawItem } = setUp(clock);
  await sweeper.run();
  const ns = uniqueNs('sweep');
  const path = `/v1/ns/${ns}/keys/k`;
  await api.call('PUT', `/v1/ns/${ns}`, { body: { conflicts: 'siblings' } });
  await api.call('PUT', path, { body: { fields: { x: 1, a: 'a' }, expire: { a: 10 } } });
  await api.call('PUT', path, { body: { fields: { y: 2, b: 'b' }, expire: { b: 20 } } });
  const values = async () => {
    const r = await api.call('GET', path);
    expect(r.status).toBe(300);
    return r.body.siblings.map((s: { fields: unknown }) => s.fields);
  };
  expect(await values()).toEqual([
    { x: 1, a: 'a' },
    { y: 2, b: 'b' },
  ]);
  clock.advance(11);
  expect(await sweeper.run()).toMatchObject({ swept: 1, fieldsRemoved: 1 });
  expect(await values()).toEqual([{ x: 1 }, { y: 2, b: 'b' }]);
  expect((await rawItem(ns, 'k'))!.xf).toEqual({ L: [{ S: 'a' }] });
  clock.advance(10);
  expect(await sweeper.run()).toMatchObject({ swept: 1, fieldsRemoved: 1 });
  expect(await values()).toEqual([{ x: 1 }, { y: 2 }]);
  expect((await rawItem(ns, 'k'))!.due).toBeUndefined();
  api.close();
});

test('a record it cannot decode is set aside and the others are swept; a replay through the API sweeps it once mended', async () => {
  const clock = new FakeClock(Date.parse('2036-01-01T00:00:00.000Z'));
  const { api, sweeper, deadLetters, rawItem } = setUp(clock);
  await sweeper.run();
  const ns = uniqueNs('sweep');
  for (const k of ['k1', 'k2'])
    await api.call('PUT', `/v1/ns/${ns}/keys/${k}`, { body: { fields: { a: 1, b: 2 }, expire: { b: 10 } } });
  const good = (await rawItem(ns, 'k1'))!;
  const table = tables[RECORDS_TABLE.envVar];
  await api.client.send(new PutItemCommand({ TableName: table, Item: { ...good, rev: { S: 'one' } } }));
  clock.advance(11);
  const r = await sweeper.run();
  expect(r).toMatchObject({ swept: 1, fieldsRemoved: 1, setAside: 1 });
  const { items } = await deadLetters.list({ source: 'sweeper', limit: 50 });
  const entry = items.find((e) => e.item.namespace === ns)!;
  expect(entry).toMatchObject({ source: 'sweeper', item: { namespace: ns, key: 'k1' }, attempts: 3 });
  expect(entry.error.name).toBe('MalformedItemError');
  expect((await api.call('GET', `/v1/ns/${ns}/keys/k2`)).body.rev).toBe(2);
  await api.client.send(new PutItemCommand({ TableName: table, Item: good }));
  const replay = await api.call('POST', `/v1/dead-letters/${entry.id}/replay`);
  expect(replay.status).toBe(200);
  expect(await deadLetters.get(entry.id)).toBeUndefined();
  expect((await api.call('GET', `/v1/ns/${ns}/keys/k1`)).body).toMatchObject({ fields: { a: 1 }, rev: 2 });
  api.close();
});

test('the local stack sweeps on its schedule: the removal is published as an expire-fields change', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vesta-sweep-'));
  const stack = await startLocalStack({
    port: 0,
    dataDir,
    dynamoEndpoint: endpoint(),
    tablePrefix: `vesta-sweep-${uniqueNs('s').slice(2)}`,
    resumeSagas: false,
    snapshotSchedule: 'off',
    leaseJobsSeconds: 1,
  });
  try {
    const http = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${stack.url}${path}`, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: r.status, body: (await r.json()) as any };
    };
    const ns = uniqueNs('sweep');
    expect((await http('PUT', `/v1/ns/${ns}/keys/k`, { fields: { a: 1, b: 2 }, expire: { b: 1 } })).status).toBe(201);
    let kinds: string[] = [];
    for (let i = 0; i < 100 && !kinds.includes('expire-fields'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      kinds = (await http('GET', `/v1/ns/${ns}/changes`)).body.items.map((c: { change: string }) => c.change);
    }
    expect(kinds).toEqual(['put', 'expire-fields']);
    const changes = (await http('GET', `/v1/ns/${ns}/changes`)).body.items;
    expect(changes[1]).toMatchObject({ key: 'k', rev: 2, fields: { a: 1 } });
    expect((await http('GET', `/v1/ns/${ns}/keys/k`)).body).toMatchObject({ fields: { a: 1 }, rev: 2 });
    expect(typeof (await http('GET', '/v1/health')).body.checks.fieldSweeperLagSeconds).toBe('number');
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
