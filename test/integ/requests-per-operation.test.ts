/**
 * DynamoDB requests per operation, counted by an SDK middleware: one on every single-key fast
 * path, at most two on a conflict path, two for a transaction. Machine-independent.
 */
import type { Clock } from '../../src/core/ports';
import { testApi, uniqueNs } from './harness';

const api = testApi();
afterAll(() => api.close());

let ns: string;
beforeEach(async () => {
  ns = uniqueNs();
  await api.call('GET', `/v1/ns/${ns}`); // warms the namespace settings cache
});

const count = (method: string, path: string, opts?: Parameters<typeof api.call>[2]) => {
  let status = 0;
  return api.requests
    .count(async () => {
      status = (await api.call(method, path, opts)).status;
    })
    .then((n) => ({ n, status }));
};
const rec = (k: string) => `/v1/ns/${ns}/keys/${k}`;

test('fast paths: GET, PUT, PATCH, increment, DELETE and If-Match writes are one request each', async () => {
  expect(await count('PUT', rec('k'), { body: { fields: { n: 1, s: 'x' } } })).toEqual({ n: 1, status: 201 });
  expect(await count('GET', rec('k'))).toEqual({ n: 1, status: 200 });
  expect(await count('PUT', rec('k'), { body: { fields: { n: 2 } } })).toEqual({ n: 1, status: 200 });
  expect(await count('PATCH', rec('k'), { body: { increment: { n: 1 } } })).toEqual({ n: 1, status: 200 });
  const etag = (await api.call('GET', rec('k'))).headers.etag;
  expect(
    await count('PATCH', rec('k'), {
      body: { set: { s: 'y' }, require: [{ field: 'n', op: '>=', value: 1 }] },
      headers: { 'If-Match': etag },
    }),
  ).toEqual({ n: 1, status: 200 });
  expect(await count('DELETE', rec('k'))).toEqual({ n: 1, status: 204 });
  expect(await count('PATCH', rec('k'), { body: { increment: { n: 1 } } })).toEqual({ n: 1, status: 201 });
  expect(await count('PUT', rec('new'), { body: { fields: {} }, headers: { 'If-None-Match': '*' } })).toEqual({
    n: 1,
    status: 201,
  });
});

test('a failed precondition in reject mode is answered from the one conditional write', async () => {
  const a = await api.call('PUT', rec('k'), { body: { fields: { n: 1 } } });
  await api.call('PUT', rec('k'), { body: { fields: { n: 2 } } });
  expect(await count('PUT', rec('k'), { body: { fields: { n: 3 } }, headers: { 'If-Match': a.headers.etag } })).toEqual(
    { n: 1, status: 412 },
  );
  expect(
    await count('PATCH', rec('k'), { body: { set: { x: 1 }, require: [{ field: 'n', op: '>', value: 5 }] } }),
  ).toEqual({ n: 1, status: 412 });
  expect(await count('DELETE', rec('k'), { headers: { 'If-Match': a.headers.etag } })).toEqual({ n: 1, status: 412 });
  expect(await count('DELETE', rec('absent'))).toEqual({ n: 1, status: 404 });
});

test('conflict paths take at most two requests', async () => {
  await api.call('PUT', rec('s'), { body: { fields: { n: 'text' } } });
  expect(await count('PATCH', rec('s'), { body: { increment: { n: 1 } } })).toEqual({ n: 2, status: 422 });
  expect(await count('PATCH', rec('fresh'), { body: { set: { a: 1 } } })).toEqual({ n: 2, status: 201 });
  await api.call('PUT', `/v1/ns/${ns}`, { body: { conflicts: 'siblings' } });
  expect(await count('PUT', rec('s'), { body: { fields: { n: 'other' } } })).toEqual({ n: 2, status: 200 });
  expect(await count('GET', rec('s'))).toEqual({ n: 1, status: 300 });
  expect(await count('PATCH', rec('s'), { body: { set: { a: 1 } } })).toEqual({ n: 1, status: 409 });
});

test('a transaction is one read and one write', async () => {
  await api.call('PUT', rec('a'), { body: { fields: { n: 1 } } });
  const body = {
    require: [{ key: 'a', exists: true }],
    ops: [
      { op: 'patch', key: 'a', increment: { n: 1 } },
      { op: 'put', key: 'b', fields: {} },
    ],
  };
  api.requests.reset();
  expect(await count('POST', `/v1/ns/${ns}/txn`, { body })).toEqual({ n: 2, status: 200 });
  expect(api.requests.byCommand).toEqual({ BatchGetItemCommand: 1, TransactWriteItemsCommand: 1 });
});

describe('locks', () => {
  class FakeClock implements Clock {
    public t = Date.parse('2026-12-02T10:00:00.000Z');
    public now(): Date {
      return new Date(this.t);
    }
  }
  const clock = new FakeClock();
  const lockApi = testApi({ clock });
  afterAll(() => lockApi.close());
  /** Requests and status of one call, and the commands it sent. */
  const sent = async (method: string, path: string, opts?: Parameters<typeof api.call>[2]) => {
    lockApi.requests.reset();
    const { status } = await lockApi.call(method, path, opts);
    return { status, ...lockApi.requests.snapshot() };
  };
  const grant = async (ttlSeconds: number) =>
    (await lockApi.call('POST', '/v1/leases', { body: { ttlSeconds } })).body.id as string;
  const lock = (name: string) => `/v1/ns/${ns}/locks/${name}`;
  const acquire = (name: string, leaseId: string) => sent('POST', lock(name), { body: { leaseId } });
  const release = (name: string, leaseId: string) => sent('DELETE', lock(name), { headers: { 'X-Lease-Id': leaseId } });

  test('acquire is one transaction and release one plain UpdateItem', async () => {
    const a = await grant(30);
    expect(await acquire('x', a)).toEqual({ status: 200, total: 1, byCommand: { TransactWriteItemsCommand: 1 } });
    expect(await release('x', a)).toEqual({ status: 204, total: 1, byCommand: { UpdateItemCommand: 1 } });
    expect(await release('x', a)).toEqual({ status: 404, total: 1, byCommand: { UpdateItemCommand: 1 } });
  });

  test('the slower lock paths take two requests', async () => {
    const a = await grant(10);
    const b = await grant(60);
    await acquire('x', a);
    // The holder asking again: the failed take, then the lease and the lock's copy of its expiry renewed.
    expect(await acquire('x', a)).toEqual({ status: 200, total: 2, byCommand: { TransactWriteItemsCommand: 2 } });
    // Another lease: the refused release, then both leases' expiries in one read.
    expect(await release('x', b)).toEqual({
      status: 409,
      total: 2,
      byCommand: { UpdateItemCommand: 1, BatchGetItemCommand: 1 },
    });
    // Kept alive past the expiry the lock item copied: the lease itself is checked in a transaction.
    clock.t += 8000;
    await lockApi.call('POST', `/v1/leases/${a}/keepalive`);
    clock.t += 8000;
    expect(await release('x', a)).toEqual({
      status: 204,
      total: 2,
      byCommand: { UpdateItemCommand: 1, TransactWriteItemsCommand: 1 },
    });
    // Taking over from an expired holder: the failed take, then the take conditioned on that expiry.
    await acquire('y', a);
    clock.t += 11000;
    expect(await acquire('y', b)).toEqual({ status: 200, total: 2, byCommand: { TransactWriteItemsCommand: 2 } });
  });
});
