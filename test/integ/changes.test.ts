/**
 * Change events and the changes endpoint, on DynamoDB Local's real stream read by the same poller
 * and publisher as `npm start`.
 */
import { type AttributeValue, DescribeTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { wireChangePublisher } from '../../src/api/wiring';
import { LocalEventBus } from '../../src/adapters/events/local-bus';
import { type BatchResult, publishBatch } from '../../src/events/publisher';
import { LOCAL_CREDENTIALS, localClient } from '../../src/local/dynamodb-local';
import { StreamPoller } from '../../src/local/stream-poller';
import type { ChangeDetail } from '../../src/core/changes';
import { CHANGES_TABLE, RECORDS_TABLE } from '../../src/adapters/dynamodb/table-defs';
import { HEAD_SEQ } from '../../src/adapters/dynamodb/change-log';
import { type TestFeed, testFeed } from './feed';
import { endpoint, testApi, uniqueNs } from './harness';

let feed: TestFeed;
beforeAll(async () => {
  feed = await testFeed();
});
afterAll(() => feed.close());

type Page = { items: ChangeDetail[]; cursor: string };
const changes = async (ns: string, query = ''): Promise<Page> => {
  const r = await feed.api.call('GET', `/v1/ns/${ns}/changes${query}`);
  expect(r.status).toBe(200);
  return r.body as Page;
};

test('every kind of change becomes an event and a change item of the contract shape, in commit order', async () => {
  const ns = uniqueNs('chg');
  const call = feed.api.call;
  expect((await call('PUT', `/v1/ns/${ns}/keys/cart/1`, { body: { fields: { qty: 1, sku: 'A1' } } })).status).toBe(201);
  expect((await call('PATCH', `/v1/ns/${ns}/keys/cart/1`, { body: { increment: { qty: 2 } } })).status).toBe(200);
  expect((await call('DELETE', `/v1/ns/${ns}/keys/cart/1`)).status).toBe(204);
  const lease = (await call('POST', '/v1/leases', { body: { ttlSeconds: 30 } })).body as { id: string };
  expect(
    (
      await call('PUT', `/v1/ns/${ns}/keys/held`, {
        body: { fields: { by: 'w1' } },
        headers: { 'X-Lease-Id': lease.id },
      })
    ).status,
  ).toBe(201);
  expect((await call('DELETE', `/v1/leases/${lease.id}`)).status).toBe(204);
  await feed.poller.drain();

  const page = await changes(ns);
  expect(page.items.map((c) => [c.key, c.rev, c.change])).toEqual([
    ['cart/1', 1, 'put'],
    ['cart/1', 2, 'patch'],
    ['cart/1', 3, 'delete'],
    ['held', 1, 'put'],
    ['held', 2, 'expire'],
  ]);
  expect(page.items[0]).toEqual({
    id: expect.stringMatching(/^[0-9a-f]{32}$/),
    namespace: ns,
    key: 'cart/1',
    rev: 1,
    vv: { local: 1 },
    change: 'put',
    fields: { qty: 1, sku: 'A1' },
  });
  expect(page.items[1].fields).toEqual({ qty: 3, sku: 'A1' });
  for (const gone of [page.items[2], page.items[4]]) expect('fields' in gone).toBe(false);
  // Published as they are: none set aside, none cut down (a tombstone's empty field map decodes).
  for (const c of page.items)
    expect([c.change, 'deadLetter' in c, 'fieldsOmitted' in c]).toEqual([c.change, false, false]);
  expect(page.items[4].vv).toEqual({ local: 2 });
  // The bus got the same details, once each.
  const onBus = feed.events.filter((e) => e.namespace === ns);
  expect(onBus).toEqual(page.items);
  expect(new Set(onBus.map((e) => e.id)).size).toBe(5);
});

test('a write that leaves siblings carries all concurrent values', async () => {
  const ns = uniqueNs('sib');
  await feed.api.call('PUT', `/v1/ns/${ns}`, { body: { conflicts: 'siblings' } });
  await feed.api.call('PUT', `/v1/ns/${ns}/keys/k`, { body: { fields: { v: 1 } } });
  await feed.api.call('PUT', `/v1/ns/${ns}/keys/k`, { body: { fields: { v: 2 } } });
  await feed.poller.drain();
  const { items } = await changes(ns);
  expect(items.map((c) => c.change)).toEqual(['put', 'put']);
  expect(items[1].fields).toEqual({ v: 2 });
  expect(items[1].siblings?.map((s) => s.fields)).toEqual([{ v: 1 }, { v: 2 }]);
});

test('a watcher following the cursor gets each change once; limit pages and prefix filters', async () => {
  const ns = uniqueNs('cur');
  for (let i = 0; i < 7; i++)
    await feed.api.call('PUT', `/v1/ns/${ns}/keys/${i % 2 ? 'odd' : 'even'}/${i}`, { body: { fields: { i } } });
  await feed.poller.drain();
  const seen: number[] = [];
  let cursor = '';
  for (let round = 0; round < 10; round++) {
    const page = await changes(ns, `?limit=3${cursor ? `&after=${cursor}` : ''}`);
    expect(page.items.length).toBeLessThanOrEqual(3);
    seen.push(...page.items.map((c) => c.fields!.i as number));
    if (page.items.length === 0) {
      expect(page.cursor).toBe(cursor);
      break;
    }
    cursor = page.cursor;
  }
  expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
  const odd = await changes(ns, '?prefix=odd/');
  expect(odd.items.map((c) => c.key)).toEqual(['odd/1', 'odd/3', 'odd/5']);
  // The filtered cursor still moved past what it skipped.
  expect((await changes(ns, `?prefix=odd/&after=${odd.cursor}`)).items).toEqual([]);
});

test('wait holds the request until a change arrives, or answers empty with the cursor unchanged', async () => {
  const ns = uniqueNs('wait');
  const start = await changes(ns);
  expect(start.items).toEqual([]);
  const t0 = Date.now();
  const idle = await changes(ns, `?after=${start.cursor}&wait=1`);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  expect(idle).toEqual({ items: [], cursor: start.cursor });

  feed.poller.start();
  try {
    const waiting = changes(ns, `?after=${start.cursor}&wait=15`);
    await new Promise((r) => setTimeout(r, 300));
    await feed.api.call('PUT', `/v1/ns/${ns}/keys/late`, { body: { fields: { x: 1 } } });
    const page = await waiting;
    expect(page.items.map((c) => c.key)).toEqual(['late']);
    expect(page.cursor).not.toBe(start.cursor);
  } finally {
    await feed.poller.stop();
  }
});

test('a stream batch processed twice adds no change and no new event id', async () => {
  const ns = uniqueNs('replay');
  for (let i = 0; i < 5; i++) await feed.api.call('PUT', `/v1/ns/${ns}/keys/k${i}`, { body: { fields: { i } } });
  const before = feed.batches.length;
  await feed.poller.drain();
  const handled = feed.batches.slice(before);
  const first = await changes(ns);
  expect(first.items).toHaveLength(5);
  const ids = new Set(feed.events.map((e) => e.id));
  const eventsBefore = feed.events.length;

  for (const batch of handled) expect((await feed.publish(batch)).batchItemFailures).toEqual([]);

  const again = await changes(ns);
  expect(again).toEqual(first);
  const replayed = feed.events.slice(eventsBefore);
  expect(replayed.length).toBeGreaterThanOrEqual(5);
  for (const e of replayed) expect(ids.has(e.id)).toBe(true);
});

test('bad query values are 400 naming the parameter; a cursor of another namespace is refused', async () => {
  const ns = uniqueNs('bad');
  const other = (await changes(uniqueNs('other'))).cursor;
  for (const [q, field] of [
    ['?limit=0', 'limit'],
    ['?limit=1001', 'limit'],
    ['?wait=21', 'wait'],
    ['?wait=-1', 'wait'],
    ['?after=not-a-cursor!', 'after'],
    [`?after=${other}`, 'after'],
  ] as const) {
    const r = await feed.api.call('GET', `/v1/ns/${ns}/changes${q}`);
    expect([
      q,
      r.status,
      (r.body as { code: string; field: string }).code,
      (r.body as { field: string }).field,
    ]).toEqual([q, 400, 'ValidationError', field]);
  }
  expect((await feed.api.call('POST', `/v1/ns/${ns}/changes`)).status).toBe(405);
});

test('reading changes is one DynamoDB request; a hole after the cursor that stays is 410 CursorExpired', async () => {
  const ns = uniqueNs('gap');
  const table = feed.env[CHANGES_TABLE.envVar];
  const put = (Item: Record<string, AttributeValue>) =>
    feed.api.client.send(new PutItemCommand({ TableName: table, Item }));
  const change = (seq: number) => ({
    ns: { S: ns },
    seq: { N: String(seq) },
    k: { S: `k${seq}` },
    d: {
      S: JSON.stringify({
        id: `id${seq}`,
        namespace: ns,
        key: `k${seq}`,
        rev: 1,
        vv: { local: 1 },
        change: 'put',
        fields: {},
      }),
    },
    exp: { N: String(Math.floor(Date.now() / 1000) + 3600) },
  });
  // Changes 1, 2 and 4 (3 was removed by TTL clean-up), head at 4.
  for (const seq of [1, 2, 4]) await put(change(seq));
  await put({ ns: { S: ns }, seq: { N: String(HEAD_SEQ) }, head: { N: '4' } });

  let page: { items: ChangeDetail[]; cursor: string } | undefined;
  const n = await feed.api.requests.count(async () => {
    page = await changes(ns);
  });
  expect(n).toBe(1);
  // A read stops before a hole: 1 and 2 only.
  expect(page!.items.map((c) => c.key)).toEqual(['k1', 'k2']);
  const r = await feed.api.call('GET', `/v1/ns/${ns}/changes?after=${page!.cursor}`);
  expect(r.status).toBe(410);
  expect(r.body).toMatchObject({ status: 410, code: 'CursorExpired' });
});

test('changes older than the retention are 410 for a cursor before them, and skipped without one', async () => {
  const ns = uniqueNs('old');
  const start = (await changes(ns)).cursor;
  await feed.api.call('PUT', `/v1/ns/${ns}/keys/a`, { body: { fields: { v: 1 } } });
  await feed.poller.drain();
  const later = testApi({ env: feed.env, clock: { now: () => new Date(Date.now() + 25 * 3600 * 1000) } });
  try {
    const r = await later.call('GET', `/v1/ns/${ns}/changes?after=${start}`);
    expect(r.status).toBe(410);
    expect(r.body).toMatchObject({ code: 'CursorExpired' });
    const fresh = await later.call('GET', `/v1/ns/${ns}/changes`);
    expect(fresh.body).toMatchObject({ items: [] });
    // The fresh cursor is past the expired change: following it is not 410.
    const next = await later.call('GET', `/v1/ns/${ns}/changes?after=${(fresh.body as { cursor: string }).cursor}`);
    expect(next.status).toBe(200);
  } finally {
    later.close();
  }
});

test('a batch whose append fails reports its first record not handled; the retry loses and doubles nothing', async () => {
  const ns = uniqueNs('flaky');
  const flaky = localClient(endpoint());
  let failures = 0;
  flaky.middlewareStack.add(
    (next, context) => async (args) => {
      const items =
        (args.input as { TransactItems?: { Put?: { Item?: Record<string, AttributeValue> } }[] }).TransactItems ?? [];
      if (
        context.commandName === 'TransactWriteItemsCommand' &&
        failures === 0 &&
        items.some((t) => t.Put?.Item?.ns?.S === ns)
      ) {
        failures++;
        throw Object.assign(new Error('injected'), { name: 'ServiceUnavailable', $metadata: {} });
      }
      return next(args);
    },
    { step: 'initialize', name: 'flakyChangeLog' },
  );
  const bus = new LocalEventBus();
  const seen: ChangeDetail[] = [];
  bus.subscribe((c) => seen.push(c));
  const deps = wireChangePublisher({ client: flaky, env: feed.env, bus });
  const results: BatchResult[] = [];
  const streams = new DynamoDBStreamsClient({
    endpoint: endpoint(),
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
  const described = await feed.api.client.send(new DescribeTableCommand({ TableName: feed.env[RECORDS_TABLE.envVar] }));
  const poller = new StreamPoller({
    streams,
    streamArn: described.Table!.LatestStreamArn!,
    publish: async (records) => {
      const r = await publishBatch(records, deps);
      results.push(r);
      return r;
    },
  });
  try {
    for (let i = 0; i < 3; i++) await feed.api.call('PUT', `/v1/ns/${ns}/keys/k${i}`, { body: { fields: { i } } });
    // The first pass fails on this namespace's append; the next passes read again from there.
    for (let pass = 0; pass < 50 && failures === 0; pass++) await poller.pollOnce();
    await poller.drain();
    expect(failures).toBe(1);
    expect(results.some((r) => r.batchItemFailures.length === 1)).toBe(true);
    const { items } = await changes(ns);
    expect(items.map((c) => c.key)).toEqual(['k0', 'k1', 'k2']);
    // On the bus: each of them at least once, nothing else for this namespace.
    expect(new Set(seen.filter((c) => c.namespace === ns).map((c) => c.id))).toEqual(new Set(items.map((c) => c.id)));
  } finally {
    streams.destroy();
    flaky.destroy();
  }
});

test('a prefix that skips more changes than the limit pages on without error', async () => {
  const ns = uniqueNs('pfx');
  for (let i = 0; i < 25; i++) await feed.api.call('PUT', `/v1/ns/${ns}/keys/other/${i}`, { body: { fields: { i } } });
  await feed.api.call('PUT', `/v1/ns/${ns}/keys/cart/1`, { body: { fields: { qty: 1 } } });
  await feed.poller.drain();
  const page = await changes(ns, '?prefix=cart/&limit=5');
  expect(page.items.map((c) => c.key)).toEqual(['cart/1']);
  expect((await changes(ns, `?prefix=cart/&limit=5&after=${page.cursor}`)).items).toEqual([]);
});
