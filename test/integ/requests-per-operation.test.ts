/**
 * DynamoDB requests per operation, counted by an SDK middleware: one on every single-key fast
 * path, at most two on a conflict path, two for a transaction. Machine-independent.
 */
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
