/**
 * `GET /v1/sagas` and `GET /v1/ns/{ns}/locks` through the real handler on DynamoDB Local: order and
 * paging, the status filter, a lock whose lease expired is not listed and no lease id is ever
 * shown, the DynamoDB requests a page costs, and generated query strings that never make a 500.
 *
 * The sagas here are in tables of this file's own, and start far in the future (a fake clock):
 * they are the newest, and the first pages hold only them.
 */
import { FakeClock } from './contract/clock';
import fc from 'fast-check';
import { ensureTables } from '../../src/local/bootstrap-tables';
import { localClient } from '../../src/local/dynamodb-local';
import { TEST_TABLE_PREFIX, type TestApi, endpoint, testApi, uniqueNs } from './harness';

const clock = new FakeClock(Date.parse('2091-03-01T00:00:00.000Z') + Math.floor(Math.random() * 1e6) * 1000);
let api: TestApi;
beforeAll(async () => {
  // Tables of this file's own: the saga list spans every saga of its table, and other files
  // (the saga log's contract suite among them) write sagas dated in the future too.
  const client = localClient(endpoint());
  const env = await ensureTables(client, `${TEST_TABLE_PREFIX}-lists`);
  client.destroy();
  api = testApi({ clock, env });
});
afterAll(() => api?.close());

interface Summary {
  id: string;
  status: string;
  type: string;
  startedAt: string;
  finishedAt: string | null;
}

/** Starts a saga of one step; with `fail`, its only step's `require` fails and it ends COMPENSATED. */
async function startSaga(id: string, ns: string, fail = false): Promise<void> {
  const r = await api.call('POST', '/v1/sagas', {
    body: {
      id,
      namespace: ns,
      steps: [
        {
          name: 'one',
          action: {
            op: 'patch',
            key: 'k',
            increment: { n: 1 },
            ...(fail ? { require: [{ field: 'n', op: '>', value: 1000 }] } : {}),
          },
          compensation: { op: 'patch', key: 'k', increment: { n: -1 } },
        },
      ],
    },
  });
  expect(r.status).toBe(202);
}

