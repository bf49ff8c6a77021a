/**
 * Field expiry in the change feed and in snapshots, on DynamoDB Local's real stream read by the
 * same poller and publisher as `npm start`, with the service clock moved by hand: a field is in
 * the feed until its due instant and gone from it then; the sweeper's `expire-fields` write is
 * published with `expired`, its fix of the `due` bound is not a change; a snapshot keeps each
 * value's expiries and takes records as they stood at its cut; a restore drops what is due by
 * its own time and keeps the other due instants.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DeleteTableCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { fromItem, keyOf, toItem } from '../../src/adapters/dynamodb/codec';
import { RECORDS_TABLE } from '../../src/adapters/dynamodb/table-defs';
import type { ChangeDetail } from '../../src/core/changes';
import { sweptState } from '../../src/core/field-expiry';
import { ensureTables } from '../../src/local/bootstrap-tables';
import { localClient } from '../../src/local/dynamodb-local';
import { FakeClock } from './contract/clock';
import { type TestFeed, testFeed } from './feed';
import { type Reply, endpoint, testApi, uniqueNs } from './harness';

jest.setTimeout(120_000);

const T0 = Date.parse('2093-04-01T00:00:00.000Z') + Math.floor(Math.random() * 1e6) * 1000;
const clock = new FakeClock(T0);
const iso = (ms: number) => new Date(ms).toISOString();

let feed: TestFeed;
beforeAll(async () => {
  feed = await testFeed({ clock });
});
afterAll(() => feed.close());

async function call(method: string, path: string, body?: unknown): Promise<Reply> {
  return feed.api.call(method, path, body === undefined ? {} : { body });
}

async function changes(ns: string): Promise<ChangeDetail[]> {
  const r = await call('GET', `/v1/ns/${ns}/changes?limit=1000`);
  expect(r.status).toBe(200);
  return r.body.items as ChangeDetail[];
}

/** Writes `state` as the sweeper does: the full item of an `expire-fields` write, rev + 1. */
async function sweep(ns: string, key: string): Promise<string[]> {
  const table = feed.env[RECORDS_TABLE.envVar];
  const got = await feed.api.client.send(new GetItemCommand({ TableName: table, Key: keyOf(ns, key) }));
  const swept = sweptState(fromItem(got.Item!), clock.t, 'local', clock.now().toISOString())!;
  await feed.api.client.send(
    new PutItemCommand({ TableName: table, Item: toItem(swept.state, 'expire-fields', swept.expired) }),
  );
  return swept.expired;
}

