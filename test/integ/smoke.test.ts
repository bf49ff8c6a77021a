import { testApi, uniqueNs } from './harness';

const api = testApi();
afterAll(() => api.close());

test('a PUT record is read back with the same ETag', async () => {
  const ns = uniqueNs();
  const put = await api.call('PUT', `/v1/ns/${ns}/keys/cart/42`, { body: { fields: { qty: 3 } } });
  expect(put.status).toBe(201);
  const got = await api.call('GET', `/v1/ns/${ns}/keys/cart%2F42`);
  expect(got.status).toBe(200);
  expect(got.body.fields).toEqual({ qty: 3 });
  expect(got.headers.etag).toBe(put.headers.etag);
});
