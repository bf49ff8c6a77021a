import { testApi, uniqueNs } from './harness';

const api = testApi();
afterAll(() => api.close());

const put = (ns: string, key: string, fields: object, headers: Record<string, string> = {}) =>
  api.call('PUT', `/v1/ns/${ns}/keys/${key}`, { body: { fields }, headers });

describe('GET', () => {
  test('an absent record is 404 NotFound as a problem document', async () => {
    const r = await api.call('GET', `/v1/ns/${uniqueNs()}/keys/nope`);
    expect(r.status).toBe(404);
    expect(r.headers['content-type']).toBe('application/problem+json');
    expect(r.body).toMatchObject({ status: 404, code: 'NotFound', title: 'Not Found' });
  });

  test('?fields returns only the named fields', async () => {
    const ns = uniqueNs();
    await put(ns, 'k', { a: 1, b: 2, c: 3 });
    const r = await api.call('GET', `/v1/ns/${ns}/keys/k?fields=a,c`);
    expect(r.body.fields).toEqual({ a: 1, c: 3 });
  });

  test('keys with slashes and non-ASCII characters round-trip', async () => {
    const ns = uniqueNs();
    const key = 'über/straße/42 x';
    const path = key.split('/').map(encodeURIComponent).join('/');
    expect((await put(ns, path, { ok: true })).status).toBe(201);
    const r = await api.call('GET', `/v1/ns/${ns}/keys/${encodeURIComponent(key)}`);
    expect(r.body).toMatchObject({ key, fields: { ok: true } });
  });
});

describe('PUT', () => {
  test('creates with 201, replaces with 200, and the write ETag is the read ETag', async () => {
    const ns = uniqueNs();
    const a = await put(ns, 'k', { x: 1 });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ namespace: ns, key: 'k', fields: { x: 1 }, rev: 1, vv: { local: 1 }, lease: null });
    const b = await put(ns, 'k', { y: 2 });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ fields: { y: 2 }, rev: 2 });
    expect(b.headers.etag).not.toBe(a.headers.etag);
    expect((await api.call('GET', `/v1/ns/${ns}/keys/k`)).headers.etag).toBe(b.headers.etag);
  });

  test('If-None-Match: * on an existing record is 412 with current and its ETag', async () => {
    const ns = uniqueNs();
    const a = await put(ns, 'k', { x: 1 });
    const r = await put(ns, 'k', { x: 2 }, { 'If-None-Match': '*' });
    expect(r.status).toBe(412);
    expect(r.body.code).toBe('PreconditionFailed');
    expect(r.body.current).toMatchObject({ fields: { x: 1 }, rev: 1 });
    expect(r.headers.etag).toBe(a.headers.etag);
  });

  test('a stale If-Match is 412 and writes nothing; the fresh one succeeds', async () => {
    const ns = uniqueNs();
    const a = await put(ns, 'k', { x: 1 });
    const b = await put(ns, 'k', { x: 2 });
    const stale = await put(ns, 'k', { x: 3 }, { 'If-Match': a.headers.etag });
    expect(stale.status).toBe(412);
    expect(stale.body.current.fields).toEqual({ x: 2 });
    expect(stale.headers.etag).toBe(b.headers.etag);
    const fresh = await put(ns, 'k', { x: 3 }, { 'If-Match': stale.headers.etag });
    expect(fresh.status).toBe(200);
    expect(fresh.body.rev).toBe(3);
  });

  test('If-Match with an ETag Vesta never issued is 412', async () => {
    const ns = uniqueNs();
    await put(ns, 'k', { x: 1 });
    expect((await put(ns, 'k', { x: 2 }, { 'If-Match': '"not-ours"' })).status).toBe(412);
    expect((await put(ns, 'absent', { x: 2 }, { 'If-Match': '*' })).status).toBe(412);
  });

  test('rev keeps growing across delete and re-create and no ETag is reused', async () => {
    const ns = uniqueNs();
    const a = await put(ns, 'k', { x: 1 });
    expect((await api.call('DELETE', `/v1/ns/${ns}/keys/k`)).status).toBe(204);
    expect((await api.call('GET', `/v1/ns/${ns}/keys/k`)).status).toBe(404);
    const b = await put(ns, 'k', { x: 1 });
    expect(b.status).toBe(201);
    expect(b.body.rev).toBe(3);
    expect(b.headers.etag).not.toBe(a.headers.etag);
    expect((await put(ns, 'k', { x: 9 }, { 'If-Match': a.headers.etag })).status).toBe(412);
  });
});