describe('the change feed', () => {
  test('a field is in GET /changes 1 ms before its due instant and absent at it; the bus gets it as of publishing', async () => {
    clock.t = T0;
    const ns = uniqueNs('fxc');
    const put = await call('PUT', `/v1/ns/${ns}/keys/k`, { fields: { qty: 1, code: 'x' }, expire: { code: 10 } });
    expect(put.status).toBe(201);
    const due = T0 + 10_000;
    await feed.poller.drain();
    const onBus = feed.events.filter((e) => e.namespace === ns);
    expect(onBus).toHaveLength(1);
    expect(onBus[0]).toMatchObject({ fields: { qty: 1, code: 'x' }, expires: { code: iso(due) } });

    clock.t = due - 1;
    const before = await changes(ns);
    expect(before[0]).toMatchObject({ change: 'put', fields: { qty: 1, code: 'x' }, expires: { code: iso(due) } });
    clock.t = due;
    const at = await changes(ns);
    expect(at[0].fields).toEqual({ qty: 1 });
    expect(at[0]).not.toHaveProperty('expires');
    expect(at[0].id).toBe(before[0].id);

    // Published after its field was due: the event leaves it out, the log still has it to show
    // to a reader whose clock is earlier (here, the same log read as of before the due instant).
    const late = await call('PUT', `/v1/ns/${ns}/keys/late`, { fields: { a: 1, b: 2 }, expire: { b: 1 } });
    expect(late.status).toBe(201);
    clock.t = due + 1000;
    await feed.poller.drain();
    const lateEvent = feed.events.find((e) => e.namespace === ns && e.key === 'late')!;
    expect(lateEvent.fields).toEqual({ a: 1 });
    expect(lateEvent).not.toHaveProperty('expires');
    clock.t = due;
    const kept = (await changes(ns)).find((c) => c.key === 'late')!;
    expect(kept).toMatchObject({ fields: { a: 1, b: 2 }, expires: { b: iso(due + 1000) } });
  });

  test("the sweeper's expire-fields write is published with expired; the due-bound fix is not a change", async () => {
    clock.t = T0 + 100_000;
    const ns = uniqueNs('fxs');
    expect(
      (await call('PUT', `/v1/ns/${ns}/keys/k`, { fields: { qty: 1, code: 'x' }, expire: { code: 5 } })).status,
    ).toBe(201);
    expect((await call('PUT', `/v1/ns/${ns}/keys/all`, { fields: { code: 'y' }, expire: { code: 5 } })).status).toBe(
      201,
    );
    clock.advance(5);
    expect(await sweep(ns, 'k')).toEqual(['code']);
    expect(await sweep(ns, 'all')).toEqual(['code']);
    await feed.poller.drain();
    const count = feed.events.filter((e) => e.namespace === ns).length;

    // The sweeper's fix of the due bound: an UpdateItem that changes neither rev nor op.
    const table = feed.env[RECORDS_TABLE.envVar];
    await feed.api.client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: keyOf(ns, 'k'),
        UpdateExpression: 'SET #d = :d',
        ExpressionAttributeNames: { '#d': 'due' },
        ExpressionAttributeValues: { ':d': { N: String(clock.t + 3_600_000) } },
      }),
    );
    await feed.poller.drain();
    const fix = feed.batches
      .flat()
      .find((r) => r.dynamodb?.Keys?.ns?.S === ns && r.dynamodb?.NewImage?.due?.N === String(clock.t + 3_600_000));
    expect(fix?.eventName).toBe('MODIFY');

    const items = await changes(ns);
    expect(items.map((c) => [c.key, c.rev, c.change])).toEqual([
      ['k', 1, 'put'],
      ['all', 1, 'put'],
      ['k', 2, 'expire-fields'],
      ['all', 2, 'expire-fields'],
    ]);
    expect(items[2]).toMatchObject({ fields: { qty: 1 }, expired: ['code'] });
    expect(items[2]).not.toHaveProperty('expires');
    expect(items[3]).toMatchObject({ expired: ['code'] });
    expect(items[3]).not.toHaveProperty('fields');
    const onBus = feed.events.filter((e) => e.namespace === ns);
    expect(onBus).toHaveLength(count);
    expect(new Set(onBus.map((e) => e.id)).size).toBe(4);
    expect(onBus.filter((e) => e.change === 'expire-fields')).toEqual(items.slice(2));
    for (const c of [...items, ...onBus]) expect('deadLetter' in c || 'fieldsOmitted' in c).toBe(false);
    const letters = await call('GET', '/v1/dead-letters?source=publisher');
    expect(letters.status).toBe(200);
    expect((letters.body.items as { item: { namespace?: string } }[]).filter((d) => d.item.namespace === ns)).toEqual(
      [],
    );
    // The record reads as the write left it; the one with nothing left is absent.
    expect((await call('GET', `/v1/ns/${ns}/keys/k`)).body).toMatchObject({ fields: { qty: 1 }, rev: 2 });
    expect((await call('GET', `/v1/ns/${ns}/keys/all`)).status).toBe(404);
  });
});

