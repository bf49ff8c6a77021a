/**
 * Bad input gets the documented 4xx problem document naming what is wrong, and nothing is
 * written: after each refused request the namespace still lists no key.
 */
import { testApi, uniqueNs } from './harness';

const api = testApi();
afterAll(() => api.close());

const json = { 'content-type': 'application/json' };

type Case = [
  name: string,
  method: string,
  path: (ns: string) => string,
  opts: { headers?: Record<string, string>; body?: unknown },
  status: number,
  code: string,
  field?: string,
];

const cases: Case[] = [
  [
    'malformed JSON',
    'PUT',
    (ns) => `/v1/ns/${ns}/keys/k`,
    { headers: json, body: '{"fields": {' },
    400,
    'ValidationError',
    'body',
  ],
  ['no body', 'PUT', (ns) => `/v1/ns/${ns}/keys/k`, { headers: json }, 400, 'ValidationError', 'body'],
  [
    'fields not an object',
    'PUT',
    (ns) => `/v1/ns/${ns}/keys/k`,
    { body: { fields: [1] } },
    400,
    'ValidationError',
    'body.fields',
  ],
  [
    'unknown member',
    'PUT',
    (ns) => `/v1/ns/${ns}/keys/k`,
    { body: { fields: {}, ttl: 3 } },
    400,
    'ValidationError',
    'body.ttl',
  ],
  ['empty field name', 'PUT', (ns) => `/v1/ns/${ns}/keys/k`, { body: { fields: { '': 1 } } }, 400, 'ValidationError'],
  [
    'field name over 255 characters',
    'PUT',
    (ns) => `/v1/ns/${ns}/keys/k`,
    { body: { fields: { ['f'.repeat(256)]: 1 } } },
    400,
    'ValidationError',
  ],
  [
    'control character in a field name',
    'PATCH',
    (ns) => `/v1/ns/${ns}/keys/k`,
    { body: { set: { 'a\u0001': 1 } } },
    400,
    'ValidationError',
  ],
  [
    'wrong content type',
    'PUT',
    (ns) => `/v1/ns/${ns}/keys/k`,
    { headers: { 'content-type': 'text/plain' }, body: '{"fields":{}}' },
    415,
    'UnsupportedMediaType',
  ],
  [
    'missing content type',
    'PATCH',
    (ns) => `/v1/ns/${ns}/keys/k`,
    { body: '{"set":{"a":1}}' },
    415,
    'UnsupportedMediaType',
  ],
  [
    'body over 256 KiB',
    'PUT',
    (ns) => `/v1/ns/${ns}/keys/k`,
    { body: { fields: { big: 'x'.repeat(257 * 1024) } } },
    413,
    'PayloadTooLarge',
  ],
  ['bad namespace', 'PUT', () => '/v1/ns/Bad_NS/keys/k', { body: { fields: {} } }, 400, 'ValidationError', 'ns'],
  [
    'namespace too long',
    'PUT',
    () => `/v1/ns/${'a'.repeat(64)}/keys/k`,
    { body: { fields: {} } },
    400,
    'ValidationError',
    'ns',
  ],
  [
    'control character in a key',
    'PUT',
    (ns) => `/v1/ns/${ns}/keys/a%01b`,
    { body: { fields: {} } },
    400,
    'ValidationError',
    'key',
  ],
  [
    'key over 1024 bytes',
    'PUT',
    (ns) => `/v1/ns/${ns}/keys/${'k'.repeat(1025)}`,
    { body: { fields: {} } },
    400,
    'ValidationError',
    'key',
  ],
  [
    'bad require op',
    'PATCH',
    (ns) => `/v1/ns/${ns}/keys/k`,
    { body: { set: { a: 1 }, require: [{ field: 'a', op: 'like', value: 1 }] } },
    400,
    'ValidationError',
    'body.require[0].op',
  ],
  [
    'ordering against a boolean',
    'PATCH',
    (ns) => `/v1/ns/${ns}/keys/k`,
    { body: { set: { a: 1 }, require: [{ field: 'a', op: '<', value: true }] } },
    400,
    'ValidationError',
    'body.require[0].value',
  ],
  [
    'increment by a string',
    'PATCH',
    (ns) => `/v1/ns/${ns}/keys/k`,
    { body: { increment: { a: '1' } } },
    400,
    'ValidationError',
    'body.increment.a',
  ],
  ['empty patch', 'PATCH', (ns) => `/v1/ns/${ns}/keys/k`, { body: {} }, 400, 'ValidationError', 'body'],
  [
    'If-None-Match other than *',
    'PUT',
    (ns) => `/v1/ns/${ns}/keys/k`,
    { headers: { 'If-None-Match': '"abc"' }, body: { fields: {} } },
    400,
    'ValidationError',
    'If-None-Match',
  ],
  [
    'two ETags in If-Match',
    'PUT',
    (ns) => `/v1/ns/${ns}/keys/k`,
    { headers: { 'If-Match': '"a", "b"' }, body: { fields: {} } },
    400,
    'ValidationError',
    'If-Match',
  ],
  [
    'malformed fencing token',
    'PUT',
    (ns) => `/v1/ns/${ns}/keys/k`,
    { headers: { 'X-Fencing-Token': 'nocolon' }, body: { fields: {} } },
    400,
    'ValidationError',
    'X-Fencing-Token',
  ],
  [
    'txn with unknown member',
    'POST',
    (ns) => `/v1/ns/${ns}/txn`,
    { body: { ops: [{ op: 'put', key: 'k', fields: {} }], when: 1 } },
    400,
    'ValidationError',
    'body.when',
  ],
  [
    'number DynamoDB cannot store',
    'PUT',
    (ns) => `/v1/ns/${ns}/keys/k`,
    { body: '{"fields":{"n":1e300}}', headers: json },
    400,
    'ValidationError',
    'body.fields.n',
  ],
];