/** Every page of a listing from `path`, `limit` a page. */
async function walk(path: string, limit: number, maxPages = 50): Promise<{ items: Summary[]; pages: number }> {
  const items: Summary[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const r = await api.call('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(r.status).toBe(200);
    expect(r.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...r.body.items);
    cursor = r.body.cursor;
    pages += 1;
  } while (cursor && pages < maxPages);
  return { items, pages };
}

const newestFirst = (xs: readonly Summary[]) =>
  xs.every((x, i) => i === 0 || `${xs[i - 1].startedAt}#${xs[i - 1].id}` > `${x.startedAt}#${x.id}`);

describe('GET /v1/sagas', () => {
  const ns = uniqueNs('sl');
  const ids: string[] = [];
  const failed = new Set<string>();

  beforeAll(async () => {
    for (let i = 0; i < 7; i++) {
      const id = `${ns}-${i}`;
      ids.push(id);
      if (i % 3 === 1) failed.add(id);
      await startSaga(id, ns, failed.has(id));
      // Two sagas start in the same millisecond: the id breaks the tie.
      if (i !== 3) clock.advance(1);
    }
    await api.workflows.settled();
  });

  test('lists every saga newest first across pages, each once, with its summary', async () => {
    const { items } = await walk('/v1/sagas', 3, 4);
    const mine = items.filter((s) => s.id.startsWith(`${ns}-`));
    const expected = [...ids].sort((a, b) => {
      const ia = Number(a.split('-').pop());
      const ib = Number(b.split('-').pop());
      // 3 and 4 share a start time; the greater id comes first.
      return ib - ia;
    });
    expect(mine.map((s) => s.id)).toEqual(expected);
    // They are the newest sagas of the log: the first pages hold them and nothing else.
    expect(items.slice(0, ids.length).map((s) => s.id)).toEqual(expected);
    expect(newestFirst(items)).toBe(true);
    expect(new Set(items.map((s) => s.id)).size).toBe(items.length);
    for (const s of mine) {
      expect(Object.keys(s).sort()).toEqual(['finishedAt', 'id', 'startedAt', 'status', 'type']);
      expect(s).toMatchObject({ type: 'steps', status: failed.has(s.id) ? 'COMPENSATED' : 'SUCCEEDED' });
      expect(s.finishedAt).toEqual(expect.any(String));
    }
  });

  test('status filters, newest first, and a saga is listed under its current status', async () => {
    const { items } = await walk('/v1/sagas?status=COMPENSATED', 1, 3);
    expect(items.every((s) => s.status === 'COMPENSATED')).toBe(true);
    expect(items.slice(0, failed.size).map((s) => s.id)).toEqual(ids.filter((id) => failed.has(id)).reverse());
    const ok = await api.call('GET', '/v1/sagas?status=SUCCEEDED&limit=1000');
    const succeeded = ok.body.items.map((s: Summary) => s.id);
    for (const id of ids) expect(succeeded.includes(id)).toBe(!failed.has(id));
    const running = await api.call('GET', '/v1/sagas?status=RUNNING&limit=1000');
    expect(running.body.items.some((s: Summary) => s.id.startsWith(`${ns}-`))).toBe(false);
  });

  test('a page costs one Query per status listed', async () => {
    expect(await api.requests.count(() => api.call('GET', '/v1/sagas?status=SUCCEEDED&limit=2'))).toBe(1);
    const page = await api.call('GET', '/v1/sagas?limit=2');
    api.requests.reset();
    await api.call('GET', `/v1/sagas?limit=2&cursor=${page.body.cursor}`);
    expect(api.requests.snapshot()).toEqual({ total: 4, byCommand: { QueryCommand: 4 } });
  });

  test('the default page holds at most 100, and the last page has a null cursor', async () => {
    const r = await api.call('GET', '/v1/sagas');
    expect(r.status).toBe(200);
    expect(r.body.items.length).toBeLessThanOrEqual(100);
    const last = await api.call('GET', '/v1/sagas?status=RUNNING&limit=1000');
    expect(last.body.cursor).toBeNull();
  });

  test.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=1.5', 'limit'],
    ['status=running', 'status'],
    ['status=', 'status'],
    ['cursor=garbage', 'cursor'],
    ['sort=asc', 'query.sort'],
  ])('%s is 400 naming %s', async (q, field) => {
    const r = await api.call('GET', `/v1/sagas?${q}`);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'ValidationError', field });
  });

  test('a cursor of another listing is refused', async () => {
    const locks = Buffer.from('k1.a', 'utf8').toString('base64url');
    expect((await api.call('GET', `/v1/sagas?cursor=${locks}`)).status).toBe(400);
  });
});

