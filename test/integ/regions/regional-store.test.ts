/**
 * Vesta in three Regions on the global-tables stand-in (`replicator.ts`: three DynamoDB Locals,
 * asynchronous, last writer wins per item, partitions): the real API handler in each Region with
 * `VESTA_REGIONS`, so every Region writes only its own item of a key and reads join them all
 * (docs/regions.md). Shown: the request counts of a read and a write; concurrent writes in
 * partitioned Regions become siblings, or one winner everywhere; increments in every Region all
 * count; listings merge the Regions; and, as a property over random writers in every Region with
 * partitions that heal, every Region then serves the same records, no acknowledged value is lost
 * and every counter is the sum of its acknowledged increments.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { LocalEventBus } from '../../../src/adapters/events/local-bus';
import { RECORDS_TABLE } from '../../../src/adapters/dynamodb/table-defs';
import { wireChangePublisher, wireFieldSweeper } from '../../../src/api/wiring';
import type { ChangeDetail } from '../../../src/core/changes';
import fc from 'fast-check';
import { createApiHandler } from '../../../src/api/app';
import { wireApi } from '../../../src/api/wiring';
import { RequestCounter } from '../../../src/adapters/dynamodb/request-counter';
import { invoke } from '../../../src/local/server';
import { ALL_MACHINES } from '../../../src/sagas/state-machines';
import { replyOf } from '../harness';
import { publisherIn } from './publisher';
import { Replicator } from './replicator';

jest.setTimeout(180_000);

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];
const [US, EU, AP] = REGIONS;
const machines = Object.fromEntries(
  ALL_MACHINES.map(({ def }) => [def.envVar, `arn:aws:states:us-east-1:000000000000:stateMachine:${def.id}`]),
);

let rep: Replicator;
const handlers = new Map<string, ReturnType<typeof createApiHandler>>();
const counters = new Map<string, RequestCounter>();

beforeAll(async () => {
  rep = await Replicator.start({ regions: REGIONS, jitterMs: 5, seed: 11 });
  // A fresh DynamoDB Local answers its first requests slowly: one write in every Region, replicated.
  const table = rep.tables[RECORDS_TABLE.envVar];
  for (const r of REGIONS) {
    await rep.region(r).client.send(new PutItemCommand({ TableName: table, Item: { ns: { S: 'warm' }, k: { S: r } } }));
  }
  await rep.settle();
  for (const id of REGIONS) {
    const counter = new RequestCounter();
    counter.attach(rep.region(id).client);
    counters.set(id, counter);
    const env = { ...rep.tables, ...machines, VESTA_REPLICA: id, VESTA_REGIONS: REGIONS.join(',') };
    handlers.set(id, createApiHandler(wireApi({ client: rep.region(id).client, env })));
  }
}, 60_000);

afterAll(async () => {
  await rep?.stop();
});

afterEach(() => {
  rep.healAll();
});

interface Answer {
  status: number;
  body: any;
  text: string;
  etag?: string;
  region?: string;
}

async function call(
  region: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const h = body === undefined ? headers : { 'content-type': 'application/json', ...headers };
  // A string body is sent as it is (exact decimals); anything else as JSON.
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const r = replyOf(await invoke(handlers.get(region)!, method, path, h, Buffer.from(text)));
  return { status: r.status, body: r.body, text: r.text, etag: r.headers.etag, region: r.headers['x-vesta-region'] };
}

let nsCount = 0;
async function namespace(conflicts: 'reject' | 'siblings'): Promise<string> {
  const ns = `rg${process.pid % 1000}-${++nsCount}-${conflicts}`;
  // Namespace settings live in each Region's control table: set them in every Region.
  for (const r of REGIONS) expect((await call(r, 'PUT', `/v1/ns/${ns}`, { conflicts })).status).toBe(200);
  return ns;
}

/** What every Region reads of a key: status, record (without its time) and ETag. */
async function everywhere(ns: string, key: string) {
  return Promise.all(
    REGIONS.map(async (r) => {
      const a = await call(r, 'GET', `/v1/ns/${ns}/keys/${encodeURIComponent(key)}`);
      return { status: a.status, body: a.body, text: a.text, etag: a.etag };
    }),
  );
}

