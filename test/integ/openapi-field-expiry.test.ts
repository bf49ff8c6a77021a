/**
 * docs/openapi.yaml against the real handler for field expiry: `expire` and `persist` bodies
 * accepted and refused as the zod schemas do, and records, siblings, listed items and `412`s that
 * carry `expires`, each response validated against the document. A fake clock moves time, so due
 * fields are checked without sleeping.
 */
import type { ZodType } from 'zod';
import { patchBody, putBody, txnBody } from '../../src/core/wire';
import { requestBodyValidator } from '../openapi';
import { FakeClock } from './contract/clock';
import { injectFaults } from './faults';
import { testApi, uniqueNs } from './harness';

const NS = '/v1/ns/{ns}';
const KEYS = '/v1/ns/{ns}/keys';
const RECORD = '/v1/ns/{ns}/keys/{key+}';
const TXN = '/v1/ns/{ns}/txn';

const clock = new FakeClock();
const api = testApi({ clock });
afterAll(() => api.close());
const { want } = injectFaults(api, 'openapiFieldExpiryFaults');

const rec = (ns: string, key: string) => `/v1/ns/${ns}/keys/${encodeURIComponent(key)}`;
const inSeconds = (iso: string) => (Date.parse(iso) - clock.t) / 1000;

test('request body schemas accept and refuse expire and persist as the zod schemas do', () => {
  const cases: [ZodType<unknown>, string, string, unknown][] = [];
  const add = (schema: ZodType<unknown>, method: string, resource: string, bodies: unknown[]) => {
    for (const b of bodies) cases.push([schema, method, resource, b]);
  };
  add(putBody, 'PUT', RECORD, [
    { fields: { a: 1 }, expire: { a: 30 } },
    { fields: { a: 1 }, expire: { a: 31_536_000 } },
    { fields: { a: 1 }, expire: { a: 0 } },
    { fields: { a: 1 }, expire: { a: 31_536_001 } },
    { fields: { a: 1 }, expire: { a: 1.5 } },
    { fields: { a: 1 }, expire: { a: '30' } },
    { fields: { a: 1 }, expire: { '': 30 } },
    { fields: { a: 1 }, expire: [] },
    { fields: { a: 1 }, persist: ['a'] },
  ]);
  add(patchBody, 'PATCH', RECORD, [
    { expire: { a: 30 } },
    { persist: ['a'] },
    { persist: [] },
    { expire: {} },
    { set: { a: 1 }, expire: { a: 5 }, persist: ['b'] },
    { persist: [''] },
    { persist: 'a' },
    { expire: { a: -1 } },
  ]);
  add(txnBody, 'POST', TXN, [
    { ops: [{ op: 'put', key: 'a', fields: { x: 1 }, expire: { x: 5 } }] },
    { ops: [{ op: 'patch', key: 'a', expire: { x: 5 } }] },
    { ops: [{ op: 'patch', key: 'a', persist: ['x'] }] },
    { ops: [{ op: 'put', key: 'a', fields: {}, persist: ['x'] }] },
    { ops: [{ op: 'delete', key: 'a', expire: { x: 5 } }] },
    { ops: [{ op: 'patch', key: 'a', expire: { x: 0 } }] },
  ]);
  const disagreements = cases.flatMap(([schema, method, resource, body]) => {
    const zod = schema.safeParse(body).success;
    const doc = requestBodyValidator(method, resource)(body);
    return zod === doc.valid
      ? []
      : [`${method} ${resource} ${JSON.stringify(body)}: zod ${zod}, document ${doc.valid} ${doc.errors}`];
  });
  expect(disagreements).toEqual([]);
});

