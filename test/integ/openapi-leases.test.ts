/**
 * docs/openapi.yaml against the real handler for leases, locks, and record writes that carry
 * `X-Lease-Id` or `X-Fencing-Token`: every lease and lock route, every status it can produce, each
 * response validated with `expectMatchesOpenApi`. Time is a fake clock (expiry is decided by the
 * service's clock at each request), so leases expire without sleeping. Store failures are
 * injected into the DynamoDB client for the control table. The last test checks that every
 * documented status of the lease and lock operations was produced here.
 */
import { FakeClock } from './contract/clock';
import { ValidationError } from '../../src/core/errors';
import { acquireBody, grantBody, validateLeaseId } from '../../src/core/leases';
import { parseBody } from '../../src/core/wire';
import { LEASE_RESOURCES, expectMatchesOpenApi, requestBodyValidator, unseenStatuses } from '../openapi';
import { injectFaults } from './faults';
import { type CallOptions, testApi, testTables, uniqueNs } from './harness';

const LEASES = '/v1/leases';
const LEASE = '/v1/leases/{id}';
const KEEPALIVE = '/v1/leases/{id}/keepalive';
const LOCK = '/v1/ns/{ns}/locks/{name}';
const LOCKS = '/v1/ns/{ns}/locks';
const RECORD = '/v1/ns/{ns}/keys/{key+}';
const KEYS = '/v1/ns/{ns}/keys';
const TXN = '/v1/ns/{ns}/txn';

const { VESTA_CONTROL_TABLE: CONTROL } = testTables();

const clock = new FakeClock(Date.now());
const api = testApi({ clock });
afterAll(() => api.close());

const { holding, want, storeFailures } = injectFaults(api, 'openapiLeasesTestFaults');

// ---- calls --------------------------------------------------------------------------------

async function retryInProgress(
  command: string,
  method: string,
  resource: string,
  path: string,
  opts: CallOptions,
  firstStatus: number,
): Promise<void> {
  const [first, dup] = await holding(
    CONTROL,
    command,
    () => api.call(method, path, opts),
    () => want(409, method, resource, path, opts),
  );
  expect(dup.body.reason).toBe('RequestInProgress');
  expect(dup.headers['retry-after']).toBe('1');
  expectMatchesOpenApi(method, resource, first);
  expect(first.status).toBe(firstStatus);
}

const json = (text: string, headers: Record<string, string> = {}): CallOptions => ({
  body: text,
  headers: { 'content-type': 'application/json', ...headers },
});
const rec = (ns: string, key: string) => `/v1/ns/${ns}/keys/${key.split('/').map(encodeURIComponent).join('/')}`;
const lockPath = (ns: string, name: string) => `/v1/ns/${ns}/locks/${encodeURIComponent(name)}`;
/** A well-formed lease id that Vesta never issued. */
const unknownLease = (): string =>
  `${'0'.repeat(16)}${Math.floor(Math.random() * 0xffffffff)
    .toString(16)
    .padStart(8, '0')}.30`;

async function grant(ttlSeconds = 30): Promise<{ id: string; ttlSeconds: number; expiresAt: string }> {
  return (await want(201, 'POST', LEASES, '/v1/leases', { body: { ttlSeconds } })).body;
}
const acquire = (status: number, ns: string, name: string, leaseId: string) =>
  want(status, 'POST', LOCK, lockPath(ns, name), { body: { leaseId } });
const iso = (ms: number) => new Date(ms).toISOString();

// ---- the document -------------------------------------------------------------------------

test('request body schemas accept and refuse what the handlers do', () => {
  const handler = (check: (b: unknown) => void) => (b: unknown) => {
    try {
      check(b);
      return true;
    } catch (e) {
      if (e instanceof ValidationError) return false;
      throw e;
    }
  };
  const cases: [string, string, (b: unknown) => boolean, unknown[]][] = [
    [
      'POST',
      LEASES,
      handler((b) => parseBody(grantBody, b)),
      [
        { ttlSeconds: 5 },
        { ttlSeconds: 86400 },
        { ttlSeconds: 30.0 },
        { ttlSeconds: 4 },
        { ttlSeconds: 86401 },
        { ttlSeconds: 1.5 },
        { ttlSeconds: '30' },
        {},
        { ttlSeconds: 30, x: 1 },
        [],
        null,
      ],
    ],
    [
      'POST',
      LOCK,
      handler((b) => validateLeaseId(parseBody(acquireBody, b).leaseId)),
      [
        { leaseId: '5f0c2a9e41b7d3806a1e9c44.30' },
        { leaseId: 'x' },
        { leaseId: '~'.repeat(128) },
        { leaseId: 'x'.repeat(129) },
        { leaseId: '' },
        { leaseId: 'a b' },
        { leaseId: 'é' },
        { leaseId: 1 },
        {},
        { leaseId: 'x', ttlSeconds: 5 },
      ],
    ],
  ];
  const disagreements = cases.flatMap(([method, resource, accepts, bodies]) =>
    bodies.flatMap((body) => {
      const doc = requestBodyValidator(method, resource)(body);
      const impl = accepts(body);
      return impl === doc.valid
        ? []
        : [`${method} ${resource} ${JSON.stringify(body)}: handler ${impl}, document ${doc.valid} ${doc.errors}`];
    }),
  );
  expect(disagreements).toEqual([]);
});

