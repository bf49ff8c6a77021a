/**
 * Exactly once, in order, under load: 2,000 concurrent writes to 50 keys while the publisher runs
 * on 4 key groups at once (as Lambda runs shards in parallel) and a watcher follows the cursor.
 */
import type { ChangeDetail } from '../../src/core/changes';
import { type TestFeed, testFeed } from './feed';
import { uniqueNs } from './harness';

const WRITES = 2000;
const KEYS = 50;
const WRITERS = 32;

let feed: TestFeed;
beforeAll(async () => {
  feed = await testFeed({ parallelism: 4 });
});
afterAll(() => feed.close());

test('a watcher following the cursor during 2,000 concurrent writes to 50 keys sees each change once, per key in commit order', async () => {
  const ns = uniqueNs('load');
  const first = await feed.api.call('GET', `/v1/ns/${ns}/changes`);
  let cursor = (first.body as { cursor: string }).cursor;
  const seen: ChangeDetail[] = [];
  let writing = true;
  const watcher = (async () => {
    for (;;) {
      const r = await feed.api.call('GET', `/v1/ns/${ns}/changes?after=${cursor}&wait=2&limit=1000`);
      expect(r.status).toBe(200);
      const page = r.body as { items: ChangeDetail[]; cursor: string };
      seen.push(...page.items);
      cursor = page.cursor;
      if (!writing && seen.length >= WRITES) return;
      if (!writing && page.items.length === 0) return;
    }
  })();

  feed.poller.start();
  let next = 0;
  const committed = new Map<string, number>();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < WRITES) {
        const i = next++;
        const key = `k${i % KEYS}`;
        const r = await feed.api.call('PATCH', `/v1/ns/${ns}/keys/${key}`, {
          body: { increment: { n: 1 }, set: { last: i } },
        });
        expect([200, 201]).toContain(r.status);
        committed.set(key, Math.max(committed.get(key) ?? 0, (r.body as { rev: number }).rev));
      }
    }),
  );
  writing = false;
  await watcher;
  await feed.poller.stop();

  expect(seen).toHaveLength(WRITES);
  expect(new Set(seen.map((c) => c.id)).size).toBe(WRITES);
  const revs = new Map<string, number[]>();
  for (const c of seen) revs.set(c.key, [...(revs.get(c.key) ?? []), c.rev]);
  expect(revs.size).toBe(KEYS);
  for (const [key, list] of revs)
    expect([key, list]).toEqual([key, Array.from({ length: committed.get(key)! }, (_x, i) => i + 1)]);
  // Each key's last change carries its final count.
  for (const [key, list] of revs) {
    const last = seen.filter((c) => c.key === key).at(-1)!;
    expect(last.fields!.n).toBe(list.length);
  }
  // Every change reached the bus, each id at least once.
  const onBus = new Set(feed.events.filter((e) => e.namespace === ns).map((e) => e.id));
  expect(onBus.size).toBe(WRITES);
}, 240_000);
