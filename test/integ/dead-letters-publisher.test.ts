/**
 * Nothing wedges, change publisher: on DynamoDB Local's real stream, read by the same poller and
 * publisher as `npm start`. A record item written straight into the table in a shape Vesta never
 * writes (`f` a string instead of a map) is set aside as a dead letter, a placeholder takes its
 * place in the change log and on the bus, and the namespace's later changes reach a watcher.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { toRegionalItem } from '../../src/adapters/dynamodb/regional-codec';
import { dynamoStreamDecoder } from '../../src/adapters/dynamodb/stream-records';
import { RECORDS_TABLE } from '../../src/adapters/dynamodb/table-defs';
import type { DeadLetter } from '../../src/core/dead-letter-types';
import { joinAll } from '../../src/core/regions/merge';
import { writeRegional } from '../../src/core/regions/writes';
import { replayPublisherEntry } from '../../src/events/publisher';
import type { ChangeDetail } from '../../src/core/changes';
import { type TestFeed, testFeed } from './feed';
import { uniqueNs } from './harness';

let feed: TestFeed;
beforeAll(async () => {
  feed = await testFeed();
});
afterAll(() => feed.close());

type Page = { items: ChangeDetail[]; cursor: string };

/** A records item of `ns`/`key` at rev 1 whose fields are a string: no decoder takes it. */
async function writePoison(ns: string, key: string): Promise<void> {
  await feed.api.client.send(
    new PutItemCommand({
      TableName: feed.env[RECORDS_TABLE.envVar],
      Item: {
        ns: { S: ns },
        k: { S: key },
        rev: { N: '1' },
        inc: { S: 'poison' },
        '@local': { N: '1' },
        f: { S: 'not a map' },
        tomb: { BOOL: false },
        op: { S: 'put' },
      },
    }),
  );
}

test('a change that cannot be decoded is set aside; a placeholder keeps its place and the later changes of its namespace flow', async () => {
  const ns = uniqueNs('dlpub');
  const call = feed.api.call;
  expect((await call('PUT', `/v1/ns/${ns}/keys/before`, { body: { fields: { n: 0 } } })).status).toBe(201);
  await writePoison(ns, 'poison');
  for (let i = 1; i <= 5; i++)
    expect((await call('PUT', `/v1/ns/${ns}/keys/after/${i}`, { body: { fields: { n: i } } })).status).toBe(201);
  await feed.poller.drain();

  const page = (await call('GET', `/v1/ns/${ns}/changes`)).body as Page;
  expect(page.items.map((c) => c.key)).toEqual([
    'before',
    'poison',
    'after/1',
    'after/2',
    'after/3',
    'after/4',
    'after/5',
  ]);
  const placeholder = page.items[1];
  expect(placeholder).toEqual({
    id: expect.stringMatching(/^[0-9a-f]{32}$/),
    namespace: ns,
    key: 'poison',
    rev: 1,
    vv: { local: 1 },
    change: 'put',
    fieldsOmitted: true,
    deadLetter: expect.stringMatching(/^publisher-[0-9a-f]{32}$/),
  });
  // The bus got the placeholder in the same place, and every later change.
  expect(feed.events.filter((e) => e.namespace === ns).map((e) => e.key)).toEqual(page.items.map((c) => c.key));

  const listed = await call('GET', '/v1/dead-letters?source=publisher');
  expect(listed.status).toBe(200);
  const entry = listed.body.items.find((e: { id: string }) => e.id === placeholder.deadLetter);
  expect(entry).toMatchObject({
    source: 'publisher',
    item: { namespace: ns, key: 'poison', rev: 1 },
    error: { name: 'MalformedItemError' },
    attempts: 1,
  });
  expect(entry.error.message).toContain('attribute f must be of type M');
  expect(entry.payload).toBeUndefined();
  const one = await call('GET', `/v1/dead-letters/${entry.id}`);
  expect(one.body.payload.image.f).toEqual({ S: 'not a map' });
  console.log(
    `publisher: 1 change set aside, ${page.items.length - 1} changes flowed (1 before, 5 after, and the placeholder)`,
  );
});

test('a watcher long-polling the namespace gets the changes after a poison item without waiting for it', async () => {
  const ns = uniqueNs('dlwatch');
  const call = feed.api.call;
  const start = (await call('GET', `/v1/ns/${ns}/changes`)).body as Page;
  feed.poller.start();
  try {
    const t0 = Date.now();
    await writePoison(ns, 'poison');
    await call('PUT', `/v1/ns/${ns}/keys/later`, { body: { fields: { ok: true } } });
    const seen: ChangeDetail[] = [];
    let cursor = start.cursor;
    while (!seen.some((c) => c.key === 'later')) {
      const page = (await call('GET', `/v1/ns/${ns}/changes?after=${cursor}&wait=20`)).body as Page;
      seen.push(...page.items);
      cursor = page.cursor;
    }
    expect(seen.map((c) => [c.key, c.deadLetter !== undefined])).toEqual([
      ['poison', true],
      ['later', false],
    ]);
    console.log(
      `publisher: the change after a poison item reached the watcher ${Date.now() - t0} ms after the poison was written`,
    );
  } finally {
    await feed.poller.stop();
  }
});