// ---- leases -------------------------------------------------------------------------------

describe('POST /v1/leases', () => {
  test('201 with an id carrying the TTL and expiresAt = now + ttlSeconds', async () => {
    const l = await grant(30);
    expect(l.id).toMatch(/^[0-9a-f]{24}\.30$/);
    expect(l).toEqual({ id: l.id, ttlSeconds: 30, expiresAt: iso(clock.t + 30000) });
    expect((await grant(86400)).ttlSeconds).toBe(86400);
    expect((await grant(5)).ttlSeconds).toBe(5);
  });

  test('400, 413, 415, 409 RequestInProgress, 422, 429/503/500, 405', async () => {
    for (const body of [{ ttlSeconds: 4 }, { ttlSeconds: 86401 }, { ttlSeconds: 1.5 }, { ttlSeconds: '30' }]) {
      expect((await want(400, 'POST', LEASES, '/v1/leases', { body })).body.field).toBe('body.ttlSeconds');
    }
    expect((await want(400, 'POST', LEASES, '/v1/leases', { body: { ttlSeconds: 30, keys: [] } })).body.field).toBe(
      'body.keys',
    );
    expect((await want(400, 'POST', LEASES, '/v1/leases', json('{"ttlSeconds":'))).body.field).toBe('body');
    expect((await want(400, 'POST', LEASES, '/v1/leases')).body.field).toBe('body');
    await want(413, 'POST', LEASES, '/v1/leases', json(`{"ttlSeconds":30,"pad":"${'x'.repeat(270 * 1024)}"}`));
    await want(415, 'POST', LEASES, '/v1/leases', {
      body: '{"ttlSeconds":30}',
      headers: { 'content-type': 'text/plain' },
    });
    const key = `grant-${uniqueNs()}`;
    await retryInProgress(
      'PutItemCommand',
      'POST',
      LEASES,
      '/v1/leases',
      { headers: { 'idempotency-key': key }, body: { ttlSeconds: 30 } },
      201,
    );
    const replay = await want(201, 'POST', LEASES, '/v1/leases', {
      headers: { 'idempotency-key': key },
      body: { ttlSeconds: 30 },
    });
    await want(200, 'GET', LEASE, `/v1/leases/${replay.body.id}`);
    await want(422, 'POST', LEASES, '/v1/leases', { headers: { 'idempotency-key': key }, body: { ttlSeconds: 60 } });
    await storeFailures(CONTROL, 'POST', LEASES, '/v1/leases', { body: { ttlSeconds: 30 } });
    for (const m of ['GET', 'PUT', 'DELETE'])
      expect((await want(405, m, LEASES, '/v1/leases')).headers.allow).toBe('POST');
  });
});

