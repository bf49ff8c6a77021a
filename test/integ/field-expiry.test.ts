/**
 * Field expiry on DynamoDB Local with a controllable clock: a field is visible 1 ms before its due
 * time and gone at it, on every read path (GET, `?fields`, list with and without fields, a
 * PATCH's `require`, a txn compare, `increment`, If-None-Match, 404 of a record with nothing
 * left), whether or not a clean-up has run; the body rules of `expire` and `persist`; siblings
 * and leases; and the request count of a PATCH with `expire` (one, like any PATCH).
 */
import { FakeClock } from './contract/clock';
import { testApi, uniqueNs } from './harness';

const clock = new FakeClock(Date.parse('2026-12-01T08:00:00.000Z'));
const api = testApi({ clock });
afterAll(() => api.close());

let ns: string;
beforeEach(() => {
  ns = uniqueNs('fx');
});
const rec = (k: string) => `/v1/ns/${ns}/keys/${k}`;
const put = (k: string, body: object, headers: Record<string, string> = {}) =>
  api.call('PUT', rec(k), { body, headers });
const patch = (k: string, body: object, headers: Record<string, string> = {}) =>
  api.call('PATCH', rec(k), { body, headers });
/** Sets the clock `ms` milliseconds from `from` (an epoch ms). */
const at = (from: number, ms: number) => {
  clock.t = from + ms;
};

test('a PUT expiry: visible 1 ms before the due time on every read path, gone at it', async () => {
  const t0 = clock.t;
  const w = await put('k', { fields: { token: 'abc', n: 5, keep: 1 }, expire: { token: 30, n: 30 } });
  expect(w.status).toBe(201);
  const due = new Date(t0 + 30_000).toISOString();
  expect(w.body.expires).toEqual({ token: due, n: due });
  await put('other', { fields: { n: 1 } });

  const reads = async () => ({
    get: (await api.call('GET', rec('k'))).body.fields,
    only: (await api.call('GET', `${rec('k')}?fields=token,keep`)).body.fields,
    listed: (await api.call('GET', `/v1/ns/${ns}/keys?fields=true`)).body.items.find(
      (i: { key: string }) => i.key === 'k',
    ).fields,
    require: (await patch('k', { set: { seen: true }, require: [{ field: 'token', op: 'exists' }] })).status,
    txn: (
      await api.call('POST', `/v1/ns/${ns}/txn`, {
        body: {
          require: [{ key: 'k', field: 'n', op: '==', value: 5 }],
          ops: [{ op: 'put', key: 'other', fields: {} }],
        },
      })
    ).status,
  });

  at(t0, 29_999);
  expect(await reads()).toEqual({
    get: { token: 'abc', n: 5, keep: 1 },
    only: { token: 'abc', keep: 1 },
    listed: { token: 'abc', n: 5, keep: 1 },
    require: 200,
    txn: 200,
  });
  // The PATCH above set `seen` without expire: `token` and `n` keep their own expiries.
  expect((await api.call('GET', rec('k'))).body.expires).toEqual({ token: due, n: due });

  at(t0, 30_000);
  const after = await reads();
  expect(after).toEqual({
    get: { keep: 1, seen: true },
    only: { keep: 1 },
    listed: { keep: 1, seen: true },
    require: 412,
    txn: 412,
  });
  const r = await api.call('GET', rec('k'));
  expect(r.body.expires).toBeUndefined();
  // `increment` of a due field starts again from 0, with no expiry.
  const inc = await patch('k', { increment: { n: 2 } });
  expect(inc.body.fields.n).toBe(2);
  expect(inc.body.expires).toBeUndefined();
});

test('a record whose every field is due reads as absent: 404, not listed, created again with 201', async () => {
  const t0 = clock.t;
  await put('k', { fields: { a: 1 }, expire: { a: 5 } });
  at(t0, 4_999);
  expect((await api.call('GET', rec('k'))).status).toBe(200);
  expect((await api.call('GET', `/v1/ns/${ns}/keys`)).body.items.map((i: { key: string }) => i.key)).toEqual(['k']);
  at(t0, 5_000);
  expect((await api.call('GET', rec('k'))).status).toBe(404);
  expect((await api.call('GET', `/v1/ns/${ns}/keys`)).body.items).toEqual([]);
  expect((await api.call('GET', `/v1/ns/${ns}/keys?fields=true`)).body.items).toEqual([]);
  expect((await api.call('DELETE', rec('k'))).status).toBe(404);
  expect((await put('k', { fields: { a: 2 } }, { 'If-None-Match': '*' })).status).toBe(201);

  await put('p', { fields: { a: 1 }, expire: { a: 5 } });
  at(t0, 10_000);
  const p = await patch('p', { set: { b: 1 } });
  expect(p.status).toBe(201);
  expect(p.body.fields).toEqual({ b: 1 });
});