test('a replay of a change that still cannot be decoded keeps the entry with one more attempt; discarding removes it', async () => {
  const ns = uniqueNs('dlrep');
  await writePoison(ns, 'p');
  await feed.poller.drain();
  const [placeholder] = ((await feed.api.call('GET', `/v1/ns/${ns}/changes`)).body as Page).items;
  const id = placeholder.deadLetter!;
  const replay = await feed.api.call('POST', `/v1/dead-letters/${id}/replay`);
  expect(replay.status).toBe(200);
  expect(replay.body).toMatchObject({
    id,
    status: 'FAILED',
    entry: { id, attempts: 2, error: { name: 'MalformedItemError' } },
  });
  // The same stream record handled again (a retried batch) updates the entry; it adds none.
  expect((await feed.api.call('GET', `/v1/dead-letters/${id}`)).body.attempts).toBe(2);
  expect((await feed.api.call('DELETE', `/v1/dead-letters/${id}`)).status).toBe(204);
  expect((await feed.api.call('GET', `/v1/dead-letters/${id}`)).status).toBe(404);
  expect((await feed.api.call('DELETE', `/v1/dead-letters/${id}`)).status).toBe(404);
  expect((await feed.api.call('POST', `/v1/dead-letters/${id}/replay`)).status).toBe(404);
});

test('a change too big for one EventBridge entry goes on the local bus without fields, and whole into the change log', async () => {
  const ns = uniqueNs('dlbig');
  // Two requests under the 256 KiB body limit make a 300 KiB record; the second change carries it all.
  const a = 'a'.repeat(200 * 1024);
  const b = 'b'.repeat(100 * 1024);
  expect((await feed.api.call('PUT', `/v1/ns/${ns}/keys/big`, { body: { fields: { a } } })).status).toBe(201);
  expect((await feed.api.call('PATCH', `/v1/ns/${ns}/keys/big`, { body: { set: { b } } })).status).toBe(200);
  expect((await feed.api.call('PUT', `/v1/ns/${ns}/keys/small`, { body: { fields: { n: 1 } } })).status).toBe(201);
  await feed.poller.drain();
  const [first, big, small] = feed.events.filter((e) => e.namespace === ns);
  expect(first.fields).toEqual({ a });
  expect(big).toEqual({
    id: expect.any(String),
    namespace: ns,
    key: 'big',
    rev: 2,
    vv: { local: 2 },
    change: 'patch',
    fieldsOmitted: true,
  });
  expect(small.fields).toEqual({ n: 1 });
  const page = (await feed.api.call('GET', `/v1/ns/${ns}/changes`)).body as Page;
  expect(page.items[1].fields).toEqual({ a, b });
});

test('the dead-letter list refuses bad query values, naming them', async () => {
  for (const [query, field] of [
    ['source=nope', 'source'],
    ['limit=0', 'limit'],
    ['cursor=xyz', 'cursor'],
    ['sort=asc', 'query.sort'],
  ]) {
    const r = await feed.api.call('GET', `/v1/dead-letters?${query}`);
    expect({ query, status: r.status, field: r.body.field }).toEqual({ query, status: 400, field });
  }
  expect((await feed.api.call('GET', '/v1/dead-letters/not-an-id')).status).toBe(404);
});

test('a replayed dead letter of a write that replaced a loser (several Regions) appends the conflict it names too, once however often it is replayed', async () => {
  const ns = uniqueNs('dlconf');
  const put = (region: string, prev: ReturnType<typeof writeRegional>['item'][], v: string, now: string) =>
    writeRegional(
      ns,
      'k',
      joinAll(prev),
      undefined,
      { op: 'put', fields: { v } },
      {},
      { replica: region, now, mode: 'reject' },
    );
  const us = put('us-east-1', [], 'us', '2026-12-07T10:00:00.000Z');
  const eu = put('eu-west-1', [], 'eu', '2026-12-07T10:00:01.000Z');
  // The US, having both, writes again: EU's later value won, and the write names the US's first as its loser.
  const again = put('us-east-1', [us.item, eu.item], 'us2', '2026-12-07T10:00:02.000Z');
  const image = toRegionalItem(again.item, 'us-east-1', 'us-east-1', 'put', 'reject');
  const entry = { payload: { eventName: 'MODIFY', image } } as unknown as DeadLetter;
  const deps = feed.api.replayParts.publisher!;
  await replayPublisherEntry(entry, deps);
  await replayPublisherEntry(entry, deps);

  const page = (await feed.api.call('GET', `/v1/ns/${ns}/changes`)).body as Page;
  expect(page.items.map((c) => [c.key, c.change])).toEqual([
    ['k', 'put'],
    ['k', 'conflict'],
  ]);
  expect(page.items[0]).toMatchObject({ fields: { v: 'us2' }, replayOf: expect.any(String) });
  expect(page.items[1]).toMatchObject({ fields: { v: 'us' } });
  // The conflict's id is the loser's own: the one a live publisher would have appended.
  const [live] = dynamoStreamDecoder.more!({ eventName: 'MODIFY', dynamodb: { NewImage: image } });
  expect(page.items[1].id).toBe(live.id);
});