describe('GET /v1/leases/{id}', () => {
  test('200 with remainingSeconds rounded up and the keys written with the lease', async () => {
    const ns = uniqueNs();
    const l = await grant(30);
    clock.advance(10.2);
    const got = await want(200, 'GET', LEASE, `/v1/leases/${l.id}`);
    expect(got.body).toEqual({ id: l.id, ttlSeconds: 30, remainingSeconds: 20, expiresAt: l.expiresAt, keys: [] });
    await want(201, 'PUT', RECORD, rec(ns, 'cart/1'), { headers: { 'x-lease-id': l.id }, body: { fields: { a: 1 } } });
    await want(201, 'PATCH', RECORD, rec(ns, 'cart/2'), { headers: { 'x-lease-id': l.id }, body: { set: { a: 2 } } });
    await want(200, 'POST', TXN, `/v1/ns/${ns}/txn`, {
      headers: { 'x-lease-id': l.id },
      body: { ops: [{ op: 'put', key: 't', fields: {} }] },
    });
    clock.advance(19.7);
    const late = await want(200, 'GET', LEASE, `/v1/leases/${l.id}`);
    expect(late.body.remainingSeconds).toBe(1);
    const keys = (late.body.keys as { namespace: string; key: string }[]).map((k) => `${k.namespace}/${k.key}`).sort();
    expect(keys).toEqual([`${ns}/cart/1`, `${ns}/cart/2`, `${ns}/t`]);
  });

  test('404 expired (at expiresAt exactly), revoked or unknown; 400; 429/503/500; 405', async () => {
    const l = await grant(5);
    clock.advance(5);
    await want(404, 'GET', LEASE, `/v1/leases/${l.id}`);
    const r = await grant(30);
    await want(204, 'DELETE', LEASE, `/v1/leases/${r.id}`);
    await want(404, 'GET', LEASE, `/v1/leases/${r.id}`);
    await want(404, 'GET', LEASE, `/v1/leases/${unknownLease()}`);
    await want(404, 'GET', LEASE, '/v1/leases/not-from-vesta');
    expect((await want(400, 'GET', LEASE, '/v1/leases/a%20b')).body.field).toBe('id');
    expect((await want(400, 'GET', LEASE, `/v1/leases/${'x'.repeat(129)}`)).body.field).toBe('id');
    await storeFailures(CONTROL, 'GET', LEASE, `/v1/leases/${(await grant()).id}`);
    for (const m of ['POST', 'PUT', 'PATCH'])
      expect((await want(405, m, LEASE, '/v1/leases/x')).headers.allow).toBe('GET, DELETE');
  });
});

describe('POST /v1/leases/{id}/keepalive', () => {
  test('200 restarts the TTL; an expired lease is never brought back (404)', async () => {
    const l = await grant(30);
    clock.advance(25);
    const kept = await want(200, 'POST', KEEPALIVE, `/v1/leases/${l.id}/keepalive`);
    expect(kept.body).toEqual({ id: l.id, ttlSeconds: 30, expiresAt: iso(clock.t + 30000) });
    clock.advance(29);
    await want(200, 'GET', LEASE, `/v1/leases/${l.id}`);
    clock.advance(1);
    await want(404, 'POST', KEEPALIVE, `/v1/leases/${l.id}/keepalive`);
    await want(404, 'GET', LEASE, `/v1/leases/${l.id}`);
    await want(404, 'POST', KEEPALIVE, `/v1/leases/${l.id}/keepalive`);
  });

  test('404 revoked or unknown, 400, 409 RequestInProgress, 422, 429/503/500, 405', async () => {
    const r = await grant(30);
    await want(204, 'DELETE', LEASE, `/v1/leases/${r.id}`);
    await want(404, 'POST', KEEPALIVE, `/v1/leases/${r.id}/keepalive`);
    await want(404, 'POST', KEEPALIVE, `/v1/leases/${unknownLease()}/keepalive`);
    expect((await want(400, 'POST', KEEPALIVE, '/v1/leases/%7F/keepalive')).body.field).toBe('id');
    const l = await grant(30);
    const key = { 'idempotency-key': `keepalive-${l.id}` };
    await retryInProgress(
      'UpdateItemCommand',
      'POST',
      KEEPALIVE,
      `/v1/leases/${l.id}/keepalive`,
      { headers: key },
      200,
    );
    await want(422, 'POST', KEEPALIVE, `/v1/leases/${(await grant()).id}/keepalive`, { headers: key });
    await storeFailures(CONTROL, 'POST', KEEPALIVE, `/v1/leases/${l.id}/keepalive`);
    for (const m of ['GET', 'DELETE'])
      expect((await want(405, m, KEEPALIVE, `/v1/leases/${l.id}/keepalive`)).headers.allow).toBe('POST');
  });
});