describe('GET /v1/ns/{ns}/locks', () => {
  const grant = async (ttlSeconds: number) =>
    (await api.call('POST', '/v1/leases', { body: { ttlSeconds } })).body.id as string;
  const acquire = async (ns: string, name: string, leaseId: string) => {
    const r = await api.call('POST', `/v1/ns/${ns}/locks/${encodeURIComponent(name)}`, { body: { leaseId } });
    expect(r.status).toBe(200);
    return r.body as { fencingToken: number; expiresAt: string };
  };

  test('lists held locks by name across pages, never a lease id, never an expired lease’s lock', async () => {
    const ns = uniqueNs('ll');
    const long = await grant(600);
    const short = await grant(30);
    const names = ['b', 'a', 'job.2', 'job.1', 'é', 'Z'];
    const grants: Record<string, { fencingToken: number; expiresAt: string }> = {};
    for (const n of names) grants[n] = await acquire(ns, n, long);
    await acquire(ns, 'short-lived', short);
    await acquire(uniqueNs('other'), 'a', long);
    // Released: no longer held.
    await acquire(ns, 'released', long);
    expect((await api.call('DELETE', `/v1/ns/${ns}/locks/released`, { headers: { 'x-lease-id': long } })).status).toBe(
      204,
    );

    const all = await api.call('GET', `/v1/ns/${ns}/locks`);
    expect(all.body.items.map((l: { name: string }) => l.name)).toContain('short-lived');
    clock.advance(31);
    const seen: { name: string; fencingToken: number; expiresAt: string }[] = [];
    let cursor: string | null = null;
    do {
      const r = await api.call('GET', `/v1/ns/${ns}/locks?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.text).not.toContain(long);
      expect(r.text).not.toContain(short);
      seen.push(...r.body.items);
      cursor = r.body.cursor;
    } while (cursor);
    const expected = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(seen.map((l) => l.name)).toEqual(expected);
    for (const l of seen) {
      expect(Object.keys(l).sort()).toEqual(['expiresAt', 'fencingToken', 'name']);
      expect(l.fencingToken).toBe(grants[l.name].fencingToken);
    }
    // The lease was renewed by each acquire: every lock shows the lease's current expiry.
    const lease = await api.call('GET', `/v1/leases/${long}`);
    for (const l of seen) expect(l.expiresAt).toBe(lease.body.expiresAt);
  });

  test('prefix filters; a page costs one Query and one BatchGetItem', async () => {
    const ns = uniqueNs('lp');
    const lease = await grant(600);
    for (const n of ['job.1', 'job.2', 'other']) await acquire(ns, n, lease);
    api.requests.reset();
    const r = await api.call('GET', `/v1/ns/${ns}/locks?prefix=job.`);
    expect(api.requests.snapshot()).toEqual({ total: 2, byCommand: { QueryCommand: 1, BatchGetItemCommand: 1 } });
    expect(r.body).toEqual({
      items: [
        { name: 'job.1', fencingToken: expect.any(Number), expiresAt: expect.any(String) },
        { name: 'job.2', fencingToken: expect.any(Number), expiresAt: expect.any(String) },
      ],
      cursor: null,
    });
    expect(await api.requests.count(() => api.call('GET', `/v1/ns/${uniqueNs()}/locks`))).toBe(1);
    // A cursor is tied to its prefix.
    const first = await api.call('GET', `/v1/ns/${ns}/locks?limit=1`);
    expect(first.body.cursor).toEqual(expect.any(String));
    const other = await api.call('GET', `/v1/ns/${ns}/locks?prefix=zzz&cursor=${first.body.cursor}`);
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({ code: 'ValidationError', field: 'cursor' });
  });

  test.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['prefix=a%2Fb%00', 'prefix'],
    ['cursor=garbage', 'cursor'],
    ['after=x', 'query.after'],
  ])('%s is 400 naming %s', async (q, field) => {
    const r = await api.call('GET', `/v1/ns/${uniqueNs()}/locks?${q}`);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'ValidationError', field });
  });

  test('a bad namespace is 400', async () => {
    expect((await api.call('GET', '/v1/ns/Bad_NS/locks')).status).toBe(400);
  });
});

describe('generated query strings', () => {
  const piece = fc.oneof(
    fc.constantFrom('limit', 'cursor', 'status', 'prefix', 'x', ''),
    fc.string({ maxLength: 6 }).map(encodeURIComponent),
  );
  const value = fc.oneof(
    fc.constantFrom('1', '0', '1000', '1001', '-1', '1e2', 'RUNNING', 'SUCCEEDED', '', '%00', '%ZZ', 'czEu', 'azEu'),
    fc.string({ maxLength: 12 }).map(encodeURIComponent),
    fc.string({ unit: 'binary', maxLength: 6 }).map(encodeURIComponent),
  );
  const query = fc
    .array(fc.tuple(piece, value), { maxLength: 4 })
    .map((ps) => ps.map(([k, v]) => `${k}=${v}`).join('&'));

  test('never a 500: 200 with a page, or 400 ValidationError', async () => {
    const ns = uniqueNs('lf');
    await fc.assert(
      fc.asyncProperty(query, fc.constantFrom('/v1/sagas', `/v1/ns/${ns}/locks`), async (q, path) => {
        const r = await api.call('GET', `${path}?${q}`);
        expect([200, 400]).toContain(r.status);
        if (r.status === 200) expect(r.body).toEqual({ items: expect.any(Array), cursor: r.body.cursor });
        else expect(r.body.code).toBe('ValidationError');
      }),
      { numRuns: 150 },
    );
  });
});
