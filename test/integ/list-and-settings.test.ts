import { testApi, uniqueNs } from './harness';

const api = testApi();
afterAll(() => api.close());

const put = (ns: string, key: string, fields: object, headers: Record<string, string> = {}) =>
  api.call('PUT', `/v1/ns/${ns}/keys/${encodeURIComponent(key)}`, { body: { fields }, headers });

describe('listing keys', () => {
  test('keys come in UTF-8 byte order, deleted ones are left out, and cursors walk every page once', async () => {
    const ns = uniqueNs();
    const keys = ['b', 'a/2', 'a/10', 'Z', 'é', '\u{1F600}', '\uFFFD-x', 'a/1'];
    for (const k of keys) await put(ns, k, { k });
    await api.call('DELETE', `/v1/ns/${ns}/keys/${encodeURIComponent('b')}`);
    const expected = keys.filter((k) => k !== 'b').sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await api.call('GET', `/v1/ns/${ns}/keys?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...r.body.items.map((i: { key: string }) => i.key));
      cursor = r.body.cursor;
    } while (cursor);
    expect(seen).toEqual(expected);
  });

  test('prefix filters, fields=true adds fields, and the last page has a null cursor', async () => {
    const ns = uniqueNs();
    await put(ns, 'cart/1', { q: 1 });
    await put(ns, 'cart/2', { q: 2 });
    await put(ns, 'user/1', { n: 'x' });
    const r = await api.call('GET', `/v1/ns/${ns}/keys?prefix=cart%2F&fields=true`);
    expect(r.body.cursor).toBeNull();
    expect(r.body.items).toEqual([
      expect.objectContaining({ key: 'cart/1', rev: 1, fields: { q: 1 } }),
      expect.objectContaining({ key: 'cart/2', rev: 1, fields: { q: 2 } }),
    ]);
    expect(r.body.items[0].updatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const bare = await api.call('GET', `/v1/ns/${ns}/keys?prefix=user`);
    expect(bare.body.items).toEqual([{ key: 'user/1', rev: 1, updatedAt: expect.any(String) }]);
  });

  test.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=ten', 'limit'],
    ['fields=yes', 'fields'],
    ['cursor=garbage', 'cursor'],
  ])('a bad query value %s is 400 naming %s', async (q, field) => {
    const r = await api.call('GET', `/v1/ns/${uniqueNs()}/keys?${q}`);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'ValidationError', field });
  });
});

describe('namespace settings', () => {
  test('a namespace never configured answers the defaults', async () => {
    const r = await api.call('GET', `/v1/ns/${uniqueNs()}`);
    expect(r.status).toBe(200);
    expect(r.body.conflicts).toBe('reject');
  });

  test('settings are stored and bad values refused', async () => {
    const ns = uniqueNs();
    expect((await api.call('PUT', `/v1/ns/${ns}`, { body: { conflicts: 'siblings' } })).body.conflicts).toBe(
      'siblings',
    );
    expect((await api.call('GET', `/v1/ns/${ns}`)).body.conflicts).toBe('siblings');
    const bad = await api.call('PUT', `/v1/ns/${ns}`, { body: { conflicts: 'lww' } });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('body.conflicts');
  });
});

describe('siblings mode', () => {
  test('concurrent writes become siblings (300), and a PUT with the 300 ETag resolves them all', async () => {
    const ns = uniqueNs();
    await api.call('PUT', `/v1/ns/${ns}`, { body: { conflicts: 'siblings' } });
    const a = await put(ns, 'cart', { items: ['a'] });
    expect(a.status).toBe(201);
    const b = await put(ns, 'cart', { items: ['b'] });
    expect(b.status).toBe(200);
    expect(b.body.siblings).toHaveLength(2);
    const c = await put(ns, 'cart', { items: ['c'] }, { 'If-Match': a.headers.etag });
    expect(c.body.siblings.map((s: { fields: { items: string[] } }) => s.fields.items[0])).toEqual(['b', 'c']);
    const got = await api.call('GET', `/v1/ns/${ns}/keys/cart`);
    expect(got.status).toBe(300);
    expect(got.headers.etag).toBe(c.headers.etag);
    expect(got.body).toMatchObject({ namespace: ns, key: 'cart', rev: 3 });
    expect(got.body.siblings).toHaveLength(2);
    const patch = await api.call('PATCH', `/v1/ns/${ns}/keys/cart`, { body: { set: { x: 1 } } });
    expect(patch.status).toBe(409);
    expect(patch.body.reason).toBe('SiblingsPresent');
    const merged = await put(ns, 'cart', { items: ['b', 'c'] }, { 'If-Match': got.headers.etag });
    expect(merged.status).toBe(200);
    expect(merged.body.fields).toEqual({ items: ['b', 'c'] });
    expect((await api.call('GET', `/v1/ns/${ns}/keys/cart`)).status).toBe(200);
  });

  test('past 32 siblings a write is refused with SiblingLimit and nothing is lost', async () => {
    const ns = uniqueNs();
    await api.call('PUT', `/v1/ns/${ns}`, { body: { conflicts: 'siblings' } });
    for (let i = 0; i < 32; i++) await put(ns, 'hot', { i });
    const r = await put(ns, 'hot', { i: 32 });
    expect(r.status).toBe(409);
    expect(r.body.reason).toBe('SiblingLimit');
    const got = await api.call('GET', `/v1/ns/${ns}/keys/hot`);
    expect(got.body.siblings).toHaveLength(32);
  });
});