describe('PATCH', () => {
  const patch = (ns: string, key: string, body: object, headers: Record<string, string> = {}) =>
    api.call('PATCH', `/v1/ns/${ns}/keys/${key}`, { body, headers });

  test('creates an absent record with 201 and applies everything atomically', async () => {
    const ns = uniqueNs();
    const a = await patch(ns, 'k', { set: { status: 'new', draft: true }, increment: { qty: 2 } });
    expect(a.status).toBe(201);
    expect(a.body.fields).toEqual({ status: 'new', draft: true, qty: 2 });
    const b = await patch(ns, 'k', {
      set: { status: 'paid' },
      remove: ['draft'],
      increment: { qty: -1, views: 1 },
      require: [{ field: 'qty', op: '>=', value: 1 }],
    });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ fields: { status: 'paid', qty: 1, views: 1 }, rev: 2 });
  });

  test('a failed require is 412 with current and nothing changes', async () => {
    const ns = uniqueNs();
    await patch(ns, 'k', { set: { qty: 0 } });
    const r = await patch(ns, 'k', { increment: { qty: -1 }, require: [{ field: 'qty', op: '>=', value: 1 }] });
    expect(r.status).toBe(412);
    expect(r.body.current).toMatchObject({ fields: { qty: 0 }, rev: 1 });
    expect((await api.call('GET', `/v1/ns/${ns}/keys/k`)).body.rev).toBe(1);
  });

  test('a require on an absent key stops the create', async () => {
    const ns = uniqueNs();
    const r = await patch(ns, 'k', { set: { a: 1 }, require: [{ field: 'a', op: 'exists' }] });
    expect(r.status).toBe(412);
    expect(r.body.current).toBeNull();
    expect((await api.call('GET', `/v1/ns/${ns}/keys/k`)).status).toBe(404);
  });

  test('increment of a string field is 422 TypeMismatch and writes nothing', async () => {
    const ns = uniqueNs();
    await patch(ns, 'k', { set: { sku: 'A1', qty: 1 } });
    const r = await patch(ns, 'k', { increment: { qty: 1, sku: 1 } });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ code: 'TypeMismatch', field: 'sku' });
    expect((await api.call('GET', `/v1/ns/${ns}/keys/k`)).body).toMatchObject({ rev: 1, fields: { qty: 1 } });
  });

  test('If-Match applies to PATCH', async () => {
    const ns = uniqueNs();
    const a = await patch(ns, 'k', { set: { n: 1 } });
    await patch(ns, 'k', { set: { n: 2 } });
    expect((await patch(ns, 'k', { set: { n: 3 } }, { 'If-Match': a.headers.etag })).status).toBe(412);
  });
});

describe('DELETE', () => {
  test('204, then 404; a stale If-Match is 412 with current', async () => {
    const ns = uniqueNs();
    const a = await put(ns, 'k', { x: 1 });
    await put(ns, 'k', { x: 2 });
    const stale = await api.call('DELETE', `/v1/ns/${ns}/keys/k`, { headers: { 'If-Match': a.headers.etag } });
    expect(stale.status).toBe(412);
    expect(stale.body.current.fields).toEqual({ x: 2 });
    expect((await api.call('DELETE', `/v1/ns/${ns}/keys/k`)).status).toBe(204);
    expect((await api.call('DELETE', `/v1/ns/${ns}/keys/k`)).status).toBe(404);
  });
});

describe('routes', () => {
  test('an undefined method is 405 with Allow', async () => {
    const r = await api.call('POST', `/v1/ns/${uniqueNs()}/keys/k`, { body: {} });
    expect(r.status).toBe(405);
    expect(r.body.code).toBe('MethodNotAllowed');
    expect(r.headers.allow).toContain('PATCH');
  });

  test('an unknown path is 404', async () => {
    expect((await api.call('GET', '/v2/whatever')).body.code).toBe('NotFound');
  });

  test('health is 200 ok with the store checked', async () => {
    const r = await api.call('GET', '/v1/health');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', checks: { store: 'ok' } });
    expect(r.body.checks).toHaveProperty('leaseReaperLagSeconds');
    expect(r.body.checks).toHaveProperty('fieldSweeperLagSeconds');
    // null until a snapshot completes (other test files share these tables), then whole seconds.
    expect(
      r.body.checks.latestSnapshotAgeSeconds === null || Number.isInteger(r.body.checks.latestSnapshotAgeSeconds),
    ).toBe(true);
  });

  test('a write naming a lease or a fencing token is refused: no lease or lock exists', async () => {
    const ns = uniqueNs();
    const lease = await put(ns, 'k', { x: 1 }, { 'X-Lease-Id': 'nope' });
    expect(lease.status).toBe(409);
    expect(lease.body.reason).toBe('LeaseNotFound');
    const fenced = await put(ns, 'k', { x: 1 }, { 'X-Fencing-Token': 'leader:3' });
    expect(fenced.body.reason).toBe('FencingTokenStale');
    expect((await api.call('GET', `/v1/ns/${ns}/keys/k`)).status).toBe(404);
  });
});

test('a 204 carries no body and no media type', async () => {
  const ns = uniqueNs();
  await put(ns, 'k', { x: 1 });
  const r = await api.call('DELETE', `/v1/ns/${ns}/keys/k`);
  expect(r.status).toBe(204);
  expect(r.text).toBe('');
  expect(r.headers['content-type']).toBeUndefined();
});

test('every response names the Region that answered in X-Vesta-Region, errors included', async () => {
  const ns = uniqueNs();
  const answers = await Promise.all([
    api.call('GET', `/v1/ns/${ns}/keys/nope`),
    put(ns, 'k', { a: 1 }),
    api.call('PUT', `/v1/ns/${ns}/keys/k`, { body: { fields: 1 } }),
    api.call('POST', `/v1/ns/${ns}/keys/k`),
    api.call('GET', '/v1/health'),
  ]);
  expect(answers.map((r) => r.status)).toEqual([404, 201, 400, 405, 200]);
  for (const r of answers) expect(r.headers['x-vesta-region']).toBe('local');
});
