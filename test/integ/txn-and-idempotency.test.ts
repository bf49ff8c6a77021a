import { lambdaContext, toProxyEvent } from '../../src/local/server';
import { testApi, uniqueNs } from './harness';

const api = testApi();
afterAll(() => api.close());

const put = (ns: string, key: string, fields: object) =>
  api.call('PUT', `/v1/ns/${ns}/keys/${key}`, { body: { fields } });
const get = (ns: string, key: string) => api.call('GET', `/v1/ns/${ns}/keys/${key}`);

describe('transactions', () => {
  test('all ops commit together and report rev and etag in op order', async () => {
    const ns = uniqueNs();
    const a = await put(ns, 'a', { v: 1 });
    await put(ns, 'c', { qty: 2 });
    await put(ns, 'd', { x: 1 });
    const r = await api.call('POST', `/v1/ns/${ns}/txn`, {
      body: {
        require: [
          { key: 'a', etag: a.headers.etag },
          { key: 'b', exists: false },
          { key: 'c', field: 'qty', op: '>', value: 0 },
        ],
        ops: [
          { op: 'put', key: 'a', fields: { v: 2 } },
          { op: 'patch', key: 'c', increment: { qty: -1 } },
          { op: 'delete', key: 'd' },
          { op: 'put', key: 'b', fields: { new: true } },
        ],
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.results).toEqual([
      { key: 'a', rev: 2, etag: expect.any(String) },
      { key: 'c', rev: 2, etag: expect.any(String) },
      { key: 'd', deleted: true },
      { key: 'b', rev: 1, etag: expect.any(String) },
    ]);
    const ga = await get(ns, 'a');
    expect(ga.body.fields).toEqual({ v: 2 });
    expect(ga.headers.etag).toBe(r.body.results[0].etag);
    expect((await get(ns, 'c')).body.fields).toEqual({ qty: 1 });
    expect((await get(ns, 'd')).status).toBe(404);
    expect((await get(ns, 'b')).body.fields).toEqual({ new: true });
  });

  test('a require that does not hold is 412 with its indexes and nothing is written', async () => {
    const ns = uniqueNs();
    const a = await put(ns, 'a', { v: 1 });
    await put(ns, 'a', { v: 2 });
    await put(ns, 'c', { qty: 0 });
    const r = await api.call('POST', `/v1/ns/${ns}/txn`, {
      body: {
        require: [
          { key: 'a', etag: a.headers.etag },
          { key: 'c', exists: true },
          { key: 'c', field: 'qty', op: '>', value: 0 },
        ],
        ops: [
          { op: 'put', key: 'x', fields: {} },
          { op: 'patch', key: 'c', increment: { qty: -1 } },
        ],
      },
    });
    expect(r.status).toBe(412);
    expect(r.body).toMatchObject({ code: 'PreconditionFailed', failed: [0, 2] });
    expect((await get(ns, 'x')).status).toBe(404);
    expect((await get(ns, 'c')).body).toMatchObject({ rev: 1, fields: { qty: 0 } });
  });

  test('a key in two ops, more than 100 keys, or a bad op is 400', async () => {
    const ns = uniqueNs();
    const two = await api.call('POST', `/v1/ns/${ns}/txn`, {
      body: {
        ops: [
          { op: 'delete', key: 'a' },
          { op: 'delete', key: 'a' },
        ],
      },
    });
    expect(two.status).toBe(400);
    const many = Array.from({ length: 101 }, (_, i) => ({ op: 'put', key: `k${i}`, fields: {} }));
    expect((await api.call('POST', `/v1/ns/${ns}/txn`, { body: { ops: many } })).status).toBe(400);
    const bad = await api.call('POST', `/v1/ns/${ns}/txn`, { body: { ops: [{ op: 'upsert', key: 'a' }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('body.ops[0].op');
    expect((await api.call('GET', `/v1/ns/${ns}/keys`)).body.items).toEqual([]);
  });

  test('100 keys commit in one transaction', async () => {
    const ns = uniqueNs();
    const ops = Array.from({ length: 100 }, (_, i) => ({
      op: 'put',
      key: `k${String(i).padStart(3, '0')}`,
      fields: { i },
    }));
    const r = await api.call('POST', `/v1/ns/${ns}/txn`, { body: { ops } });
    expect(r.status).toBe(200);
    expect((await api.call('GET', `/v1/ns/${ns}/keys?limit=1000`)).body.items).toHaveLength(100);
  });
});

describe('Idempotency-Key', () => {
  test('the same key and request returns the first response and performs nothing', async () => {
    const ns = uniqueNs();
    const send = () =>
      api.call('PATCH', `/v1/ns/${ns}/keys/counter`, {
        body: { increment: { n: 1 } },
        headers: { 'Idempotency-Key': `inc-${ns}` },
      });
    const first = await send();
    const again = await send();
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect((await get(ns, 'counter')).body).toMatchObject({ rev: 1, fields: { n: 1 } });
  });

  test('the same key with a different request is 422 IdempotencyKeyReused and performs nothing', async () => {
    const ns = uniqueNs();
    const headers = { 'Idempotency-Key': `put-${ns}` };
    await api.call('PUT', `/v1/ns/${ns}/keys/k`, { body: { fields: { a: 1 } }, headers });
    const other = await api.call('PUT', `/v1/ns/${ns}/keys/k`, { body: { fields: { a: 2 } }, headers });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('IdempotencyKeyReused');
    expect((await get(ns, 'k')).body.fields).toEqual({ a: 1 });
  });

  test('an error response is kept too, and a malformed key is 400', async () => {
    const ns = uniqueNs();
    const headers = { 'Idempotency-Key': `del-${ns}` };
    expect((await api.call('DELETE', `/v1/ns/${ns}/keys/k`, { headers })).status).toBe(404);
    await put(ns, 'k', { a: 1 });
    expect((await api.call('DELETE', `/v1/ns/${ns}/keys/k`, { headers })).status).toBe(404);
    expect((await get(ns, 'k')).status).toBe(200);
    const bad = await api.call('DELETE', `/v1/ns/${ns}/keys/k`, { headers: { 'Idempotency-Key': 'x'.repeat(129) } });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('Idempotency-Key');
  });
});

describe('Idempotency-Key belongs to its caller', () => {
  const as = (caller: string | undefined, key: string) => ({
    'Idempotency-Key': key,
    ...(caller !== undefined ? { 'X-Vesta-Caller': caller } : {}),
  });

  test('two callers that send the same key and request both execute; each replays its own response', async () => {
    const ns = uniqueNs();
    const inc = (caller: string) =>
      api.call('PATCH', `/v1/ns/${ns}/keys/counter`, { body: { increment: { n: 1 } }, headers: as(caller, 'shared') });
    const alice = await inc('alice');
    const bob = await inc('bob');
    expect([alice.status, bob.status]).toEqual([201, 200]);
    expect(bob.body.rev).toBe(2);
    const aliceAgain = await inc('alice');
    const bobAgain = await inc('bob');
    expect(aliceAgain.text).toBe(alice.text);
    expect(bobAgain.text).toBe(bob.text);
    expect((await get(ns, 'counter')).body).toMatchObject({ rev: 2, fields: { n: 2 } });
  });

  test("another caller never gets the first caller's lease id back by reusing its key", async () => {
    const first = await api.call('POST', '/v1/leases', { body: { ttlSeconds: 30 }, headers: as('alice', 'grant-1') });
    const replay = await api.call('POST', '/v1/leases', { body: { ttlSeconds: 30 }, headers: as('alice', 'grant-1') });
    const other = await api.call('POST', '/v1/leases', { body: { ttlSeconds: 30 }, headers: as('mallory', 'grant-1') });
    const anonymous = await api.call('POST', '/v1/leases', {
      body: { ttlSeconds: 30 },
      headers: as(undefined, 'grant-1'),
    });
    expect(replay.body.id).toBe(first.body.id);
    expect(other.status).toBe(201);
    expect(anonymous.status).toBe(201);
    expect(new Set([first.body.id, other.body.id, anonymous.body.id]).size).toBe(3);
  });

  test('a key reused with a different request by the same caller is still 422, and another caller may use it', async () => {
    const ns = uniqueNs();
    await api.call('PUT', `/v1/ns/${ns}/keys/k`, { body: { fields: { a: 1 } }, headers: as('alice', 'k1') });
    const reused = await api.call('PUT', `/v1/ns/${ns}/keys/k`, {
      body: { fields: { a: 2 } },
      headers: as('alice', 'k1'),
    });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IdempotencyKeyReused');
    expect((await get(ns, 'k')).body.fields).toEqual({ a: 1 });
    const bob = await api.call('PUT', `/v1/ns/${ns}/keys/k`, { body: { fields: { a: 2 } }, headers: as('bob', 'k1') });
    expect(bob.status).toBe(200);
    expect((await get(ns, 'k')).body.fields).toEqual({ a: 2 });
  });

  test('anonymous is one caller: no X-Vesta-Caller and an empty one share keys', async () => {
    const ns = uniqueNs();
    const inc = (caller: string | undefined) =>
      api.call('PATCH', `/v1/ns/${ns}/keys/c`, { body: { increment: { n: 1 } }, headers: as(caller, 'anon') });
    const first = await inc(undefined);
    expect((await inc('  ')).text).toBe(first.text);
    expect((await get(ns, 'c')).body.fields).toEqual({ n: 1 });
  });

  test('in AWS the caller is the IAM principal of requestContext.identity, never the X-Vesta-Caller header', async () => {
    const ns = uniqueNs();
    const signed = (userArn: string, header: string) => {
      const body = JSON.stringify({ increment: { n: 1 } });
      const headers = { 'content-type': 'application/json', 'idempotency-key': 'signed', 'x-vesta-caller': header };
      const event = toProxyEvent('PATCH', `/v1/ns/${ns}/keys/c`, headers, Buffer.from(body), '127.0.0.1');
      const identity = { ...event.requestContext.identity, userArn, caller: null, user: null };
      return api.handler(
        { ...event, requestContext: { ...event.requestContext, identity } },
        lambdaContext(event.requestContext.requestId),
      );
    };
    const role = 'arn:aws:sts::123456789012:assumed-role/worker/i-1';
    const first = await signed(role, 'someone-else');
    const spoofed = await signed('arn:aws:iam::123456789012:user/mallory', role);
    const replay = await signed(role, 'anything');
    expect(first.statusCode).toBe(201);
    expect(spoofed.statusCode).toBe(200);
    expect(replay.body).toBe(first.body);
    expect((await get(ns, 'c')).body.fields).toEqual({ n: 2 });
  });
});