describe('DELETE /v1/leases/{id}', () => {
  test('204: its records are gone at once (404, not listed, absent in txn) and its locks are free', async () => {
    const ns = uniqueNs();
    const l = await grant(60);
    const created = await want(201, 'PUT', RECORD, rec(ns, 'a'), {
      headers: { 'x-lease-id': l.id },
      body: { fields: { v: 1 } },
    });
    expect(created.body.lease).toBe(true);
    const lock = await acquire(200, ns, 'L', l.id);
    await want(204, 'DELETE', LEASE, `/v1/leases/${l.id}`);
    await want(404, 'GET', RECORD, rec(ns, 'a'));
    expect((await want(200, 'GET', KEYS, `/v1/ns/${ns}/keys`)).body.items).toEqual([]);
    await want(200, 'POST', TXN, `/v1/ns/${ns}/txn`, {
      body: { require: [{ key: 'a', exists: false }], ops: [{ op: 'put', key: 'b', fields: {} }] },
    });
    const next = await acquire(200, ns, 'L', (await grant()).id);
    expect(next.body.fencingToken).toBeGreaterThan(lock.body.fencingToken);
    const again = await want(201, 'PUT', RECORD, rec(ns, 'a'), { body: { fields: { v: 2 } } });
    expect(again.body.rev).toBeGreaterThan(created.body.rev);
    expect(again.body.lease).toBeNull();
    await want(404, 'DELETE', LEASE, `/v1/leases/${l.id}`);
  });

  test('404 expired or unknown, 400, 409 RequestInProgress, 422, 429/503/500', async () => {
    const l = await grant(5);
    clock.advance(6);
    await want(404, 'DELETE', LEASE, `/v1/leases/${l.id}`);
    await want(404, 'DELETE', LEASE, `/v1/leases/${unknownLease()}`);
    expect((await want(400, 'DELETE', LEASE, '/v1/leases/a%09b')).body.field).toBe('id');
    const r = await grant(30);
    const key = { 'idempotency-key': `revoke-${r.id}` };
    await retryInProgress('QueryCommand', 'DELETE', LEASE, `/v1/leases/${r.id}`, { headers: key }, 204);
    await want(204, 'DELETE', LEASE, `/v1/leases/${r.id}`, { headers: key });
    await want(422, 'DELETE', LEASE, `/v1/leases/${(await grant()).id}`, { headers: key });
    await storeFailures(CONTROL, 'DELETE', LEASE, `/v1/leases/${(await grant()).id}`);
  });
});

// ---- locks --------------------------------------------------------------------------------

describe('POST /v1/ns/{ns}/locks/{name}', () => {
  test('200 with a growing hybrid-clock token; the holder again gets the same token and a renewed lease', async () => {
    const ns = uniqueNs();
    const l = await grant(30);
    const first = await acquire(200, ns, 'orders writer', l.id);
    expect(first.body).toEqual({
      name: 'orders writer',
      leaseId: l.id,
      fencingToken: expect.any(Number),
      expiresAt: iso(clock.t + 30000),
    });
    expect(Number.isSafeInteger(first.body.fencingToken)).toBe(true);
    expect(first.body.fencingToken).toBeGreaterThanOrEqual(clock.t * 1000);
    clock.advance(20);
    const again = await acquire(200, ns, 'orders writer', l.id);
    expect(again.body.fencingToken).toBe(first.body.fencingToken);
    expect(again.body.expiresAt).toBe(iso(clock.t + 30000));
    expect((await want(200, 'GET', LEASE, `/v1/leases/${l.id}`)).body.expiresAt).toBe(again.body.expiresAt);
    // Another namespace's lock of the same name is another lock.
    await acquire(200, uniqueNs(), 'orders writer', (await grant()).id);
  });

  test("409 LockHeld with the holder's token and expiry, never its lease id; once the holder's lease expires another lease takes it with a greater token", async () => {
    const ns = uniqueNs();
    const a = await grant(10);
    const b = await grant(30);
    const held = await acquire(200, ns, 'L', a.id);
    const refused = await acquire(409, ns, 'L', b.id);
    expect(refused.body).toMatchObject({
      code: 'Conflict',
      reason: 'LockHeld',
      holder: { fencingToken: held.body.fencingToken, expiresAt: held.body.expiresAt },
    });
    expect(Object.keys(refused.body.holder).sort()).toEqual(['expiresAt', 'fencingToken']);
    expect(JSON.stringify(refused.body)).not.toContain(a.id);
    clock.advance(10);
    const taken = await acquire(200, ns, 'L', b.id);
    expect(taken.body.fencingToken).toBeGreaterThan(held.body.fencingToken);
    expect((await acquire(409, ns, 'L', a.id)).body.reason).toBe('LeaseNotFound');
  });

  test('409 LeaseNotFound for an unknown, expired or revoked lease', async () => {
    const ns = uniqueNs();
    expect((await acquire(409, ns, 'L', unknownLease())).body.reason).toBe('LeaseNotFound');
    expect((await acquire(409, ns, 'L', 'not-from-vesta')).body.reason).toBe('LeaseNotFound');
    const e = await grant(5);
    clock.advance(5);
    expect((await acquire(409, ns, 'L', e.id)).body.reason).toBe('LeaseNotFound');
    const r = await grant(30);
    await want(204, 'DELETE', LEASE, `/v1/leases/${r.id}`);
    expect((await acquire(409, ns, 'L', r.id)).body.reason).toBe('LeaseNotFound');
    const l = await grant(30);
    await acquire(200, ns, 'L', l.id);
  });

  test('400, 413, 415, 409 RequestInProgress, 422, 429/503/500, 405', async () => {
    const ns = uniqueNs();
    const l = await grant(30);
    const bad = async (path: string, opts: CallOptions, field: string) =>
      expect((await want(400, 'POST', LOCK, path, opts)).body.field).toBe(field);
    await bad(`/v1/ns/${ns}/locks/a%2Fb`, { body: { leaseId: l.id } }, 'name');
    await bad(`/v1/ns/${ns}/locks/a%01b`, { body: { leaseId: l.id } }, 'name');
    await bad(`/v1/ns/${ns}/locks/${'n'.repeat(256)}`, { body: { leaseId: l.id } }, 'name');
    await bad(`/v1/ns/Bad/locks/a`, { body: { leaseId: l.id } }, 'ns');
    await bad(lockPath(ns, 'a'), { body: {} }, 'body.leaseId');
    await bad(lockPath(ns, 'a'), { body: { leaseId: 'a b' } }, 'body.leaseId');
    await bad(lockPath(ns, 'a'), { body: { leaseId: l.id, ttlSeconds: 5 } }, 'body.ttlSeconds');
    await bad(lockPath(ns, 'a'), {}, 'body');
    await want(413, 'POST', LOCK, lockPath(ns, 'a'), json(`{"leaseId":"${l.id}","pad":"${'x'.repeat(270 * 1024)}"}`));
    await want(415, 'POST', LOCK, lockPath(ns, 'a'), {
      body: JSON.stringify({ leaseId: l.id }),
      headers: { 'content-type': 'text/plain' },
    });
    const key = { 'idempotency-key': `acquire-${ns}` };
    await retryInProgress(
      'TransactWriteItemsCommand',
      'POST',
      LOCK,
      lockPath(ns, 'busy'),
      { headers: key, body: { leaseId: l.id } },
      200,
    );
    await want(422, 'POST', LOCK, lockPath(ns, 'other'), { headers: key, body: { leaseId: l.id } });
    await storeFailures(CONTROL, 'POST', LOCK, lockPath(ns, 'f'), { body: { leaseId: l.id } });
    for (const m of ['GET', 'PUT', 'PATCH'])
      expect((await want(405, m, LOCK, lockPath(ns, 'a'))).headers.allow).toBe('POST, DELETE');
  });
});

