/**
 * The global-tables stand-in (`replicator.ts`) on three DynamoDB Locals: delayed delivery, last
 * writer wins on the whole item (and the silent loss of the other write), deletes, convergence
 * of random writers with partitions, no echo, and Vesta's own handler writing in one Region and
 * reading in another.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { createApiHandler } from '../../../src/api/app';
import { wireApi } from '../../../src/api/wiring';
import { RECORDS_TABLE } from '../../../src/adapters/dynamodb/table-defs';
import { invoke } from '../../../src/local/server';
import { ALL_MACHINES } from '../../../src/sagas/state-machines';
import { type Item, Replicator } from './replicator';

const [US, EU, AP] = ['us-east-1', 'eu-west-1', 'ap-south-1'];
let rep: Replicator;
let table: string;

beforeAll(async () => {
  rep = await Replicator.start({ regions: [US, EU, AP], jitterMs: 10, seed: 7 });
  table = rep.tables[RECORDS_TABLE.envVar];
  // A fresh DynamoDB Local answers its first requests slowly: warm every Region up before timing.
  for (const r of rep.regionIds) await put(r, 'warm', r, 'up');
  await rep.settle();
}, 60000);

afterAll(async () => {
  await rep?.stop();
});

afterEach(() => {
  rep.healAll();
  for (const r of rep.regionIds) rep.release(r);
  for (const a of rep.regionIds) for (const b of rep.regionIds) if (a !== b) rep.setDelay(a, b, 0);
});

const key = (ns: string, k: string): Item => ({ ns: { S: ns }, k: { S: k } });
const put = (region: string, ns: string, k: string, v: string) =>
  rep.region(region).client.send(new PutItemCommand({ TableName: table, Item: { ...key(ns, k), v: { S: v } } }));
const del = (region: string, ns: string, k: string) =>
  rep.region(region).client.send(new DeleteItemCommand({ TableName: table, Key: key(ns, k) }));
const get = async (region: string, ns: string, k: string) =>
  (
    await rep
      .region(region)
      .client.send(new GetItemCommand({ TableName: table, Key: key(ns, k), ConsistentRead: true }))
  ).Item;
const byKey = (x: Item, y: Item) => (x.k.S! < y.k.S! ? -1 : x.k.S! > y.k.S! ? 1 : 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the replicator has read `n` more local writes than `from`. */
async function readLocal(from: number, n = 1): Promise<void> {
  const deadline = Date.now() + 5000;
  while (rep.stats.local < from + n) {
    if (Date.now() > deadline) throw new Error('the replicator did not read the write');
    await sleep(2);
  }
}

async function expectSameEverywhere(): Promise<void> {
  const [us, ...others] = await Promise.all(rep.regionIds.map((r) => rep.scan(r)));
  for (const o of others) expect(o).toEqual(us);
}

test('a write in one Region reaches another after the link delay, not before', async () => {
  rep.setDelay(US, EU, 600);
  const start = Date.now();
  await put(US, 'delay', 'k', 'one');
  // Read in EU until it is there: every read that answers within the delay finds nothing.
  let arrived = 0;
  let missed = 0;
  while (!arrived && Date.now() - start < 10000) {
    const item = await get(EU, 'delay', 'k');
    const at = Date.now() - start;
    if (item) arrived = at;
    else {
      missed = at;
      await sleep(10);
    }
  }
  expect(missed).toBeGreaterThan(0);
  expect(arrived).toBeGreaterThanOrEqual(600);
  // Generous: DynamoDB Local answers slowly on a loaded machine.
  expect(arrived).toBeLessThan(8000);
  expect((await get(EU, 'delay', 'k'))?.v).toEqual({ S: 'one' });
  await rep.settle();
  await expectSameEverywhere();
});

