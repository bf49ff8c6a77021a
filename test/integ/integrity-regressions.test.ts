/**
 * Regressions of what a hostile client once did to the store: numbers past a double's precision
 * or near DynamoDB's limits, keys that smuggled a path, field names that reached the prototype,
 * and shapes (depth, width, a key of one space, `null` counters) that answered 500 or 413. The key
 * tests go over real HTTP through the local gateway, where URL normalization used to happen.
 */
import { request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '../../src/local/server';
import { type Reply, testApi, uniqueNs } from './harness';
import { exact } from './fuzz-gen';

const api = testApi();
let server: Server;
let port = 0;

beforeAll(async () => {
  server = await serve(api.handler, 0);
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  api.close();
});

const json = { 'content-type': 'application/json' };

/** A request over HTTP with its path sent byte for byte (no client-side normalization). */
function http(method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: body ? json : {} }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const put = (ns: string, key: string, body: string) =>
  api.call('PUT', `/v1/ns/${ns}/keys/${key}`, { body, headers: json });
const patch = (ns: string, key: string, body: string) =>
  api.call('PATCH', `/v1/ns/${ns}/keys/${key}`, { body, headers: json });
const fieldsOf = (r: Reply) => (exact(r) as { fields: Record<string, unknown> }).fields;

describe('numbers are exact decimals within DynamoDB range', () => {
  it('a counter past 2^53 increments exactly and stays readable and listable', async () => {
    const ns = uniqueNs('num');
    expect((await put(ns, 'c', '{"fields":{"n":9007199254740991}}')).status).toBe(201);
    const r = await patch(ns, 'c', '{"increment":{"n":2}}');
    expect(r.status).toBe(200);
    expect(r.text).toContain('"n":9007199254740993');
    expect((await api.call('GET', `/v1/ns/${ns}/keys/c`)).text).toContain('"n":9007199254740993');
    const list = await api.call('GET', `/v1/ns/${ns}/keys?fields=true`);
    expect(list.status).toBe(200);
    expect(list.text).toContain('"n":9007199254740993');
  });

  it('keeps every digit and both ends of the range', async () => {
    const ns = uniqueNs('num');
    const body =
      '{"fields":{"a":12345678901234567890123,"b":0.12345678901234567890123,"c":1e125,"d":1e-130,"e":-9.9999999999999999999999999999999999999e125}}';
    expect((await put(ns, 'k', body)).status).toBe(201);
    const got = (await api.call('GET', `/v1/ns/${ns}/keys/k`)).text;
    for (const digits of [
      '"a":12345678901234567890123',
      '"b":0.12345678901234567890123',
      '"c":1e+125',
      '"d":1e-130',
      '"e":-9.9999999999999999999999999999999999999e+125',
    ]) {
      expect(got).toContain(digits);
    }
  });

  it('refuses numbers outside the range with 400 naming the field, and nothing is written', async () => {
    const ns = uniqueNs('num');
    for (const [n, field] of [
      ['1e126', 'body.fields.x'],
      ['1e-131', 'body.fields.x'],
      ['123456789012345678901234567890123456789', 'body.fields.x'],
    ]) {
      const r = await put(ns, 'k', `{"fields":{"x":${n}}}`);
      expect([r.status, r.body.code, r.body.field]).toEqual([400, 'ValidationError', field]);
    }
    expect((await api.call('GET', `/v1/ns/${ns}/keys/k`)).status).toBe(404);
  });

  it('an increment whose result DynamoDB cannot hold is 422 OutOfRange and writes nothing', async () => {
    const ns = uniqueNs('num');
    await put(ns, 'k', '{"fields":{"one":1,"big":9.9999999999999999999999999999999999999e125}}');
    const before = await api.call('GET', `/v1/ns/${ns}/keys/k`);
    for (const body of [
      '{"increment":{"one":1e-130}}',
      '{"increment":{"big":1e125}}',
      '{"increment":{"one":1,"big":1e125}}',
    ]) {
      const r = await patch(ns, 'k', body);
      expect([r.status, r.body.code]).toEqual([422, 'OutOfRange']);
    }
    expect((await api.call('GET', `/v1/ns/${ns}/keys/k`)).headers.etag).toBe(before.headers.etag);
  });

  it('a transaction and a transfer saga move exact decimal amounts', async () => {
    const ns = uniqueNs('num');
    expect((await put(ns, 'a', '{"fields":{"bal":10000000000000000000.000000000000000001}}')).status).toBe(201);
    const txn = await api.call('POST', `/v1/ns/${ns}/txn`, {
      body: '{"ops":[{"op":"patch","key":"a","increment":{"bal":-0.000000000000000001}},{"op":"put","key":"b","fields":{"bal":0}}]}',
      headers: json,
    });
    expect(txn.status).toBe(200);
    expect((await api.call('GET', `/v1/ns/${ns}/keys/a`)).text).toContain('"bal":10000000000000000000}');
    const saga = await api.call('POST', '/v1/sagas', {
      body: `{"type":"transfer","input":{"namespace":"${ns}","from":"a","to":"b","field":"bal","amount":0.1234567890123456789}}`,
      headers: json,
    });
    expect(saga.status).toBe(202);
    await api.workflows.settled();
    expect((await api.call('GET', `/v1/sagas/${saga.body.id}`)).body.status).toBe('SUCCEEDED');
    expect((await api.call('GET', `/v1/ns/${ns}/keys/a`)).text).toContain(
      '"bal":9999999999999999999.8765432109876543211}',
    );
    expect((await api.call('GET', `/v1/ns/${ns}/keys/b`)).text).toContain('"bal":0.1234567890123456789}');
  });
});

describe('keys are data, never paths', () => {
  it('encoded dot segments are 400 and never reach another route, namespace or key', async () => {
    const ns = uniqueNs('key');
    const other = uniqueNs('other');
    for (const path of [
      `/v1/ns/${ns}/keys/a%2F..%2F..%2F..%2F${other}`,
      `/v1/ns/${ns}/keys/..%2F..%2F${other}`,
      `/v1/ns/${ns}/keys/%2e%2e/%2e%2e/%2e%2e/health`,
      `/v1/ns/${ns}/keys/../../../health`,
      `/v1/ns/${ns}/keys/x/%2E/y`,
      `/v1/ns/${ns}/keys/..%2Ftxn`,
    ]) {
      for (const method of ['PUT', 'GET']) {
        const r = await http(method, path, method === 'PUT' ? '{"conflicts":"siblings","fields":{}}' : undefined);
        expect([path, method, r.status, JSON.parse(r.text).field]).toEqual([path, method, 400, 'key']);
      }
    }
    expect(JSON.parse((await http('GET', `/v1/ns/${other}`)).text)).toEqual({ namespace: other, conflicts: 'reject' });
    expect((await http('GET', `/v1/ns/${ns}/keys?limit=10`)).text).toBe('{"items":[],"cursor":null}');
  });

  it('an encoded slash, a space and a percent sign are characters of the key', async () => {
    const ns = uniqueNs('key');
    expect((await http('PUT', `/v1/ns/${ns}/keys/a%2Fb`, '{"fields":{"v":1}}')).status).toBe(201);
    expect(JSON.parse((await http('GET', `/v1/ns/${ns}/keys/a/b`)).text).key).toBe('a/b');
    for (const [raw, key] of [
      ['%20', ' '],
      ['%25', '%'],
      ['100%25%20off', '100% off'],
    ]) {
      const r = await http('PUT', `/v1/ns/${ns}/keys/${raw}`, '{"fields":{}}');
      expect([r.status, JSON.parse(r.text).key]).toEqual([201, key]);
    }
    expect((await http('GET', `/v1/ns/${ns}/keys/%`)).status).toBe(400);
  });
});

describe('field names are data', () => {
  it('__proto__, constructor and toString are fields like any other', async () => {
    const ns = uniqueNs('names');
    const r = await patch(ns, 'p', '{"increment":{"__proto__":1,"constructor":2},"set":{"toString":{"__proto__":3}}}');
    expect(r.status).toBe(201);
    expect(r.text).toContain('"__proto__":1');
    const got = fieldsOf(await api.call('GET', `/v1/ns/${ns}/keys/p`));
    expect(Object.keys(got).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(JSON.parse((await api.call('GET', `/v1/ns/${ns}/keys/p?fields=__proto__`)).text).fields).toEqual(
      JSON.parse('{"__proto__":1}'),
    );
    expect(
      (await patch(ns, 'p', '{"increment":{"__proto__":1},"require":[{"field":"constructor","op":"==","value":2}]}'))
        .text,
    ).toContain('"__proto__":2');
  });
});

describe('shapes that once answered 500 or 413', () => {
  it('a body nested 1,000 deep is 400; a key of one space is a key; a null counter is 422', async () => {
    const ns = uniqueNs('shape');
    const deep = await put(ns, 'd', `{"fields":{"a":${'['.repeat(1000)}${']'.repeat(1000)}}}`);
    expect([deep.status, deep.body.field]).toEqual([400, 'body']);
    expect((await put(ns, '%20', '{"fields":{}}')).status).toBe(201);
    await put(ns, 'nl', '{"fields":{"x":null}}');
    const r = await patch(ns, 'nl', '{"increment":{"x":1}}');
    expect([r.status, r.body.code, r.body.field]).toEqual([422, 'TypeMismatch', 'x']);
  });

  it('a PATCH touching 800 fields applies in one piece', async () => {
    const ns = uniqueNs('shape');
    const set = Array.from({ length: 800 }, (_, i) => `"f${String(i).padStart(3, '0')}":${i}`).join(',');
    const r = await patch(ns, 'wide', `{"set":{${set}}}`);
    expect(r.status).toBe(201);
    expect(Object.keys(r.body.fields)).toHaveLength(800);
    const incr = await patch(ns, 'wide', `{"increment":{${set}}}`);
    expect(incr.status).toBe(200);
    expect(incr.body.fields.f799).toBe(1598);
  });
});