async function expectSameEverywhere(ns: string, key: string) {
  const [first, ...others] = await everywhere(ns, key);
  for (const o of others) expect(o).toEqual(first);
  return first;
}

test('a read is one request, a write two, in any Region; a record written in one Region reads the same in the others', async () => {
  const ns = await namespace('reject');
  const us = counters.get(US)!;
  expect(await us.count(() => call(US, 'PUT', `/v1/ns/${ns}/keys/cart`, { fields: { qty: 1 } }))).toBe(2);
  expect(await us.count(() => call(US, 'GET', `/v1/ns/${ns}/keys/cart`))).toBe(1);
  expect(await us.count(() => call(US, 'PATCH', `/v1/ns/${ns}/keys/cart`, { increment: { qty: 2 } }))).toBe(2);
  await rep.settle();
  const seen = await expectSameEverywhere(ns, 'cart');
  expect(seen).toMatchObject({ status: 200, body: { fields: { qty: 3 }, rev: 2, vv: { [US]: 2 } } });
  const eu = await call(EU, 'GET', `/v1/ns/${ns}/keys/cart`);
  expect(eu.region).toBe(EU);
});

test('concurrent PUTs in partitioned Regions: siblings in a siblings namespace, one winner everywhere in a reject one', async () => {
  for (const conflicts of ['siblings', 'reject'] as const) {
    const ns = await namespace(conflicts);
    rep.partition(US, EU);
    rep.partition(US, AP);
    rep.partition(EU, AP);
    expect((await call(US, 'PUT', `/v1/ns/${ns}/keys/k`, { fields: { v: 'us' } })).status).toBe(201);
    expect((await call(EU, 'PUT', `/v1/ns/${ns}/keys/k`, { fields: { v: 'eu' } })).status).toBe(201);
    rep.healAll();
    await rep.settle();
    const seen = await expectSameEverywhere(ns, 'k');
    expect(seen.body.rev).toBe(2);
    expect(seen.body.vv).toEqual({ [US]: 1, [EU]: 1 });
    if (conflicts === 'siblings') {
      expect(seen.body.siblings.map((s: { fields: { v: string } }) => s.fields.v).sort()).toEqual(['eu', 'us']);
      // A PUT with the ETag of that read replaces both, in any Region.
      const put = await call(AP, 'PUT', `/v1/ns/${ns}/keys/k`, { fields: { v: 'ap' } }, { 'if-match': seen.etag! });
      expect(put.status).toBe(200);
      await rep.settle();
      expect((await expectSameEverywhere(ns, 'k')).body).toMatchObject({ fields: { v: 'ap' }, rev: 3 });
    } else {
      expect(seen.body.fields).toEqual({ v: 'eu' }); // the later write
    }
  }
});

test('increments in every Region, partitioned, all count', async () => {
  const ns = await namespace('reject');
  rep.partition(US, EU);
  rep.partition(US, AP);
  rep.partition(EU, AP);
  const amounts = { [US]: ['5', '0.1'], [EU]: ['-2', '7'], [AP]: ['12345678901234567890.5', '1'] };
  for (const r of REGIONS) {
    for (const a of amounts[r]) {
      const res = await call(r, 'PATCH', `/v1/ns/${ns}/keys/hits`, `{"increment":{"n":${a}}}`);
      expect(res.status).toBeLessThan(300);
    }
  }
  rep.healAll();
  await rep.settle();
  const seen = await expectSameEverywhere(ns, 'hits');
  // Every digit: 5 + 0.1 − 2 + 7 + 12345678901234567890.5 + 1.
  expect(seen.text).toContain('"fields":{"n":12345678901234567901.6}');
  expect(seen.body.rev).toBe(6);
});

