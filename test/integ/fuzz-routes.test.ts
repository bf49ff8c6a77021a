/**
 * Fuzzing every other route through the real handler on DynamoDB Local: transactions, namespace
 * settings, changes, leases, locks, sagas, snapshots, restores, health, unknown paths and
 * methods, and the headers every write reads. No answer is a 5xx, every error is a problem
 * document naming what is wrong, a transaction that is accepted reads back exactly, and a refused
 * request leaves a sentinel record (and its namespace's settings) untouched.
 */
import fc from 'fast-check';
import { ROUTES, resources } from '../../src/api/routes';
import { type Reply, testApi, uniqueNs } from './harness';
import {
  Fuzzer,
  decodedKey,
  exact,
  fieldName,
  keyPath,
  numberText,
  objectText,
  rawKey,
  sameJson,
  valueText,
} from './fuzz-gen';

// Each property runs a fixed number of generated requests: the time that takes depends on the
// machine's load (other test files run beside it), so the limit is far above a quiet run's.
jest.setTimeout(300_000);

const api = testApi();
const ns = uniqueNs('fr');
const sentinelNs = uniqueNs('frs');
let sentinelEtag = '';
const fuzz = new Fuzzer(api);
const call = (method: string, path: string, body?: string, headers?: Record<string, string>) =>
  fuzz.call(method, path, body, headers);

async function untouched(): Promise<void> {
  expect((await call('GET', `/v1/ns/${sentinelNs}/keys/s`)).headers.etag).toBe(sentinelEtag);
  expect(exact(await call('GET', `/v1/ns/${sentinelNs}`))).toEqual({ namespace: sentinelNs, conflicts: 'siblings' });
}

/** Sends a request; a refused one must leave the sentinel as it was. */
async function send(method: string, path: string, body?: string, headers?: Record<string, string>): Promise<Reply> {
  const r = await call(method, path, body, headers);
  if (r.status >= 400 && method !== 'GET') await untouched();
  return r;
}

const str = (s: string) => JSON.stringify(s);
const jsonKey = fc.oneof(
  rawKey.map((k) => decodedKey(k) ?? k),
  fc.string({ maxLength: 8 }),
  fc.constantFrom('a', 'b', '..', 'a/./b', ' ', '%2F'),
);
const anyJson = fc.oneof(valueText(2), fc.constantFrom('{}', '[]', '""', '{"x":1}'));
const headerValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '*',
    '"x"',
    'W/"a"',
    '"a", "b"',
    'lock:1',
    'lock:99999999999999999999999',
    ':1',
    'x:-1',
    'a'.repeat(200),
  ),
);
const headers = fc
  .record(
    {
      'if-match': headerValue,
      'if-none-match': headerValue,
      'x-lease-id': headerValue,
      'x-fencing-token': headerValue,
      'idempotency-key': fc.oneof(headerValue, fc.constantFrom('k1', 'k2')),
    },
    { requiredKeys: [] },
  )
  .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => /^[\x20-\x7e]*$/.test(v))));

beforeAll(async () => {
  await api.call('PUT', `/v1/ns/${sentinelNs}`, { body: { conflicts: 'siblings' } });
  const r = await api.call('PUT', `/v1/ns/${sentinelNs}/keys/s`, {
    body: '{"fields":{"n":1e-130,"constructor":{}}}',
    headers: { 'content-type': 'application/json' },
  });
  sentinelEtag = r.headers.etag;
});

afterAll(async () => {
  await api.workflows.settled();
  api.close();
  console.log(fuzz.summary('routes fuzz'));
});