test('concurrent writes in two partitioned Regions settle on the later one everywhere; the other is gone', async () => {
  rep.partition(US, EU);
  const dropped = rep.stats.dropped;
  let local = rep.stats.local;
  await put(US, 'lww', 'k', 'from-us');
  await readLocal(local);
  local = rep.stats.local;
  await put(EU, 'lww', 'k', 'from-eu');
  await readLocal(local);
  // Each side holds its own write while the partition lasts.
  await sleep(100);
  expect((await get(US, 'lww', 'k'))?.v).toEqual({ S: 'from-us' });
  expect((await get(EU, 'lww', 'k'))?.v).toEqual({ S: 'from-eu' });
  rep.heal(US, EU);
  await rep.settle();
  for (const r of rep.regionIds) expect(await get(r, 'lww', 'k')).toEqual({ ...key('lww', 'k'), v: { S: 'from-eu' } });
  // The earlier write was dropped without trace: no Region holds it and nothing reports it.
  for (const r of rep.regionIds) expect(JSON.stringify(await rep.scan(r))).not.toContain('from-us');
  expect(rep.stats.dropped).toBeGreaterThan(dropped);
  await expectSameEverywhere();
});

test('a local write the replicator has not read yet beats an incoming version it read before', async () => {
  rep.hold(EU);
  const dropped = rep.stats.dropped;
  await put(EU, 'race', 'k', 'eu-unread');
  const local = rep.stats.local;
  await put(US, 'race', 'k', 'us-read-first');
  await readLocal(local);
  const deadline = Date.now() + 5000;
  while (rep.stats.dropped === dropped && Date.now() < deadline) await sleep(5);
  // Written conditionally on the version the replicator knows in EU (none): refused, dropped.
  expect(rep.stats.dropped).toBe(dropped + 1);
  expect((await get(EU, 'race', 'k'))?.v).toEqual({ S: 'eu-unread' });
  rep.release(EU);
  await rep.settle();
  for (const r of rep.regionIds) expect((await get(r, 'race', 'k'))?.v).toEqual({ S: 'eu-unread' });
  await expectSameEverywhere();
});

test('a delete replicates', async () => {
  await put(US, 'del', 'k', 'v');
  await rep.settle();
  for (const r of rep.regionIds) expect(await get(r, 'del', 'k')).toBeDefined();
  await del(EU, 'del', 'k');
  await rep.settle();
  for (const r of rep.regionIds) expect(await get(r, 'del', 'k')).toBeUndefined();
  await expectSameEverywhere();
});

test('no write echoes back: one PutItem per other Region, none to the writer', async () => {
  await rep.settle();
  const before = structuredClone(rep.stats);
  await put(AP, 'echo', 'k', 'once');
  await rep.settle();
  await sleep(100);
  await rep.settle();
  const delta = (r: string) => rep.stats.puts[r] - before.puts[r];
  expect([delta(US), delta(EU), delta(AP)]).toEqual([1, 1, 0]);
  expect(rep.stats.local - before.local).toBe(1);
  expect(rep.stats.echoes - before.echoes).toBe(2);
  expect(rep.stats.dropped).toBe(before.dropped);
});

type Step =
  | { readonly op: 'put'; readonly region: number; readonly k: string; readonly v: number }
  | { readonly op: 'delete'; readonly region: number; readonly k: string }
  | { readonly op: 'partition' | 'heal'; readonly a: number; readonly b: number }
  | { readonly op: 'hold' | 'release'; readonly region: number }
  | { readonly op: 'pause'; readonly ms: number };

const region = fc.integer({ min: 0, max: 2 });
const keyName = fc.constantFrom('k1', 'k2', 'k3');
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('put' as const), region, k: keyName, v: fc.nat(1000) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), region, k: keyName }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constantFrom('partition' as const, 'heal' as const), a: region, b: region }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('hold' as const, 'release' as const), region }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 30 }) }) },
);