describe('DELETE /v1/ns/{ns}/locks/{name}', () => {
  test("204 for the holder; the token is kept, so the next holder's is greater; 404 once nobody holds it", async () => {
    const ns = uniqueNs();
    const a = await grant(30);
    const first = await acquire(200, ns, 'L', a.id);
    await want(204, 'DELETE', LOCK, lockPath(ns, 'L'), { headers: { 'x-lease-id': a.id } });
    await want(404, 'DELETE', LOCK, lockPath(ns, 'L'), { headers: { 'x-lease-id': a.id } });
    const second = await acquire(200, ns, 'L', a.id);
    expect(second.body.fencingToken).toBeGreaterThan(first.body.fencingToken);
    await want(404, 'DELETE', LOCK, lockPath(ns, 'never'), { headers: { 'x-lease-id': a.id } });
  });

  test('409 LockHeld when another lease holds it; 404 for an unknown lease; 400 without X-Lease-Id', async () => {
    const ns = uniqueNs();
    const a = await grant(30);
    const b = await grant(30);
    await acquire(200, ns, 'L', a.id);
    const other = await want(409, 'DELETE', LOCK, lockPath(ns, 'L'), { headers: { 'x-lease-id': b.id } });
    expect(other.body.reason).toBe('LockHeld');
    await want(404, 'DELETE', LOCK, lockPath(ns, 'L'), { headers: { 'x-lease-id': unknownLease() } });
    expect((await want(400, 'DELETE', LOCK, lockPath(ns, 'L'))).body.field).toBe('X-Lease-Id');
    expect((await want(400, 'DELETE', LOCK, lockPath(ns, 'L'), { headers: { 'x-lease-id': 'a b' } })).body.field).toBe(
      'X-Lease-Id',
    );
    expect(
      (await want(400, 'DELETE', LOCK, `/v1/ns/${ns}/locks/a%2F`, { headers: { 'x-lease-id': a.id } })).body.field,
    ).toBe('name');
    await want(204, 'DELETE', LOCK, lockPath(ns, 'L'), { headers: { 'x-lease-id': a.id } });
  });

  test('409 RequestInProgress, 422, 429/503/500', async () => {
    const ns = uniqueNs();
    const a = await grant(30);
    await acquire(200, ns, 'L', a.id);
    const opts = { headers: { 'x-lease-id': a.id, 'idempotency-key': `release-${ns}` } };
    await retryInProgress('UpdateItemCommand', 'DELETE', LOCK, lockPath(ns, 'L'), opts, 204);
    await want(422, 'DELETE', LOCK, lockPath(ns, 'M'), opts);
    await storeFailures(CONTROL, 'DELETE', LOCK, lockPath(ns, 'L'), { headers: { 'x-lease-id': a.id } });
  });
});