test('PUT and PATCH with expire and persist: expires on the record, a listed item and a 412', async () => {
  const ns = uniqueNs('fx');
  const path = rec(ns, 'otp');

  const put = await want(201, 'PUT', RECORD, path, {
    body: { fields: { code: '1', user: 'ann' }, expire: { code: 60 } },
  });
  const patched = await want(200, 'PATCH', RECORD, path, { body: { expire: { user: 120 }, persist: ['code'] } });
  const listed = await want(200, 'GET', KEYS, `/v1/ns/${ns}/keys?fields=true`);
  const unknown = await want(412, 'PATCH', RECORD, path, { body: { expire: { nope: 5 } } });
  const both = await want(400, 'PATCH', RECORD, path, { body: { expire: { user: 5 }, persist: ['user'] } });
  const putUnknown = await want(412, 'PUT', RECORD, path, { body: { fields: { a: 1 }, expire: { code: 5 } } });

  expect(inSeconds(put.body.expires.code)).toBe(60);
  expect(patched.body.fields).toEqual({ code: '1', user: 'ann' });
  expect(Object.keys(patched.body.expires)).toEqual(['user']);
  expect(inSeconds(patched.body.expires.user)).toBe(120);
  expect(listed.body.items).toEqual([expect.objectContaining({ key: 'otp', expires: patched.body.expires })]);
  expect(unknown.body.current).toMatchObject({ fields: { code: '1', user: 'ann' } });
  expect(unknown.headers.etag).toBe(patched.headers.etag);
  expect(both.body.code).toBe('ValidationError');
  expect(putUnknown.body.current).toMatchObject({ fields: { code: '1', user: 'ann' } });
});

test('a due field is invisible at once with the same ETag; a record with every field due is 404, unlisted, absent to a txn', async () => {
  const ns = uniqueNs('fx');
  await want(201, 'PUT', RECORD, rec(ns, 'a'), { body: { fields: { code: '1', keep: true }, expire: { code: 10 } } });
  await want(201, 'PUT', RECORD, rec(ns, 'b'), { body: { fields: { code: '1' }, expire: { code: 10 } } });
  const before = await want(200, 'GET', RECORD, rec(ns, 'a'));

  clock.advance(11);
  const after = await want(200, 'GET', RECORD, rec(ns, 'a'));
  await want(404, 'GET', RECORD, rec(ns, 'b'));
  const listed = await want(200, 'GET', KEYS, `/v1/ns/${ns}/keys?fields=true`);
  await want(200, 'POST', TXN, `/v1/ns/${ns}/txn`, {
    body: { require: [{ key: 'b', exists: false }], ops: [{ op: 'put', key: 'c', fields: { n: 1 } }] },
  });
  const restarted = await want(200, 'PATCH', RECORD, rec(ns, 'a'), { body: { increment: { code: 1 }, set: { x: 1 } } });

  expect(after.body.fields).toEqual({ keep: true });
  expect(after.body.expires).toBeUndefined();
  expect(after.headers.etag).toBe(before.headers.etag);
  expect(listed.body.items.map((i: { key: string; fields: object }) => [i.key, i.fields])).toEqual([
    ['a', { keep: true }],
  ]);
  expect(restarted.body.fields).toEqual({ keep: true, code: 1, x: 1 });
});

test('siblings each carry their own expires', async () => {
  const ns = uniqueNs('fx');
  await want(200, 'PUT', NS, `/v1/ns/${ns}`, { body: { conflicts: 'siblings' } });
  await want(201, 'PUT', RECORD, rec(ns, 's'), { body: { fields: { a: 1 }, expire: { a: 30 } } });

  const two = await want(200, 'PUT', RECORD, rec(ns, 's'), { body: { fields: { a: 2 } } });

  expect(two.body.siblings).toHaveLength(2);
  expect(two.body.siblings.map((s: { expires?: object }) => s.expires !== undefined).sort()).toEqual([false, true]);
});

test('txn: put and patch ops carry expire and persist; naming a field the record will not have is 412', async () => {
  const ns = uniqueNs('fx');
  const txn = `/v1/ns/${ns}/txn`;

  await want(200, 'POST', TXN, txn, {
    body: {
      ops: [
        { op: 'put', key: 'a', fields: { code: '1' }, expire: { code: 30 } },
        { op: 'patch', key: 'b', set: { n: 1 }, expire: { n: 60 } },
      ],
    },
  });
  await want(200, 'POST', TXN, txn, { body: { ops: [{ op: 'patch', key: 'a', persist: ['code'] }] } });
  const refused = await want(412, 'POST', TXN, txn, {
    body: { ops: [{ op: 'patch', key: 'b', expire: { nope: 5 } }] },
  });
  const a = await want(200, 'GET', RECORD, rec(ns, 'a'));
  const b = await want(200, 'GET', RECORD, rec(ns, 'b'));

  expect(a.body.expires).toBeUndefined();
  expect(inSeconds(b.body.expires.n)).toBe(60);
  expect(refused.body).toMatchObject({ failed: [], current: { key: 'b', fields: { n: 1 } } });
  expect(refused.body.detail).toBe('ops[0] ("b"): expire names field "nope", which the record will not have');
  expect(refused.headers.etag).toBe(b.headers.etag);
});