test('three Regions with random writers, partitions and unread writes converge on the last writer everywhere', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { minLength: 5, maxLength: 25 }),
      fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 6, maxLength: 6 }),
      async (steps, delays) => {
        const ns = `rnd-${run++}`;
        const ids = rep.regionIds;
        let i = 0;
        for (const a of ids) for (const b of ids) if (a !== b) rep.setDelay(a, b, delays[i++], true);
        for (const s of steps) {
          if (s.op === 'put') await put(ids[s.region], ns, s.k, String(s.v));
          else if (s.op === 'delete') await del(ids[s.region], ns, s.k);
          else if (s.op === 'pause') await sleep(s.ms);
          else if ('region' in s) rep[s.op](ids[s.region]);
          else if (s.a !== s.b) rep[s.op](ids[s.a], ids[s.b]);
        }
        rep.healAll();
        for (const r of ids) rep.release(r);
        await rep.settle();
        await expectSameEverywhere();
        // Each item is the local write with the latest timestamp, as last writer wins picks.
        const latest = new Map<string, Item | null>();
        for (const c of rep.history) if (c.key.ns.S === ns) latest.set(c.key.k.S!, c.image);
        const final = (await rep.scan(US)).filter((item) => item.ns.S === ns);
        expect(final).toEqual([...latest.values()].filter((image) => image !== null).sort(byKey));
      },
    ),
    { numRuns: 6, seed: 20261207 },
  );
}, 40000);

/** State machine ARNs the handler wants at hand (no saga or snapshot starts here). */
const machines = Object.fromEntries(
  ALL_MACHINES.map(({ def }) => [def.envVar, `arn:aws:states:us-east-1:000000000000:stateMachine:${def.id}`]),
);

test("a record written through Vesta's handler in one Region reads back through another Region's handler", async () => {
  const handler = (id: string) =>
    createApiHandler(
      wireApi({ client: rep.region(id).client, env: { ...rep.tables, ...machines, VESTA_REPLICA: id } }),
    );
  const [us, eu] = [handler(US), handler(EU)];
  rep.setDelay(US, EU, 100);
  const body = Buffer.from(JSON.stringify({ fields: { qty: 3, sku: 'A1' } }));
  const wrote = await invoke(us, 'PUT', '/v1/ns/shop/keys/cart/42', { 'content-type': 'application/json' }, body);
  expect(wrote.statusCode).toBe(201);
  expect((await invoke(eu, 'GET', '/v1/ns/shop/keys/cart/42', {}, Buffer.alloc(0))).statusCode).toBe(404);
  await rep.settle();
  const read = await invoke(eu, 'GET', '/v1/ns/shop/keys/cart/42', {}, Buffer.alloc(0));
  expect(read.statusCode).toBe(200);
  expect(read.headers?.['X-Vesta-Region'] ?? read.headers?.['x-vesta-region']).toBe(EU);
  const record = JSON.parse(read.body ?? '{}');
  expect(record).toMatchObject({ namespace: 'shop', key: 'cart/42', fields: { qty: 3, sku: 'A1' }, rev: 1 });
  expect(record.vv).toEqual({ [US]: 1 });
  expect(read.headers?.etag ?? read.headers?.ETag).toBe(wrote.headers?.etag ?? wrote.headers?.ETag);
  // And back: a PATCH in EU reaches US.
  const patch = Buffer.from(JSON.stringify({ increment: { qty: 1 } }));
  const patched = await invoke(eu, 'PATCH', '/v1/ns/shop/keys/cart/42', { 'content-type': 'application/json' }, patch);
  expect(patched.statusCode).toBe(200);
  await rep.settle();
  const back = await invoke(us, 'GET', '/v1/ns/shop/keys/cart/42', {}, Buffer.alloc(0));
  expect(JSON.parse(back.body ?? '{}')).toMatchObject({ fields: { qty: 4, sku: 'A1' }, rev: 2 });
  // A delete leaves a tombstone (its fields an empty map, which DynamoDB Local's stream writes
  // as a bare {}): it replicates, and its copy is not taken for a local write.
  const echoes = rep.stats.echoes;
  expect((await invoke(us, 'DELETE', '/v1/ns/shop/keys/cart/42', {}, Buffer.alloc(0))).statusCode).toBe(204);
  await rep.settle();
  expect((await invoke(eu, 'GET', '/v1/ns/shop/keys/cart/42', {}, Buffer.alloc(0))).statusCode).toBe(404);
  expect(rep.stats.echoes - echoes).toBe(2);
  await expectSameEverywhere();
});