test('PATCH: expire alone, persist, set clears, increment keeps, remove drops', async () => {
  const t0 = clock.t;
  await put('k', { fields: { a: 1, b: 2, c: 3, d: 4 } });
  const e = await patch('k', { expire: { a: 10, b: 10, c: 10, d: 10 } });
  expect(e.status).toBe(200);
  expect(Object.keys(e.body.expires).sort()).toEqual(['a', 'b', 'c', 'd']);
  const p = await patch('k', { persist: ['a'], set: { b: 20 }, increment: { c: 1 }, remove: ['d'] });
  expect(p.body.fields).toEqual({ a: 1, b: 20, c: 4 });
  expect(p.body.expires).toEqual({ c: new Date(t0 + 10_000).toISOString() });
  // A later expire replaces an earlier one; set and expire together give the new value an expiry.
  const q = await patch('k', { set: { b: 21 }, expire: { b: 60, c: 60 } });
  expect(q.body.expires).toEqual({ b: new Date(t0 + 60_000).toISOString(), c: new Date(t0 + 60_000).toISOString() });
  at(t0, 59_999);
  expect((await api.call('GET', rec('k'))).body.fields).toEqual({ a: 1, b: 21, c: 4 });
  at(t0, 60_000);
  expect((await api.call('GET', rec('k'))).body.fields).toEqual({ a: 1 });
});

test('expire or persist of a field the record will not have is 412 with current, and nothing is written', async () => {
  const w = await put('k', { fields: { a: 1 } });
  const cases = [
    () => patch('k', { expire: { nope: 10 } }),
    () => patch('k', { persist: ['nope'] }),
    () => patch('k', { remove: ['a'], expire: { a: 10 } }),
    () => patch('k', { remove: ['a'], persist: ['a'] }),
    () => put('k', { fields: { b: 1 }, expire: { a: 10 } }),
  ];
  for (const c of cases) {
    const r = await c();
    expect(r.status).toBe(412);
    expect(r.body.current).toMatchObject({ fields: { a: 1 }, rev: 1 });
    expect(r.body.detail).toMatch(/will not have/);
  }
  expect((await put('new', { fields: { b: 1 }, expire: { a: 10 } })).body.current).toBeNull();
  expect((await api.call('GET', rec('new'))).status).toBe(404);
  expect((await api.call('GET', rec('k'))).headers.etag).toBe(w.headers.etag);
});

test('bad expire and persist values are 400 naming the member, and nothing is written', async () => {
  await put('k', { fields: { a: 1 } });
  const bad: object[] = [
    { expire: { a: 0 } },
    { expire: { a: -1 } },
    { expire: { a: 1.5 } },
    { expire: { a: 31_536_001 } },
    { expire: { a: '30' } },
    { expire: { a: null } },
    { expire: [] },
    { expire: { '': 5 } },
    { persist: 'a' },
    { persist: ['a'], expire: { a: 5 } },
    { require: [{ field: 'a', op: 'exists' }] },
  ];
  for (const body of bad) {
    const r = await patch('k', body);
    expect([r.status, r.body.code]).toEqual([400, 'ValidationError']);
    expect(r.body.detail).toMatch(/expire|persist|needs at least one/);
  }
  expect((await put('k', { fields: { a: 1 }, expire: { a: 31_536_000 } })).status).toBe(200);
  expect((await api.call('GET', rec('k'))).body.rev).toBe(2);
});

test('__proto__ and names with dots or spaces expire like any other field', async () => {
  const t0 = clock.t;
  const fields = JSON.parse('{"__proto__": 1, "a.b": 2, "x y": 3, "constructor": 4}');
  const w = await api.call('PUT', rec('k'), {
    body: JSON.parse(
      '{"fields": {"__proto__": 1, "a.b": 2, "x y": 3, "constructor": 4}, "expire": {"__proto__": 5, "a.b": 9}}',
    ),
  });
  expect(w.status).toBe(201);
  expect(Object.keys(w.body.expires).sort()).toEqual(['__proto__', 'a.b']);
  expect((await patch('k', JSON.parse('{"expire": {"x y": 5}, "persist": ["a.b"]}'))).status).toBe(200);
  at(t0, 5_000);
  const r = await api.call('GET', rec('k'));
  expect(Object.keys(r.body.fields).sort()).toEqual(['a.b', 'constructor']);
  expect(r.body.fields['a.b']).toBe(fields['a.b']);
});