// ---- GET /v1/ns/{ns}/locks ----------------------------------------------------------------

describe('GET /v1/ns/{ns}/locks', () => {
  test('200 pages of held locks, without lease ids; an expired lease no longer holds its lock', async () => {
    const ns = uniqueNs();
    const a = await grant(60);
    const b = await grant(10);
    await acquire(200, ns, 'x', a.id);
    await acquire(200, ns, 'y', b.id);
    const first = await want(200, 'GET', LOCKS, `/v1/ns/${ns}/locks?limit=1`);
    expect(first.body.items).toEqual([{ name: 'x', fencingToken: expect.any(Number), expiresAt: a.expiresAt }]);
    const next = await want(200, 'GET', LOCKS, `/v1/ns/${ns}/locks?limit=1&cursor=${first.body.cursor}`);
    expect(next.body.items.map((l: { name: string }) => l.name)).toEqual(['y']);
    clock.advance(10);
    expect((await want(200, 'GET', LOCKS, `/v1/ns/${ns}/locks`)).body).toEqual({
      items: [{ name: 'x', fencingToken: expect.any(Number), expiresAt: a.expiresAt }],
      cursor: null,
    });
    await want(200, 'GET', LOCKS, `/v1/ns/${ns}/locks?prefix=z`);
  });

  test('400 naming the parameter; 429/503/500; 405 with Allow: GET', async () => {
    const ns = uniqueNs();
    for (const [q, field] of [
      ['prefix=a%2Fb', 'prefix'],
      ['limit=1001', 'limit'],
      ['cursor=x', 'cursor'],
    ])
      expect((await want(400, 'GET', LOCKS, `/v1/ns/${ns}/locks?${q}`)).body.field).toBe(field);
    expect((await want(400, 'GET', LOCKS, '/v1/ns/NO/locks')).body.field).toBe('ns');
    await storeFailures(CONTROL, 'GET', LOCKS, `/v1/ns/${ns}/locks`);
    for (const m of ['POST', 'PUT', 'PATCH', 'DELETE'])
      expect((await want(405, m, LOCKS, `/v1/ns/${ns}/locks`)).headers.allow).toBe('GET');
  });
});

// ---- record writes with leases and fencing tokens -----------------------------------------