describe('routes fuzz', () => {
  it('POST txn: generated ops and requires commit exactly or not at all', async () => {
    const op = fc.oneof(
      fc
        .tuple(jsonKey, objectText(fieldName, valueText(2), 4))
        .map(([k, f]) => `{"op":"put","key":${str(k)},"fields":${f}}`),
      fc
        .tuple(jsonKey, objectText(fieldName, numberText, 2))
        .map(([k, i]) => `{"op":"patch","key":${str(k)},"increment":${i}}`),
      fc.tuple(jsonKey, objectText(fieldName, anyJson, 2)).map(([k, s]) => `{"op":"patch","key":${str(k)},"set":${s}}`),
      jsonKey.map((k) => `{"op":"delete","key":${str(k)}}`),
      fc.constantFrom('{"op":"merge","key":"a"}', '{"op":"put"}', '1', 'null'),
    );
    const req = fc.oneof(
      fc.tuple(jsonKey, fc.string()).map(([k, e]) => `{"key":${str(k)},"etag":${str(e)}}`),
      fc.tuple(jsonKey, fc.boolean()).map(([k, b]) => `{"key":${str(k)},"exists":${b}}`),
      fc
        .tuple(jsonKey, fieldName, fc.constantFrom('==', '>', 'absent', '~'), anyJson)
        .map(([k, f, o, v]) => `{"key":${str(k)},"field":${str(f)},"op":"${o}","value":${v}}`),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 5 }),
        fc.array(req, { maxLength: 3 }),
        headers,
        async (ops, reqs, h) => {
          const body = `{"ops":[${ops.join(',')}]${reqs.length ? `,"require":[${reqs.join(',')}]` : ''}}`;
          const r = await send('POST', `/v1/ns/${ns}/txn`, body, h);
          if (r.status !== 200) return;
          const sentOps = (exact({ text: body } as Reply) as { ops: { op: string; key: string; fields?: unknown }[] })
            .ops;
          for (const o of sentOps.filter((x) => x.op === 'put')) {
            const got = await call('GET', `/v1/ns/${ns}/keys/${keyPath(o.key)}`);
            expect(sameJson((exact(got) as { fields: unknown }).fields, o.fields)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('namespace settings and changes take any value without 5xx', async () => {
    const nsName = fc.oneof(
      fc.constantFrom(ns, 'a', 'A', '-a', 'a'.repeat(64), '%2F', '..', '%2e%2e', 'a%2Fb'),
      fc.string({ maxLength: 10 }).map(encodeURIComponent),
    );
    const waitless = fc
      .oneof(fc.constantFrom('0', '-1', '21', '0.5', 'x', '1e3', ''), fc.string({ maxLength: 4 }))
      .filter((w) => !/^\s*0*[1-9]\d*\s*$/.test(w));
    const q = fc.record(
      {
        after: fc.string({ maxLength: 20 }),
        prefix: fc.string({ maxLength: 6 }),
        limit: fc.oneof(fc.integer({ min: -2, max: 1002 }).map(String), fc.string()),
        wait: waitless,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        nsName,
        anyJson,
        q,
        fc.constantFrom('PUT', 'GET', 'CHANGES', 'DELETE'),
        async (n, body, query, method) => {
          const qs = Object.entries(query)
            .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
            .join('&');
          if (method === 'CHANGES') await send('GET', `/v1/ns/${n}/changes?${qs}`);
          else await send(method, `/v1/ns/${n}`, method === 'PUT' ? body : undefined);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('leases and locks: any ttl, id, name and body without 5xx', async () => {
    const id = fc.oneof(
      fc.string({ maxLength: 30 }).map(encodeURIComponent),
      fc.constantFrom('x', '%2F', '..', 'a'.repeat(300)),
    );
    const name = fc.oneof(rawKey, id);
    await fc.assert(
      fc.asyncProperty(
        numberText,
        id,
        name,
        anyJson,
        fc.integer({ min: 0, max: 5 }),
        async (ttl, leaseId, lock, body, which) => {
          if (which === 0) await send('POST', '/v1/leases', `{"ttlSeconds":${ttl}}`);
          else if (which === 1) await send('POST', `/v1/leases/${leaseId}/keepalive`);
          else if (which === 2) await send('GET', `/v1/leases/${leaseId}`);
          else if (which === 3) await send('DELETE', `/v1/leases/${leaseId}`);
          else if (which === 4)
            await send(
              'POST',
              `/v1/ns/${ns}/locks/${lock}`,
              Math.random() < 0.5 ? body : `{"leaseId":${str(decodedKey(leaseId) ?? leaseId)}}`,
            );
          else await send('DELETE', `/v1/ns/${ns}/locks/${lock}`, undefined, { 'x-lease-id': 'a' });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('sagas, snapshots and restores: generated bodies and ids without 5xx', async () => {
    const step = fc
      .tuple(fc.string({ maxLength: 6 }), jsonKey, objectText(fieldName, numberText, 2))
      .map(([n, k, inc]) => `{"name":${str(n)},"action":{"op":"patch","key":${str(k)},"increment":${inc}}}`);
    const saga = fc.oneof(
      fc.array(step, { maxLength: 3 }).map((s) => `{"namespace":"${ns}","steps":[${s.join(',')}]}`),
      fc
        .tuple(fieldName, numberText)
        .map(
          ([f, a]) =>
            `{"type":"transfer","input":{"namespace":"${ns}","from":"a","to":"b","field":${str(f)},"amount":${a}}}`,
        ),
      anyJson,
    );
    const id = fc.oneof(fc.string({ maxLength: 12 }).map(encodeURIComponent), fc.constantFrom('..', '%2F', 'x'));
    await fc.assert(
      fc.asyncProperty(saga, id, anyJson, fc.integer({ min: 0, max: 6 }), async (body, sid, other, which) => {
        if (which === 0) await send('POST', '/v1/sagas', body);
        else if (which === 1) await send('GET', `/v1/sagas/${sid}`);
        else if (which === 2)
          await send('POST', '/v1/snapshots', Math.random() < 0.9 ? other : `{"namespace":"${ns}"}`);
        else if (which === 3) await send('GET', `/v1/snapshots/${sid}`);
        else if (which === 4) await send('GET', `/v1/snapshots?namespace=${sid}`);
        else if (which === 5) await send('POST', `/v1/snapshots/${sid}/restore`, other);
        else await send('GET', `/v1/restores/${sid}`);
      }),
      { numRuns: 400 },
    );
  });

  it('dead letters: any source, id, query and body without 5xx', async () => {
    const id = fc.oneof(
      fc.string({ maxLength: 40 }).map(encodeURIComponent),
      fc.constantFrom('..', '%2F', 'x', 'publisher:0'),
    );
    const q = fc.record(
      {
        source: fc.oneof(
          fc.constantFrom('publisher', 'snapshot', 'restore', 'reaper', 'renewer'),
          fc.string({ maxLength: 8 }),
        ),
        limit: fc.oneof(fc.integer({ min: -2, max: 1002 }).map(String), fc.string()),
        cursor: fc.string({ maxLength: 20 }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(id, q, anyJson, fc.integer({ min: 0, max: 3 }), async (entry, query, body, which) => {
        const qs = Object.entries(query)
          .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
          .join('&');
        if (which === 0) await send('GET', `/v1/dead-letters?${qs}`);
        else if (which === 1) await send('GET', `/v1/dead-letters/${entry}`);
        else if (which === 2)
          await send('POST', `/v1/dead-letters/${entry}/replay`, Math.random() < 0.5 ? body : undefined);
        else await send('DELETE', `/v1/dead-letters/${entry}`);
      }),
      { numRuns: 300 },
    );
  });

  it('unknown paths and methods are 404 or 405 problem documents', async () => {
    const path = fc.oneof(
      rawKey.map((k) => `/v1/${k}`),
      rawKey.map((k) => `/${k}`),
      fc.constantFrom('/', '/v1', '/v1/', '/v2/health', '/v1/health/', '/v1/ns', '/v1/ns/a/keys', '/v1/ns/a/keys/'),
    );
    await fc.assert(
      fc.asyncProperty(
        path,
        fc.constantFrom('GET', 'PUT', 'PATCH', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'BREW'),
        anyJson,
        async (p, method, body) => {
          await send(method, p, method === 'GET' || method === 'HEAD' ? undefined : body);
        },
      ),
      { numRuns: 400 },
    );
    await untouched();
  });

  it("a method a resource does not have is 405 naming exactly the route table's methods, in any case", async () => {
    // A concrete path per resource of the route table: each template parameter filled with data.
    const paths = resources().map((r) => ({
      resource: r,
      methods: ROUTES.filter((x) => x.resource === r).map((x) => x.method as string),
    }));
    const method = fc
      .tuple(fc.constantFrom('GET', 'PUT', 'PATCH', 'POST', 'DELETE', 'HEAD', 'OPTIONS'), fc.boolean())
      .map(([m, lower]) => (lower ? m.toLowerCase() : m));
    const param = fc.oneof(
      fc.constantFrom('a', '__proto__', 'constructor', 'x.y'),
      fc.stringMatching(/^[a-z0-9]{1,8}$/),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), method, param, async ({ resource, methods }, m, p) => {
        fc.pre(!methods.includes(m.toUpperCase()));
        const path = resource.replace(/\{[^}]+\}/g, p);
        const r = await send(m, path, m === 'GET' || m === 'HEAD' ? undefined : '{}');
        expect(r.status).toBe(405);
        expect(r.headers.allow).toBe(methods.join(', '));
      }),
      { numRuns: 300 },
    );
    await untouched();
  });

  it('sent thousands of requests (with the records fuzz, over 10,000 a run)', () => {
    expect(fuzz.sent).toBeGreaterThanOrEqual(4000);
    expect(fuzz.refused).toBeGreaterThan(1000);
  });
});
