/**
 * The field sweeper in three Regions on the global-tables stand-in (`replicator.ts`), with one
 * clock moved by hand: every Region's sweeper runs and sweeps only its own items; of the Regions
 * whose items hold a due field, only the writer of the newest value with a due field writes the
 * removal (an `expire-fields` write of its own item, under new dots); the removal replicates, every
 * Region then reads the same record, and each Region's change publisher publishes it once with
 * `expired`. What each run sends is counted on a client of its own. Cut off past the take-over
 * delay, two Regions both sweep one value (siblings mode keeps both results, equal).
 */
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { FIELD_EXPIRY_SHARDS } from '../../../src/adapters/dynamodb/codec';
import type { FieldSweeper } from '../../../src/adapters/dynamodb/field-sweeper';
import { RequestCounter } from '../../../src/adapters/dynamodb/request-counter';
import { RECORDS_TABLE } from '../../../src/adapters/dynamodb/table-defs';
import { LocalEventBus } from '../../../src/adapters/events/local-bus';
import { createApiHandler } from '../../../src/api/app';
import { wireApi, wireChangePublisher, wireFieldSweeper } from '../../../src/api/wiring';
import type { ChangeDetail } from '../../../src/core/changes';
import { SWEEP_TAKEOVER_MS } from '../../../src/core/regions/sweep';
import { localClient } from '../../../src/local/dynamodb-local';
import { invoke } from '../../../src/local/server';
import { ALL_MACHINES } from '../../../src/sagas/state-machines';
import { FakeClock } from '../contract/clock';
import { replyOf } from '../harness';
import { type RegionPublisher, publisherIn } from './publisher';
import { Replicator } from './replicator';

jest.setTimeout(120_000);

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];
const [US, EU, AP] = REGIONS;
const machines = Object.fromEntries(
  ALL_MACHINES.map(({ def }) => [def.envVar, `arn:aws:states:us-east-1:000000000000:stateMachine:${def.id}`]),
);
const env = (id: string) => ({ ...rep.tables, ...machines, VESTA_REPLICA: id, VESTA_REGIONS: REGIONS.join(',') });

const clock = new FakeClock(Date.parse('2031-01-01T00:00:00.000Z'));
let rep: Replicator;
const handlers = new Map<string, ReturnType<typeof createApiHandler>>();
/** Each Region's sweeper, on a client of its own whose requests are counted. */
const sweepers = new Map<string, FieldSweeper>();
const counters = new Map<string, RequestCounter>();
const sweeperClients: DynamoDBClient[] = [];
const publishers: RegionPublisher[] = [];

beforeAll(async () => {
  rep = await Replicator.start({ regions: REGIONS, jitterMs: 3, seed: 5 });
  const table = rep.tables[RECORDS_TABLE.envVar];
  for (const r of REGIONS) {
    await rep.region(r).client.send(new PutItemCommand({ TableName: table, Item: { ns: { S: 'warm' }, k: { S: r } } }));
  }
  await rep.settle();
  for (const id of REGIONS) {
    const client = rep.region(id).client;
    handlers.set(id, createApiHandler(wireApi({ client, env: env(id), clock })));
    const own = localClient(rep.region(id).endpoint);
    sweeperClients.push(own);
    const counter = new RequestCounter();
    counter.attach(own);
    counters.set(id, counter);
    sweepers.set(id, wireFieldSweeper({ client: own, env: env(id), clock }).sweeper);
    // Each Region's change publisher on its own stream, as the stack runs it.
    publishers.push(
      await publisherIn(rep, id, wireChangePublisher({ client, env: env(id), clock, bus: new LocalEventBus() })),
    );
  }
}, 60_000);

afterAll(async () => {
  for (const p of publishers) await p.stop();
  for (const c of sweeperClients) c.destroy();
  await rep?.stop();
});

afterEach(() => rep.healAll());

async function call(region: string, method: string, path: string, body?: unknown) {
  const h: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  const text = body === undefined ? '' : JSON.stringify(body);
  const r = replyOf(await invoke(handlers.get(region)!, method, path, h, Buffer.from(text)));
  return { status: r.status, body: r.body, etag: r.headers.etag };
}

