/**
 * Leases and locks through the real handler on DynamoDB Local, with a fake clock: expiry is the
 * service's clock at each request, so tests move time instead of sleeping.
 */
import { FakeClock } from './contract/clock';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { testApi, testTables, uniqueNs } from './harness';

const clock = new FakeClock(Date.parse('2026-11-22T10:00:00.000Z'));
const api = testApi({ clock });
afterAll(() => api.close());

const grant = async (ttlSeconds: number) =>
  (await api.call('POST', '/v1/leases', { body: { ttlSeconds } })).body.id as string;
const acquire = (ns: string, name: string, leaseId: string) =>
  api.call('POST', `/v1/ns/${ns}/locks/${name}`, { body: { leaseId } });

describe('leases', () => {
  test('grant, get, keepalive and revoke', async () => {
    const r = await api.call('POST', '/v1/leases', { body: { ttlSeconds: 30 } });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ id: expect.any(String), ttlSeconds: 30, expiresAt: '2026-11-22T10:00:30.000Z' });
    clock.advance(20);
    const got = await api.call('GET', `/v1/leases/${r.body.id}`);
    expect(got.body).toMatchObject({ ttlSeconds: 30, remainingSeconds: 10, keys: [] });
    const kept = await api.call('POST', `/v1/leases/${r.body.id}/keepalive`);
    expect(kept.status).toBe(200);
    expect(kept.body.expiresAt).toBe(new Date(clock.t + 30000).toISOString());
    expect((await api.call('DELETE', `/v1/leases/${r.body.id}`)).status).toBe(204);
    expect((await api.call('GET', `/v1/leases/${r.body.id}`)).status).toBe(404);
    expect((await api.call('POST', `/v1/leases/${r.body.id}/keepalive`)).status).toBe(404);
    expect((await api.call('DELETE', `/v1/leases/${r.body.id}`)).status).toBe(404);
  });

  test('an expired lease is never brought back, even one millisecond late', async () => {
    const id = await grant(5);
    clock.advance(5);
    const r = await api.call('POST', `/v1/leases/${id}/keepalive`);
    expect(r.status).toBe(404);
    clock.advance(-4);
    expect((await api.call('GET', `/v1/leases/${id}`)).status).toBe(200);
    clock.advance(4);
  });

  test('keepalives racing the expiry either renew before it or fail after it, never revive', async () => {
    const id = await grant(5);
    clock.advance(4.99);
    const before = await api.call('POST', `/v1/leases/${id}/keepalive`);
    expect(before.status).toBe(200);
    clock.advance(5);
    const results = await Promise.all(Array.from({ length: 10 }, () => api.call('POST', `/v1/leases/${id}/keepalive`)));
    expect(results.every((r) => r.status === 404)).toBe(true);
  });

  test.each([[4], [86401], [1.5], ['30']])('a ttlSeconds of %p is 400', async (ttlSeconds) => {
    const r = await api.call('POST', '/v1/leases', { body: { ttlSeconds } });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('body.ttlSeconds');
  });

  test('records written with a lease vanish from every read the moment it expires', async () => {
    const ns = uniqueNs();
    const id = await grant(10);
    const w = await api.call('PUT', `/v1/ns/${ns}/keys/session`, {
      body: { fields: { user: 'u1' } },
      headers: { 'X-Lease-Id': id },
    });
    expect(w.status).toBe(201);
    expect(w.body.lease).toBe(true);
    await api.call('PUT', `/v1/ns/${ns}/keys/durable`, { body: { fields: { x: 1 } } });
    expect((await api.call('GET', `/v1/leases/${id}`)).body.keys).toEqual([{ namespace: ns, key: 'session' }]);
    clock.advance(10);
    expect((await api.call('GET', `/v1/ns/${ns}/keys/session`)).status).toBe(404);
    expect((await api.call('GET', `/v1/ns/${ns}/keys`)).body.items.map((i: { key: string }) => i.key)).toEqual([
      'durable',
    ]);
    const txn = await api.call('POST', `/v1/ns/${ns}/txn`, {
      body: {
        require: [{ key: 'session', exists: false }],
        ops: [{ op: 'put', key: 'session', fields: { user: 'u2' } }],
      },
    });
    expect(txn.status).toBe(200);
    const again = await api.call('GET', `/v1/ns/${ns}/keys/session`);
    expect(again.body).toMatchObject({ fields: { user: 'u2' }, lease: null, rev: 2 });
  });

  test('writing with an unknown or expired lease is 409 LeaseNotFound and writes nothing', async () => {
    const ns = uniqueNs();
    const id = await grant(5);
    clock.advance(6);
    for (const lease of [id, 'nope']) {
      const r = await api.call('PUT', `/v1/ns/${ns}/keys/k`, {
        body: { fields: {} },
        headers: { 'X-Lease-Id': lease },
      });
      expect(r.status).toBe(409);
      expect(r.body.reason).toBe('LeaseNotFound');
    }
    expect((await api.call('GET', `/v1/ns/${ns}/keys/k`)).status).toBe(404);
  });

  test('revoke removes attached records and the locks the lease holds', async () => {
    const ns = uniqueNs();
    const id = await grant(60);
    await api.call('PUT', `/v1/ns/${ns}/keys/a`, { body: { fields: { x: 1 } }, headers: { 'X-Lease-Id': id } });
    await api.call('PATCH', `/v1/ns/${ns}/keys/b`, { body: { set: { y: 2 } }, headers: { 'X-Lease-Id': id } });
    const lock = await acquire(ns, 'leader', id);
    expect(lock.status).toBe(200);
    expect((await api.call('DELETE', `/v1/leases/${id}`)).status).toBe(204);
    expect((await api.call('GET', `/v1/ns/${ns}/keys/a`)).status).toBe(404);
    expect((await api.call('GET', `/v1/ns/${ns}/keys/b`)).status).toBe(404);
    const other = await grant(60);
    const taken = await acquire(ns, 'leader', other);
    expect(taken.status).toBe(200);
    expect(taken.body.fencingToken).toBeGreaterThan(lock.body.fencingToken);
    const recreated = await api.call('PUT', `/v1/ns/${ns}/keys/a`, { body: { fields: { x: 3 } } });
    expect(recreated.status).toBe(201);
    expect(recreated.body.rev).toBe(3);
  });
});