test('a listing merges every Region: each key once, in key order, as reads see it', async () => {
  const ns = await namespace('siblings');
  await call(US, 'PUT', `/v1/ns/${ns}/keys/b`, { fields: { v: 1 } });
  await call(EU, 'PUT', `/v1/ns/${ns}/keys/a`, { fields: { v: 2 } });
  await call(AP, 'PUT', `/v1/ns/${ns}/keys/c`, { fields: { v: 3 } });
  await rep.settle();
  await call(EU, 'DELETE', `/v1/ns/${ns}/keys/b`);
  await rep.settle();
  for (const r of REGIONS) {
    const page = await call(r, 'GET', `/v1/ns/${ns}/keys?limit=1&fields=true`);
    expect(page.body.items.map((x: { key: string }) => x.key)).toEqual(['a']);
    const rest = await call(r, 'GET', `/v1/ns/${ns}/keys?limit=10&cursor=${page.body.cursor}`);
    expect(rest.body.items.map((x: { key: string }) => x.key)).toEqual(['c']);
    expect(rest.body.cursor).toBeNull();
  }
});

test("a reject namespace's loser is published as a conflict change in the Region's feed, once, with its fields, before any write replaces it", async () => {
  // The change publisher of one Region (AP), on its own stream, as the stack runs it.
  const env = { ...rep.tables, VESTA_REPLICA: AP, VESTA_REGIONS: REGIONS.join(',') };
  const client = rep.region(AP).client;
  const bus = new LocalEventBus();
  const events: ChangeDetail[] = [];
  bus.subscribe((c) => events.push(c));
  const publisher = await publisherIn(rep, AP, wireChangePublisher({ client, env, bus }));
  try {
    const ns = await namespace('reject');
    rep.partition(US, EU);
    rep.partition(US, AP);
    rep.partition(EU, AP);
    await call(US, 'PUT', `/v1/ns/${ns}/keys/k`, { fields: { v: 'us' } });
    await call(EU, 'PUT', `/v1/ns/${ns}/keys/k`, { fields: { v: 'eu' } });
    rep.healAll();
    await rep.settle();
    const feedOnce = async (done: (feed: ChangeDetail[]) => boolean) => {
      const deadline = Date.now() + 20_000;
      let feed: ChangeDetail[] = [];
      while (Date.now() < deadline) {
        feed = (await call(AP, 'GET', `/v1/ns/${ns}/changes?limit=100`)).body.items;
        if (done(feed)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      return feed;
    };
    // No write replaced the loser yet: the replicated items alone make AP's publisher find it.
    const before = await feedOnce((f) => f.some((c) => c.change === 'conflict') && f.length >= 3);
    expect(before.filter((c) => c.change === 'conflict')).toMatchObject([
      { namespace: ns, key: 'k', fields: { v: 'us' }, vv: { [US]: 1, [EU]: 1 } },
    ]);
    // AP reads EU's value (the later one); its write replaces both and names US's as the loser
    // again: the same id, so the feed still has it once.
    expect((await call(AP, 'GET', `/v1/ns/${ns}/keys/k`)).body.fields).toEqual({ v: 'eu' });
    expect((await call(AP, 'PUT', `/v1/ns/${ns}/keys/k`, { fields: { v: 'ap' } })).status).toBe(200);
    await rep.settle();
    const feed = await feedOnce((f) => f.length >= 4);
    const conflicts = feed.filter((c) => c.change === 'conflict');
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({ namespace: ns, key: 'k', fields: { v: 'us' } });
    // Every write is in the feed once, in the record's namespace: US's, EU's and AP's puts.
    expect(
      feed
        .filter((c) => c.change === 'put')
        .map((c) => c.fields?.v)
        .sort(),
    ).toEqual(['ap', 'eu', 'us']);
    // Events may repeat a change (at least once); its id does not.
    expect(new Set(events.filter((e) => e.namespace === ns && e.change === 'conflict').map((e) => e.id)).size).toBe(1);
  } finally {
    await publisher.stop();
  }
});

test('a transaction in one Region: atomic there, its writes replicate, and concurrent increments elsewhere all count', async () => {
  const ns = await namespace('reject');
  for (const k of ['a', 'b']) await call(US, 'PUT', `/v1/ns/${ns}/keys/${k}`, { fields: { balance: 100 } });
  await rep.settle();
  rep.partition(US, EU);
  rep.partition(US, AP);
  const us = counters.get(US)!;
  const move = {
    ops: [
      { op: 'patch', key: 'a', increment: { balance: -30 } },
      { op: 'patch', key: 'b', increment: { balance: 30 } },
    ],
    require: [{ key: 'a', field: 'balance', op: '>=', value: 30 }],
  };
  // One BatchGetItem (2 keys in 3 Regions) and one TransactWriteItems.
  expect(await us.count(() => call(US, 'POST', `/v1/ns/${ns}/txn`, move))).toBe(2);
  // Meanwhile EU, cut off, deposits into a.
  expect((await call(EU, 'PATCH', `/v1/ns/${ns}/keys/a`, { increment: { balance: 5 } })).status).toBe(200);
  // A require that does not hold: 412, nothing written.
  const refused = await call(US, 'POST', `/v1/ns/${ns}/txn`, {
    ops: [{ op: 'patch', key: 'a', increment: { balance: -1000 } }],
    require: [{ key: 'a', field: 'balance', op: '>=', value: 1000 }],
  });
  expect(refused.status).toBe(412);
  expect(refused.body.failed).toEqual([0]);
  rep.healAll();
  await rep.settle();
  expect((await expectSameEverywhere(ns, 'a')).body.fields).toEqual({ balance: 75 });
  expect((await expectSameEverywhere(ns, 'b')).body.fields).toEqual({ balance: 130 });
  // A transaction that puts and deletes, in another Region.
  const done = await call(AP, 'POST', `/v1/ns/${ns}/txn`, {
    ops: [
      { op: 'put', key: 'c', fields: { from: 'ap' } },
      { op: 'delete', key: 'b' },
    ],
  });
  expect(done.status).toBe(200);
  await rep.settle();
  expect((await expectSameEverywhere(ns, 'b')).status).toBe(404);
  expect((await expectSameEverywhere(ns, 'c')).body.fields).toEqual({ from: 'ap' });
});

test('every Region sweeps its own items', async () => {
  const env = (id: string) => ({ ...rep.tables, ...machines, VESTA_REPLICA: id, VESTA_REGIONS: REGIONS.join(',') });
  // Every Region's sweeper runs (regional-sweep.test.ts shows what each sweeps): here nothing is
  // due, so each queries its index's shards and records its run.
  for (const id of REGIONS) {
    const { sweeper } = wireFieldSweeper({ client: rep.region(id).client, env: env(id) });
    expect(await sweeper.run()).toMatchObject({ swept: 0, itemsRead: 0, setAside: 0 });
  }
});

type Op =
  | { t: 'put'; r: number; k: number; ifMatch: boolean }
  | { t: 'del'; r: number; k: number }
  | { t: 'inc'; r: number; by: number }
  | { t: 'txn'; r: number; k: number; by: number }
  | { t: 'cut' | 'heal'; a: number; b: number };

const ix = fc.nat(REGIONS.length - 1);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('put' as const), r: ix, k: fc.nat(2), ifMatch: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('del' as const), r: ix, k: fc.nat(2) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('inc' as const), r: ix, by: fc.integer({ min: -50, max: 50 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('txn' as const),
      r: ix,
      k: fc.nat(2),
      by: fc.integer({ min: -50, max: 50 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constantFrom('cut' as const, 'heal' as const), a: ix, b: ix }) },
);

/** The value ids (`w`) a record shows: its one value's, or every sibling's. */
const idsOf = (body: any): string[] =>
  !body || body.status ? [] : body.siblings ? body.siblings.map((s: any) => s.fields.w) : [body.fields.w];

let histories = 0;
test('random writers in every Region with partitions that heal: same records everywhere, no value lost, counters exact', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('siblings' as const, 'reject' as const),
      fc.array(op, { minLength: 10, maxLength: 30, size: 'max' }),
      async (conflicts, ops) => {
        histories += 1;
        const ns = await namespace(conflicts);
        const acked: string[] = [];
        const replaced = new Set<string>();
        let sum = 0;
        let n = 0;
        for (const o of ops) {
          if ('a' in o) {
            if (o.a !== o.b) rep[o.t === 'cut' ? 'partition' : 'heal'](REGIONS[o.a], REGIONS[o.b]);
            continue;
          }
          const r = REGIONS[o.r];
          if (o.t === 'inc') {
            const res = await call(r, 'PATCH', `/v1/ns/${ns}/keys/hits`, { increment: { n: o.by } });
            expect(res.status).toBeLessThan(300);
            sum += o.by;
            continue;
          }
          if (o.t === 'txn') {
            // A value and an increment together, all or nothing in the Region (a blind put).
            const w = `${r}#${++n}`;
            const res = await call(r, 'POST', `/v1/ns/${ns}/txn`, {
              ops: [
                { op: 'put', key: `k${o.k}`, fields: { w } },
                { op: 'patch', key: 'hits', increment: { n: o.by } },
              ],
            });
            expect(res.status).toBe(200);
            acked.push(w);
            sum += o.by;
            continue;
          }
          const path = `/v1/ns/${ns}/keys/k${o.k}`;
          // What the writer saw, when it writes with the ETag of its read: the values it replaces.
          const read = o.t === 'del' || o.ifMatch ? await call(r, 'GET', path) : undefined;
          const headers: Record<string, string> = read?.etag ? { 'if-match': read.etag } : {};
          if (o.t === 'del') {
            if (!read?.etag) continue;
            const res = await call(r, 'DELETE', path, undefined, headers);
            expect([204, 412]).toContain(res.status);
            if (res.status === 204) for (const id of idsOf(read.body)) replaced.add(id);
            continue;
          }
          const w = `${r}#${++n}`;
          const res = await call(r, 'PUT', path, { fields: { w } }, headers);
          expect([200, 201, 412]).toContain(res.status);
          if (res.status === 412) continue;
          acked.push(w);
          if (read?.etag) for (const id of idsOf(read.body)) replaced.add(id);
        }
        rep.healAll();
        await rep.settle();
        const finalIds = new Set<string>();
        for (const k of ['k0', 'k1', 'k2', 'hits']) {
          const seen = await expectSameEverywhere(ns, k);
          if (seen.status === 200)
            expect(seen.body.rev).toBe(
              Object.values(seen.body.vv as Record<string, number>).reduce((a, b) => a + b, 0),
            );
          if (k !== 'hits') for (const id of idsOf(seen.body)) finalIds.add(id);
          else if (sum !== 0 || seen.status === 200) expect(seen.body.fields.n).toBe(sum);
        }
        if (conflicts === 'siblings') {
          // Kept, or replaced by a write that had read it; a blind PUT replaces nothing here.
          for (const w of acked) expect({ w, kept: finalIds.has(w) || replaced.has(w) }).toEqual({ w, kept: true });
        }
      },
    ),
    { numRuns: Number(process.env.VESTA_REGION_HISTORIES ?? 8), seed: 20261207, endOnFailure: true },
  );
  console.log(`regions (3 DynamoDB Locals, replicated): ${histories} generated histories of 10 to 30 operations`);
});