test.each(cases)('%s is refused with the documented problem and writes nothing', async (...row) => {
  const [, method, path, opts, status, code, field] = row as Case;
  const ns = uniqueNs();
  const r = await api.call(method, path(ns), opts);
  expect(r.status).toBe(status);
  expect(r.headers['content-type']).toBe('application/problem+json');
  expect(r.body).toMatchObject({
    status,
    code,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
  });
  if (field) expect(r.body.field).toBe(field);
  expect((await api.call('GET', `/v1/ns/${ns}/keys`)).body.items).toEqual([]);
});

test('a patch that would take a record past 350 KiB is 413 and leaves it as it was', async () => {
  const ns = uniqueNs();
  const chunk = 'x'.repeat(200 * 1024);
  expect((await api.call('PUT', `/v1/ns/${ns}/keys/k`, { body: { fields: { a: chunk } } })).status).toBe(201);
  const r = await api.call('PATCH', `/v1/ns/${ns}/keys/k`, { body: { set: { b: chunk } } });
  expect(r.status).toBe(413);
  expect(r.body.code).toBe('PayloadTooLarge');
  const got = await api.call('GET', `/v1/ns/${ns}/keys/k`);
  expect(got.body.rev).toBe(1);
  expect(Object.keys(got.body.fields)).toEqual(['a']);
});

test('replacing a large field with one of the same size fits, though the fast path cannot tell', async () => {
  const ns = uniqueNs();
  const chunk = 'x'.repeat(200 * 1024);
  expect((await api.call('PUT', `/v1/ns/${ns}/keys/k`, { body: { fields: { a: chunk } } })).status).toBe(201);
  const r = await api.call('PATCH', `/v1/ns/${ns}/keys/k`, { body: { set: { a: chunk.replace(/^x/, 'y') } } });
  expect(r.status).toBe(200);
  expect(r.body.fields.a.startsWith('y')).toBe(true);
});