describe('locks and fencing', () => {
  test('the fencing story: A stalls past its TTL, B takes the lock, A is fenced off, B writes', async () => {
    const ns = uniqueNs();
    const a = await grant(10);
    const b = await grant(30);
    const la = await acquire(ns, 'leader', a);
    expect(la.body).toMatchObject({ name: 'leader', leaseId: a, fencingToken: expect.any(Number) });
    const held = await acquire(ns, 'leader', b);
    expect(held.status).toBe(409);
    expect(held.body).toMatchObject({
      reason: 'LockHeld',
      holder: { fencingToken: la.body.fencingToken, expiresAt: la.body.expiresAt },
    });
    expect(JSON.stringify(held.body)).not.toContain(a);
    clock.advance(11); // A stalls (GC pause) past its lease
    const lb = await acquire(ns, 'leader', b);
    expect(lb.status).toBe(200);
    expect(lb.body.fencingToken).toBeGreaterThan(la.body.fencingToken);
    const fencedA = await api.call('PUT', `/v1/ns/${ns}/keys/config`, {
      body: { fields: { by: 'A' } },
      headers: { 'X-Fencing-Token': `leader:${la.body.fencingToken}` },
    });
    expect(fencedA.status).toBe(409);
    expect(fencedA.body.reason).toBe('FencingTokenStale');
    expect((await api.call('GET', `/v1/ns/${ns}/keys/config`)).status).toBe(404);
    const fencedB = await api.call('PUT', `/v1/ns/${ns}/keys/config`, {
      body: { fields: { by: 'B' } },
      headers: { 'X-Fencing-Token': `leader:${lb.body.fencingToken}` },
    });
    expect(fencedB.status).toBe(201);
    const patched = await api.call('PATCH', `/v1/ns/${ns}/keys/config`, {
      body: { increment: { n: 1 } },
      headers: { 'X-Fencing-Token': `leader:${lb.body.fencingToken}` },
    });
    expect(patched.status).toBe(200);
    const txn = await api.call('POST', `/v1/ns/${ns}/txn`, {
      body: { ops: [{ op: 'delete', key: 'config' }] },
      headers: { 'X-Fencing-Token': `leader:${la.body.fencingToken}` },
    });
    expect(txn.body.reason).toBe('FencingTokenStale');
    expect((await api.call('GET', `/v1/ns/${ns}/keys/config`)).body.fields).toEqual({ by: 'B', n: 1 });
  });

  test('a holder whose lease expired cannot write with its still-current token', async () => {
    const ns = uniqueNs();
    const a = await grant(5);
    const la = await acquire(ns, 'job', a);
    clock.advance(6);
    const r = await api.call('DELETE', `/v1/ns/${ns}/keys/anything`, {
      headers: { 'X-Fencing-Token': `job:${la.body.fencingToken}` },
    });
    expect(r.status).toBe(409);
    expect(r.body.reason).toBe('FencingTokenStale');
  });

  test('re-acquiring with the holding lease returns the same token; tokens grow across releases', async () => {
    const ns = uniqueNs();
    const a = await grant(30);
    const first = await acquire(ns, 'm', a);
    const again = await acquire(ns, 'm', a);
    expect(again.body.fencingToken).toBe(first.body.fencingToken);
    expect((await api.call('DELETE', `/v1/ns/${ns}/locks/m`, { headers: { 'X-Lease-Id': a } })).status).toBe(204);
    expect((await api.call('DELETE', `/v1/ns/${ns}/locks/m`, { headers: { 'X-Lease-Id': a } })).status).toBe(404);
    const stale = await api.call('PUT', `/v1/ns/${ns}/keys/k`, {
      body: { fields: {} },
      headers: { 'X-Fencing-Token': `m:${first.body.fencingToken}` },
    });
    expect(stale.body.reason).toBe('FencingTokenStale');
    const next = await acquire(ns, 'm', a);
    expect(next.body.fencingToken).toBeGreaterThan(first.body.fencingToken);
  });

  test('releasing a lock another lease holds is 409; acquiring with an expired lease is LeaseNotFound', async () => {
    const ns = uniqueNs();
    const a = await grant(30);
    const b = await grant(5);
    await acquire(ns, 'l', a);
    expect((await api.call('DELETE', `/v1/ns/${ns}/locks/l`, { headers: { 'X-Lease-Id': b } })).status).toBe(409);
    expect((await api.call('DELETE', `/v1/ns/${ns}/locks/l`)).status).toBe(400);
    clock.advance(6);
    const r = await acquire(ns, 'other', b);
    expect(r.status).toBe(409);
    expect(r.body.reason).toBe('LeaseNotFound');
  });

  test('tokens keep growing even when another instance issued a token ahead of this clock', async () => {
    const ns = uniqueNs();
    const ahead = 9_000_000_000_000_000;
    // A free lock whose last token came from an instance whose clock runs far ahead.
    await api.client.send(
      new PutItemCommand({
        TableName: testTables().VESTA_CONTROL_TABLE,
        Item: { pk: { S: `lock#${ns}#skew` }, sk: { S: '#lock' }, token: { N: String(ahead) } },
      }),
    );
    const a = await grant(60);
    const r = await acquire(ns, 'skew', a);
    expect(r.status).toBe(200);
    expect(r.body.fencingToken).toBeGreaterThan(ahead);
  });

  test("releasing a lock whose holder's lease expired is 404: nobody holds it", async () => {
    const ns = uniqueNs();
    const a = await grant(5);
    const b = await grant(60);
    await acquire(ns, 'gone', a);
    clock.advance(6);
    expect((await api.call('DELETE', `/v1/ns/${ns}/locks/gone`, { headers: { 'X-Lease-Id': b } })).status).toBe(404);
    expect((await api.call('DELETE', `/v1/ns/${ns}/locks/gone`, { headers: { 'X-Lease-Id': a } })).status).toBe(404);
  });

  test('concurrent acquires by 8 leases: exactly one holder', async () => {
    const ns = uniqueNs();
    const leases = await Promise.all(Array.from({ length: 8 }, () => grant(30)));
    const results = await Promise.all(leases.map((l) => acquire(ns, 'race', l)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) expect(r.body.reason).toBe('LockHeld');
  });

  test('one DynamoDB request per keepalive, acquire and release', async () => {
    const ns = uniqueNs();
    const a = await grant(30);
    const n = (fn: () => Promise<unknown>) => api.requests.count(fn);
    expect(await n(() => api.call('POST', `/v1/leases/${a}/keepalive`))).toBe(1);
    expect(await n(() => acquire(ns, 'x', a))).toBe(1);
    expect(await n(() => api.call('DELETE', `/v1/ns/${ns}/locks/x`, { headers: { 'X-Lease-Id': a } }))).toBe(1);
    expect(await n(() => api.call('POST', '/v1/leases', { body: { ttlSeconds: 30 } }))).toBe(1);
  });
});