let nsCount = 0;
async function namespace(conflicts: 'reject' | 'siblings'): Promise<string> {
  const ns = `sw${process.pid % 1000}-${++nsCount}-${conflicts}`;
  for (const r of REGIONS) expect((await call(r, 'PUT', `/v1/ns/${ns}`, { conflicts })).status).toBe(200);
  return ns;
}

/** Every Region reads the key the same; returns that read. `rev` is the sum of `vv`. */
async function sameEverywhere(ns: string, key: string) {
  const reads = await Promise.all(REGIONS.map((r) => call(r, 'GET', `/v1/ns/${ns}/keys/${key}`)));
  for (const o of reads.slice(1)) expect(o).toEqual(reads[0]);
  const body = reads[0].body;
  if (reads[0].status === 200)
    expect(body.rev).toBe(Object.values(body.vv as Record<string, number>).reduce((a, b) => a + b, 0));
  return reads[0];
}

/** One sweeper run in `region`: its result and the requests it sent, by command. */
async function sweep(region: string) {
  const counter = counters.get(region)!;
  counter.reset();
  const result = await sweepers.get(region)!.run();
  return { result, requests: counter.snapshot() };
}

/** The Region's change feed of `ns`, once it holds what `done` wants (or after 20 s). */
async function feed(region: string, ns: string, done: (f: ChangeDetail[]) => boolean): Promise<ChangeDetail[]> {
  const deadline = Date.now() + 20_000;
  let items: ChangeDetail[] = [];
  while (Date.now() < deadline) {
    items = (await call(region, 'GET', `/v1/ns/${ns}/changes?limit=100`)).body.items;
    if (done(items)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return items;
}

const expireFields = (f: ChangeDetail[]) => f.filter((c) => c.change === 'expire-fields');

test('a field written in EU is swept by EU alone after its due time: 1 BatchGetItem and 1 PutItem, replicated, published everywhere', async () => {
  const ns = await namespace('reject');
  const put = await call(EU, 'PUT', `/v1/ns/${ns}/keys/k`, { fields: { a: 1, tmp: 'x' }, expire: { tmp: 60 } });
  expect(put.status).toBe(201);
  await rep.settle();
  // Nothing due yet: every Region queries its index shards and records its run, nothing more.
  for (const r of REGIONS) {
    const { result, requests } = await sweep(r);
    expect(result).toMatchObject({ swept: 0, itemsRead: 0 });
    expect(requests.byCommand).toEqual({ QueryCommand: FIELD_EXPIRY_SHARDS, PutItemCommand: 1 });
  }
  clock.advance(61);
  // Invisible from its due time, before any sweep.
  expect((await sameEverywhere(ns, 'k')).body).toMatchObject({ fields: { a: 1 }, rev: 1 });
  // US and AP find EU's item in their index (replicated) and skip it: not theirs.
  for (const r of [US, AP]) {
    const { result, requests } = await sweep(r);
    expect(result).toMatchObject({ swept: 0, itemsRead: 1 });
    expect(requests.byCommand).toEqual({ QueryCommand: FIELD_EXPIRY_SHARDS, PutItemCommand: 1 });
  }
  // EU: its index entry, then the key's items of every Region (only EU's exists) in one
  // BatchGetItem, then one conditional PutItem of its own item (and its run's record).
  const eu = await sweep(EU);
  expect(eu.result).toMatchObject({ swept: 1, fieldsRemoved: 1, itemsRead: 2, lagSeconds: 1, setAside: 0 });
  expect(eu.requests.byCommand).toEqual({
    QueryCommand: FIELD_EXPIRY_SHARDS,
    BatchGetItemCommand: 1,
    PutItemCommand: 2,
  });
  await rep.settle();
  const after = await sameEverywhere(ns, 'k');
  expect(after.body).toMatchObject({ fields: { a: 1 }, rev: 2, vv: { [EU]: 2 } });
  expect(after.body.expires).toBeUndefined();
  // The removal is in every Region's feed once, with the same id.
  const ids = new Set<string>();
  for (const r of REGIONS) {
    const swept = expireFields(await feed(r, ns, (f) => expireFields(f).length > 0));
    expect(swept).toHaveLength(1);
    expect(swept[0]).toMatchObject({ key: 'k', rev: 2, expired: ['tmp'], fields: { a: 1 } });
    ids.add(swept[0].id);
  }
  expect(ids.size).toBe(1);
  // Nothing is due any more anywhere: no Region reads a record again.
  for (const r of REGIONS) expect((await sweep(r)).result).toMatchObject({ swept: 0, itemsRead: 0 });
});

test('fields due in values from two Regions: each value swept by its writer once due, the other Region writes no removal', async () => {
  const ns = await namespace('siblings');
  rep.partition(US, EU);
  expect((await call(US, 'PUT', `/v1/ns/${ns}/keys/k`, { fields: { u: 1, tu: 'x' }, expire: { tu: 60 } })).status).toBe(
    201,
  );
  clock.advance(1);
  expect(
    (await call(EU, 'PUT', `/v1/ns/${ns}/keys/k`, { fields: { e: 1, te: 'y' }, expire: { te: 120 } })).status,
  ).toBe(201);
  rep.healAll();
  await rep.settle();
  expect((await sameEverywhere(ns, 'k')).body.siblings).toHaveLength(2);
  // US's value is due first: US sweeps it; EU's item holds no due field yet.
  clock.advance(60);
  const us = await sweep(US);
  expect(us.result).toMatchObject({ swept: 1, fieldsRemoved: 1 });
  expect(us.requests.byCommand.BatchGetItemCommand).toBe(1);
  await rep.settle();
  let seen = await sameEverywhere(ns, 'k');
  expect(seen.body.siblings.map((s: { fields: object }) => s.fields)).toEqual(
    expect.arrayContaining([{ u: 1 }, { e: 1, te: 'y' }]),
  );
  expect(seen.body.vv).toEqual({ [US]: 2, [EU]: 1 });
  // EU's value is due: US's item now holds it too (its sweep covered everything it read), but EU
  // wrote it, so EU sweeps; US reads the record and leaves it alone.
  clock.advance(60);
  const waiting = await sweep(US);
  expect(waiting.result).toMatchObject({ swept: 0 });
  expect(waiting.requests.byCommand).toEqual({
    QueryCommand: FIELD_EXPIRY_SHARDS,
    BatchGetItemCommand: 1,
    PutItemCommand: 1,
  });
  const eu = await sweep(EU);
  expect(eu.result).toMatchObject({ swept: 1, fieldsRemoved: 1 });
  await rep.settle();
  seen = await sameEverywhere(ns, 'k');
  expect(seen.body.siblings.map((s: { fields: object }) => s.fields)).toEqual(
    expect.arrayContaining([{ u: 1 }, { e: 1 }]),
  );
  expect(seen.body.siblings).toHaveLength(2);
  expect(seen.body.vv).toEqual({ [US]: 2, [EU]: 2 });
  // With the removal replicated, US has nothing due: it removes its own item's bound (an
  // UpdateItem, no new rev), and afterwards no Region finds the key again.
  const fixed = await sweep(US);
  expect(fixed.result).toMatchObject({ swept: 0 });
  expect(fixed.requests.byCommand).toEqual({
    QueryCommand: FIELD_EXPIRY_SHARDS,
    BatchGetItemCommand: 1,
    UpdateItemCommand: 1,
    PutItemCommand: 1,
  });
  await rep.settle();
  for (const r of REGIONS) expect((await sweep(r)).result).toMatchObject({ swept: 0, itemsRead: 0 });
  expect((await sameEverywhere(ns, 'k')).body.vv).toEqual({ [US]: 2, [EU]: 2 });
  const swept = expireFields(await feed(AP, ns, (f) => expireFields(f).length >= 2));
  expect(swept.map((c) => [c.rev, c.expired])).toEqual([
    [3, ['tu']],
    [4, ['te']],
  ]);
});

test('a counter field with an expiry: increments from every Region count until it is due, then it is gone, and counts anew', async () => {
  const ns = await namespace('reject');
  await call(US, 'PUT', `/v1/ns/${ns}/keys/c`, { fields: { name: 'c', n: 5 }, expire: { n: 60 } });
  await rep.settle();
  expect((await call(EU, 'PATCH', `/v1/ns/${ns}/keys/c`, { increment: { n: 3 } })).status).toBe(200);
  expect((await call(AP, 'PATCH', `/v1/ns/${ns}/keys/c`, { increment: { n: 2 } })).status).toBe(200);
  await rep.settle();
  expect((await sameEverywhere(ns, 'c')).body).toMatchObject({ fields: { name: 'c', n: 10 }, rev: 3 });
  clock.advance(61);
  expect((await sameEverywhere(ns, 'c')).body.fields).toEqual({ name: 'c' });
  // The value is US's: EU and AP skip or wait, US sweeps.
  for (const r of [EU, AP]) expect((await sweep(r)).result).toMatchObject({ swept: 0 });
  expect((await sweep(US)).result).toMatchObject({ swept: 1, fieldsRemoved: 1 });
  await rep.settle();
  const after = await sameEverywhere(ns, 'c');
  expect(after.body).toMatchObject({ fields: { name: 'c' }, rev: 4 });
  // The increments so far went with the field: a new one counts from nothing.
  expect((await call(EU, 'PATCH', `/v1/ns/${ns}/keys/c`, { increment: { n: 4 } })).status).toBe(200);
  await rep.settle();
  expect((await sameEverywhere(ns, 'c')).body).toMatchObject({ fields: { name: 'c', n: 4 }, rev: 5 });
  const swept = expireFields(await feed(EU, ns, (f) => expireFields(f).length > 0));
  expect(swept).toMatchObject([{ key: 'c', rev: 4, expired: ['n'], fields: { name: 'c' } }]);
});

test('an increment of a due counter field counts from nothing, as in one Region, and no sweep takes it', async () => {
  const ns = await namespace('reject');
  await call(US, 'PUT', `/v1/ns/${ns}/keys/c`, { fields: { name: 'c', n: 5 }, expire: { n: 60 } });
  await rep.settle();
  clock.advance(61);
  const inc = await call(EU, 'PATCH', `/v1/ns/${ns}/keys/c`, { increment: { n: 4 } });
  expect(inc.status).toBe(200);
  expect(inc.body.fields).toEqual({ name: 'c', n: 4 });
  await rep.settle();
  expect((await sameEverywhere(ns, 'c')).body).toMatchObject({ fields: { name: 'c', n: 4 }, rev: 2 });
  // EU's value replaced US's, and nothing of it is due: no Region writes a removal.
  for (const r of REGIONS) expect((await sweep(r)).result).toMatchObject({ swept: 0, fieldsRemoved: 0 });
  await rep.settle();
  expect((await sameEverywhere(ns, 'c')).body).toMatchObject({ fields: { name: 'c', n: 4 }, rev: 2 });
});

test('cut off past the take-over delay, the writer and a Region holding its value both sweep it: two equal siblings, nothing lost', async () => {
  const ns = await namespace('siblings');
  await call(EU, 'PUT', `/v1/ns/${ns}/keys/p`, { fields: { e: 1, te: 'y' }, expire: { te: 60 } });
  await rep.settle();
  // An increment in the US: its item holds EU's value as it is (and so its due bound).
  expect((await call(US, 'PATCH', `/v1/ns/${ns}/keys/p`, { increment: { n: 2 } })).status).toBe(200);
  await rep.settle();
  rep.partition(US, EU);
  rep.partition(EU, AP);
  clock.advance(61);
  // EU is the one: the US waits while the delay runs.
  expect((await sweep(US)).result).toMatchObject({ swept: 0 });
  expect((await sweep(EU)).result).toMatchObject({ swept: 1, fieldsRemoved: 1 });
  clock.advance(SWEEP_TAKEOVER_MS / 1000);
  // EU's removal has not reached the US: past the delay, the US sweeps the value too.
  expect((await sweep(US)).result).toMatchObject({ swept: 1, fieldsRemoved: 1 });
  rep.healAll();
  await rep.settle();
  const seen = await sameEverywhere(ns, 'p');
  expect(seen.body.siblings.map((s: { fields: object }) => s.fields)).toEqual([
    { e: 1, n: 2 },
    { e: 1, n: 2 },
  ]);
  expect(seen.body.vv).toEqual({ [EU]: 2, [US]: 2 });
});