describe('records written with X-Lease-Id', () => {
  test('carry "lease", are listed, and are gone (404, not listed, absent in txn) once the lease expires', async () => {
    const ns = uniqueNs();
    const l = await grant(30);
    const put = await want(201, 'PUT', RECORD, rec(ns, 'a'), {
      headers: { 'x-lease-id': l.id },
      body: { fields: { v: 1 } },
    });
    expect(put.body.lease).toBe(true);
    const got = await want(200, 'GET', RECORD, rec(ns, 'a'));
    expect(got.body.lease).toBe(true);
    const patched = await want(200, 'PATCH', RECORD, rec(ns, 'a'), {
      headers: { 'x-lease-id': l.id },
      body: { increment: { v: 1 } },
    });
    expect(patched.body).toMatchObject({ fields: { v: 2 }, lease: true });
    expect((await want(200, 'GET', KEYS, `/v1/ns/${ns}/keys`)).body.items.map((i: { key: string }) => i.key)).toEqual([
      'a',
    ]);
    clock.advance(30);
    await want(404, 'GET', RECORD, rec(ns, 'a'));
    expect((await want(200, 'GET', KEYS, `/v1/ns/${ns}/keys?fields=true`)).body.items).toEqual([]);
    await want(200, 'POST', TXN, `/v1/ns/${ns}/txn`, {
      body: { require: [{ key: 'a', exists: false }], ops: [{ op: 'put', key: 'b', fields: {} }] },
    });
    await want(404, 'DELETE', RECORD, rec(ns, 'a'));
    const recreated = await want(201, 'PATCH', RECORD, rec(ns, 'a'), { body: { set: { w: 1 } } });
    expect(recreated.body).toMatchObject({ fields: { w: 1 }, lease: null });
    expect(recreated.body.rev).toBeGreaterThan(patched.body.rev);
  });

  test('no view of a leased record reveals the lease id: reads, listings, 412 current and the write itself', async () => {
    const ns = uniqueNs();
    const l = await grant(30);
    const bodies = [
      (await want(201, 'PUT', RECORD, rec(ns, 'a'), { headers: { 'x-lease-id': l.id }, body: { fields: { v: 1 } } }))
        .body,
      (await want(200, 'PATCH', RECORD, rec(ns, 'a'), { headers: { 'x-lease-id': l.id }, body: { set: { w: 2 } } }))
        .body,
      (await want(200, 'GET', RECORD, rec(ns, 'a'))).body,
      (await want(200, 'GET', KEYS, `/v1/ns/${ns}/keys?fields=true`)).body,
      (
        await want(412, 'PATCH', RECORD, rec(ns, 'a'), {
          body: { set: { x: 1 }, require: [{ field: 'v', op: '==', value: 9 }] },
        })
      ).body,
    ];
    expect(bodies[2]).toMatchObject({ fields: { v: 1, w: 2 }, lease: true });
    expect(bodies[4].current).toMatchObject({ lease: true });
    for (const b of bodies) expect(JSON.stringify(b)).not.toContain(l.id.split('.')[0]);
  });

  test('a write with an unknown or expired lease is 409 LeaseNotFound and writes nothing', async () => {
    const ns = uniqueNs();
    const l = await grant(5);
    clock.advance(5);
    for (const lease of [l.id, unknownLease()]) {
      const h = { 'x-lease-id': lease };
      expect((await want(409, 'PUT', RECORD, rec(ns, 'a'), { headers: h, body: { fields: {} } })).body.reason).toBe(
        'LeaseNotFound',
      );
      expect(
        (await want(409, 'PATCH', RECORD, rec(ns, 'a'), { headers: h, body: { set: { x: 1 } } })).body.reason,
      ).toBe('LeaseNotFound');
      const txn = await want(409, 'POST', TXN, `/v1/ns/${ns}/txn`, {
        headers: h,
        body: { ops: [{ op: 'put', key: 'a', fields: {} }] },
      });
      expect(txn.body.reason).toBe('LeaseNotFound');
    }
    await want(404, 'GET', RECORD, rec(ns, 'a'));
    await want(201, 'PUT', RECORD, rec(ns, 'd'), { body: { fields: {} } });
    expect((await want(409, 'DELETE', RECORD, rec(ns, 'd'), { headers: { 'x-lease-id': l.id } })).body.reason).toBe(
      'LeaseNotFound',
    );
    expect((await want(200, 'GET', RECORD, rec(ns, 'd'))).body.rev).toBe(1);
    expect(
      (await want(400, 'PUT', RECORD, rec(ns, 'a'), { headers: { 'x-lease-id': 'a b' }, body: { fields: {} } })).body
        .field,
    ).toBe('X-Lease-Id');
  });

  test('a write without X-Lease-Id detaches the record from the lease: it outlives the lease', async () => {
    const ns = uniqueNs();
    const l = await grant(30);
    await want(201, 'PUT', RECORD, rec(ns, 'a'), { headers: { 'x-lease-id': l.id }, body: { fields: { v: 1 } } });
    await want(201, 'PUT', RECORD, rec(ns, 'b'), { headers: { 'x-lease-id': l.id }, body: { fields: { v: 1 } } });
    const detached = await want(200, 'PUT', RECORD, rec(ns, 'a'), { body: { fields: { v: 2 } } });
    expect(detached.body.lease).toBeNull();
    const patched = await want(200, 'PATCH', RECORD, rec(ns, 'b'), { body: { set: { v: 2 } } });
    expect(patched.body.lease).toBeNull();
    await want(204, 'DELETE', LEASE, `/v1/leases/${l.id}`);
    expect((await want(200, 'GET', RECORD, rec(ns, 'a'))).body).toMatchObject({ fields: { v: 2 }, lease: null });
    expect((await want(200, 'GET', RECORD, rec(ns, 'b'))).body).toMatchObject({ fields: { v: 2 }, lease: null });
  });
});