describe('snapshots and restores', () => {
  async function snapshot(ns: string) {
    const r = await call('POST', '/v1/snapshots', { namespace: ns });
    expect(r.status).toBe(202);
    await feed.api.workflows.settled();
    return (await call('GET', `/v1/snapshots/${r.body.id}`)).body;
  }

  async function restore(id: string, ns: string) {
    const r = await call('POST', `/v1/snapshots/${id}/restore`, { namespace: ns, mode: 'missing' });
    expect(r.status).toBe(202);
    await feed.api.workflows.settled();
    return (await call('GET', `/v1/restores/${r.body.id}`)).body;
  }

  test('a snapshot keeps expiries and leaves out what is due at its cut; a restore drops what is due by its own time', async () => {
    const start = T0 + 1_000_000;
    clock.t = start;
    const ns = uniqueNs('fxs');
    const w = async (key: string, fields: unknown, expire: unknown) =>
      expect((await call('PUT', `/v1/ns/${ns}/keys/${key}`, { fields, expire })).status).toBe(201);
    await w('keep', { qty: 1, code: 'x' }, { code: 60 });
    await w('only', { code: 'z' }, { code: 60 });
    await w('part', { a: 1, b: 2 }, { b: 1 });
    await w('gone', { b: 3 }, { b: 1 });
    // Due before the cut: `part` is exported without `b`, `gone` not at all.
    clock.advance(2);
    const snap = await snapshot(ns);
    expect(snap).toMatchObject({ status: 'COMPLETE', items: 3 });
    expect(Date.parse(snap.cut)).toBeGreaterThan(start + 1000);
    const lines = (snap.parts as { name: string }[]).flatMap((p) =>
      gunzipSync(readFileSync(join(feed.api.blobDir, 'snapshots', snap.id, p.name)))
        .toString('utf8')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l)),
    );
    const byKey = new Map(lines.map((l) => [l.key, l.siblings[0]]));
    expect([...byKey.keys()].sort()).toEqual(['keep', 'only', 'part']);
    expect(byKey.get('keep')).toMatchObject({ fields: { qty: 1, code: 'x' }, expires: { code: start + 60_000 } });
    expect(byKey.get('part').fields).toEqual({ a: 1 });
    expect(byKey.get('part')).not.toHaveProperty('expires');

    // Restored before the due instant: the expiry is kept, the same instant.
    const early = uniqueNs('fxr');
    expect(await restore(snap.id, early)).toMatchObject({ status: 'COMPLETE', written: 3, skipped: 0 });
    const kept = await call('GET', `/v1/ns/${early}/keys/keep`);
    expect(kept.body).toMatchObject({ fields: { qty: 1, code: 'x' }, expires: { code: iso(start + 60_000) } });

    // Restored at the due instant: the field is dropped, and a record with nothing left is skipped.
    clock.t = start + 60_000;
    const late = uniqueNs('fxr');
    expect(await restore(snap.id, late)).toMatchObject({ status: 'COMPLETE', written: 2, skipped: 1 });
    const dropped = await call('GET', `/v1/ns/${late}/keys/keep`);
    expect(dropped.body.fields).toEqual({ qty: 1 });
    expect(dropped.body).not.toHaveProperty('expires');
    expect((await call('GET', `/v1/ns/${late}/keys/only`)).status).toBe(404);
    expect((await call('GET', `/v1/ns/${late}/keys/part`)).body.fields).toEqual({ a: 1 });
  });

  test('another deployment imports such a snapshot (verified over its bytes) and restores the same due instants', async () => {
    const start = T0 + 2_000_000;
    clock.t = start;
    const ns = uniqueNs('fxi');
    const put = await call('PUT', `/v1/ns/${ns}/keys/k`, { fields: { qty: 1, code: 'x' }, expire: { code: 60 } });
    expect(put.status).toBe(201);
    const snap = await snapshot(ns);
    expect(snap).toMatchObject({ status: 'COMPLETE', items: 1 });
    const admin = localClient(endpoint());
    const tables = await ensureTables(admin, `vesta-fxi-${snap.id.slice(-8)}`);
    const other = testApi({ env: tables, clock });
    try {
      const imported = await other.call('POST', '/v1/snapshots/import', { body: { location: feed.api.blobDir } });
      expect(imported.status).toBe(200);
      expect(imported.body.items.map((m: { id: string }) => m.id)).toContain(snap.id);
      clock.t = start + 59_999;
      const r = await other.call('POST', `/v1/snapshots/${snap.id}/restore`, { body: { mode: 'missing' } });
      expect(r.status).toBe(202);
      await other.workflows.settled();
      expect((await other.call('GET', `/v1/restores/${r.body.id}`)).body).toMatchObject({ written: 1, skipped: 0 });
      const got = await other.call('GET', `/v1/ns/${ns}/keys/k`);
      expect(got.body).toMatchObject({ fields: { qty: 1, code: 'x' }, expires: { code: iso(start + 60_000) } });
      clock.t = start + 60_000;
      expect((await other.call('GET', `/v1/ns/${ns}/keys/k`)).body.fields).toEqual({ qty: 1 });
    } finally {
      other.close();
      for (const name of Object.values(tables))
        await admin.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
      admin.destroy();
    }
  });
});