test('a PATCH with expire is one request while nothing is due; a GET of an expiring record is one', async () => {
  const t0 = clock.t;
  await put('k', { fields: { token: 'a', n: 0 }, expire: { token: 30 } });
  const count = async (run: () => Promise<unknown>) => {
    api.requests.reset();
    await run();
    return api.requests.snapshot().total;
  };
  expect(await count(() => patch('k', { set: { token: 'b' }, expire: { token: 30 } }))).toBe(1);
  expect(await count(() => patch('k', { increment: { n: 1 }, expire: { n: 3600 } }))).toBe(1);
  expect(await count(() => patch('k', { persist: ['n'] }))).toBe(1);
  expect(await count(() => api.call('GET', rec('k')))).toBe(1);
  // An expiry earlier than the stored bound, or a write over a due field, takes the conflict path (two).
  expect(await count(() => patch('k', { expire: { n: 1 } }))).toBe(2);
  at(t0, 31_000);
  await api.call('GET', `/v1/ns/${ns}`); // the namespace settings, read again once the clock moved on
  expect(await count(() => patch('k', { set: { x: 1 } }))).toBe(2);
  expect((await api.call('GET', rec('k'))).body.fields).toEqual({ x: 1 });
});

test('siblings: each value expires its own fields; a value with nothing left is gone', async () => {
  const t0 = clock.t;
  await api.call('PUT', `/v1/ns/${ns}`, { body: { conflicts: 'siblings' } });
  await put('k', { fields: { a: 1, b: 1 }, expire: { a: 10 } });
  await put('k', { fields: { c: 2 }, expire: { c: 20 } });
  const both = await api.call('GET', rec('k'));
  expect(both.status).toBe(300);
  expect(both.body.siblings.map((s: { expires: object }) => Object.keys(s.expires))).toEqual([['a'], ['c']]);
  at(t0, 10_000);
  const one = await api.call('GET', rec('k'));
  expect(one.body.siblings.map((s: { fields: object }) => s.fields)).toEqual([{ b: 1 }, { c: 2 }]);
  at(t0, 20_000);
  const left = await api.call('GET', rec('k'));
  expect([left.status, left.body.fields]).toEqual([200, { b: 1 }]);
});

test('a leased record whose lease ends first is gone, whatever its fields expiries', async () => {
  const t0 = clock.t;
  const lease = (await api.call('POST', '/v1/leases', { body: { ttlSeconds: 5 } })).body.id;
  await put('k', { fields: { a: 1, b: 2 }, expire: { a: 3600 } }, { 'X-Lease-Id': lease });
  at(t0, 4_000);
  expect((await api.call('GET', rec('k'))).body.fields).toEqual({ a: 1, b: 2 });
  at(t0, 6_000);
  expect((await api.call('GET', rec('k'))).status).toBe(404);
});

test('a txn put and patch carry expire and persist; a txn compare sees a due field as absent', async () => {
  const t0 = clock.t;
  const r = await api.call('POST', `/v1/ns/${ns}/txn`, {
    body: {
      ops: [
        { op: 'put', key: 'a', fields: { x: 1, y: 2 }, expire: { x: 10, y: 20 } },
        { op: 'patch', key: 'b', set: { z: 3 }, expire: { z: 10 } },
      ],
    },
  });
  expect(r.status).toBe(200);
  await api.call('POST', `/v1/ns/${ns}/txn`, { body: { ops: [{ op: 'patch', key: 'a', persist: ['y'] }] } });
  at(t0, 10_000);
  expect((await api.call('GET', rec('a'))).body).toMatchObject({ fields: { y: 2 } });
  expect((await api.call('GET', rec('a'))).body.expires).toBeUndefined();
  expect((await api.call('GET', rec('b'))).status).toBe(404);
  const absent = await api.call('POST', `/v1/ns/${ns}/txn`, {
    body: {
      require: [
        { key: 'a', field: 'x', op: 'absent' },
        { key: 'b', exists: false },
      ],
      ops: [{ op: 'delete', key: 'a' }],
    },
  });
  expect(absent.status).toBe(200);
});