describe('writes with X-Fencing-Token', () => {
  test('commit while the lock is held with that token; stale, released or expired-holder tokens are 409 and write nothing', async () => {
    const ns = uniqueNs();
    const a = await grant(10);
    const tokenA = (await acquire(200, ns, 'L', a.id)).body.fencingToken as number;
    const fence = (t: number) => ({ 'x-fencing-token': `L:${t}` });
    await want(201, 'PUT', RECORD, rec(ns, 'k'), { headers: fence(tokenA), body: { fields: { by: 'a' } } });
    await want(200, 'PATCH', RECORD, rec(ns, 'k'), { headers: fence(tokenA), body: { set: { n: 1 } } });
    await want(200, 'POST', TXN, `/v1/ns/${ns}/txn`, {
      headers: fence(tokenA),
      body: { ops: [{ op: 'put', key: 't', fields: {} }] },
    });
    await want(204, 'DELETE', RECORD, rec(ns, 't'), { headers: fence(tokenA) });
    const stale = async (headers: Record<string, string>) => {
      expect(
        (await want(409, 'PUT', RECORD, rec(ns, 'k'), { headers, body: { fields: { by: 'stale' } } })).body.reason,
      ).toBe('FencingTokenStale');
      expect(
        (await want(409, 'PATCH', RECORD, rec(ns, 'k'), { headers, body: { set: { by: 'stale' } } })).body.reason,
      ).toBe('FencingTokenStale');
      expect((await want(409, 'DELETE', RECORD, rec(ns, 'k'), { headers })).body.reason).toBe('FencingTokenStale');
      const txn = await want(409, 'POST', TXN, `/v1/ns/${ns}/txn`, {
        headers,
        body: { ops: [{ op: 'put', key: 'k', fields: {} }] },
      });
      expect(txn.body.reason).toBe('FencingTokenStale');
      expect((await want(200, 'GET', RECORD, rec(ns, 'k'))).body.fields.by).not.toBe('stale');
    };
    await stale(fence(tokenA - 1));
    await stale(fence(tokenA + 1));
    await stale({ 'x-fencing-token': `M:${tokenA}` });

    // The holder's lease expires: the lock is no longer held with that token.
    clock.advance(10);
    await stale(fence(tokenA));

    // Another lease takes the lock: the old token is stale, the new one commits.
    const b = await grant(30);
    const tokenB = (await acquire(200, ns, 'L', b.id)).body.fencingToken as number;
    expect(tokenB).toBeGreaterThan(tokenA);
    await stale(fence(tokenA));
    await want(200, 'PUT', RECORD, rec(ns, 'k'), { headers: fence(tokenB), body: { fields: { by: 'b' } } });

    // Released: nobody holds it, every token is stale.
    await want(204, 'DELETE', LOCK, lockPath(ns, 'L'), { headers: { 'x-lease-id': b.id } });
    await stale(fence(tokenB));
    expect((await want(200, 'GET', RECORD, rec(ns, 'k'))).body.fields).toEqual({ by: 'b' });

    expect(
      (await want(400, 'PUT', RECORD, rec(ns, 'k'), { headers: { 'x-fencing-token': 'L:' }, body: { fields: {} } }))
        .body.field,
    ).toBe('X-Fencing-Token');
    expect(
      (
        await want(400, 'PUT', RECORD, rec(ns, 'k'), {
          headers: { 'x-fencing-token': `L:${'9'.repeat(17)}` },
          body: { fields: {} },
        })
      ).body.field,
    ).toBe('X-Fencing-Token');
  });

  test('a write with both headers commits while the lease is live and the lock held; the record belongs to the lease', async () => {
    const ns = uniqueNs();
    const l = await grant(30);
    const token = (await acquire(200, ns, 'L', l.id)).body.fencingToken as number;
    const r = await want(201, 'PUT', RECORD, rec(ns, 'k'), {
      headers: { 'x-lease-id': l.id, 'x-fencing-token': `L:${token}` },
      body: { fields: {} },
    });
    expect(r.body.lease).toBe(true);
    await want(204, 'DELETE', LEASE, `/v1/leases/${l.id}`);
    await want(404, 'GET', RECORD, rec(ns, 'k'));
    expect(
      (
        await want(409, 'PUT', RECORD, rec(ns, 'k'), {
          headers: { 'x-fencing-token': `L:${token}` },
          body: { fields: {} },
        })
      ).body.reason,
    ).toBe('FencingTokenStale');
  });
});

test('every documented status of the lease and lock operations was produced', () => {
  expect(unseenStatuses((r) => LEASE_RESOURCES.includes(r))).toEqual([]);
});
