/**
 * Lock races through the real handler on DynamoDB Local, with a fake clock and seeded loops: the
 * same schedules every run. A lock is held only while its lease lives, tokens of a lock only
 * grow, a fenced write with a token that no longer holds writes nothing, a release never frees
 * another lease's lock, and a revoke leaves no lock to the lease it ended.
 */
import { prng } from './transfer-kit';
import { FakeClock } from './contract/clock';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { testApi, testTables, uniqueNs } from './harness';

jest.setTimeout(180000);

const clock = new FakeClock(Date.parse('2026-12-01T10:00:00.000Z'));
const api = testApi({ clock });
afterAll(() => api.close());

const grant = async (ttlSeconds: number) =>
  (await api.call('POST', '/v1/leases', { body: { ttlSeconds } })).body.id as string;
const acquire = (ns: string, name: string, leaseId: string) =>
  api.call('POST', `/v1/ns/${ns}/locks/${name}`, { body: { leaseId } });
const release = (ns: string, name: string, leaseId: string) =>
  api.call('DELETE', `/v1/ns/${ns}/locks/${name}`, { headers: { 'X-Lease-Id': leaseId } });
const fencedPut = (ns: string, key: string, fence: string, by: string) =>
  api.call('PUT', `/v1/ns/${ns}/keys/${key}`, { body: { fields: { by } }, headers: { 'X-Fencing-Token': fence } });
/** The lock item as stored: its holder's lease id (whether or not that lease lives) and token. */
async function lockItem(ns: string, name: string): Promise<{ leaseId?: string; token?: number }> {
  const out = await api.client.send(
    new GetItemCommand({
      TableName: testTables().VESTA_CONTROL_TABLE,
      Key: { pk: { S: `lock#${ns}#${name}` }, sk: { S: '#lock' } },
      ConsistentRead: true,
    }),
  );
  return { leaseId: out.Item?.leaseId?.S, token: out.Item?.token?.N ? Number(out.Item.token.N) : undefined };
}
const listed = async (ns: string) =>
  (await api.call('GET', `/v1/ns/${ns}/locks`)).body.items.map((i: { name: string }) => i.name);

test('concurrent acquirers never both hold, also when some leases expired and a holder asks again', async () => {
  for (let seed = 1; seed <= 12; seed++) {
    const r = prng(seed);
    const ns = uniqueNs();
    let lastToken = 0;
    let holder: string | undefined;
    for (let round = 0; round < 3; round++) {
      const leases = await Promise.all(
        Array.from({ length: 2 + Math.floor(r() * 5) }, () => grant(5 + Math.floor(r() * 3))),
      );
      // Some of the contenders are the current holder asking again.
      const contenders = holder && r() < 0.5 ? [...leases, holder] : leases;
      const results = await Promise.all(contenders.map((l) => acquire(ns, 'race', l)));
      const winners = results.filter((x) => x.status === 200);
      for (const x of results.filter((y) => y.status !== 200)) {
        expect(x.status).toBe(409);
        expect(['LockHeld', 'LeaseNotFound']).toContain(x.body.reason);
      }
      // Every 200 is the same grant: one lease, one token (the holder asking again keeps it).
      expect(new Set(winners.map((w) => `${w.body.leaseId}:${w.body.fencingToken}`)).size).toBeLessThanOrEqual(1);
      if (winners.length > 0) {
        const w = winners[0].body;
        if (w.leaseId !== holder) expect(w.fencingToken).toBeGreaterThan(lastToken);
        else expect(w.fencingToken).toBe(lastToken);
        expect(await lockItem(ns, 'race')).toEqual({ leaseId: w.leaseId, token: w.fencingToken });
        lastToken = w.fencingToken;
        holder = w.leaseId;
      }
      // Time passes: sometimes past every lease, so the next round takes over from an expired holder.
      clock.advance(r() < 0.5 ? 8 : 1);
    }
  }
});

test('a lease expiring between acquire and a fenced write: the write is refused from the expiry on', async () => {
  for (let seed = 1; seed <= 8; seed++) {
    const r = prng(100 + seed);
    const ns = uniqueNs();
    const ttl = 5 + Math.floor(r() * 10);
    const lease = await grant(ttl);
    const grantAt = clock.t;
    const lock = await acquire(ns, 'job', lease);
    expect(lock.status).toBe(200);
    const fence = `job:${lock.body.fencingToken}`;
    const before = Math.floor(r() * (ttl * 1000 - 1));
    clock.t = grantAt + before;
    expect((await fencedPut(ns, 'k', fence, 'before')).status).toBe(201);
    clock.t = grantAt + ttl * 1000; // the very millisecond it expires
    const at = await fencedPut(ns, 'k', fence, 'at');
    expect(at.status).toBe(409);
    expect(at.body.reason).toBe('FencingTokenStale');
    clock.advance(r() * 100);
    expect((await fencedPut(ns, 'k', fence, 'after')).body.reason).toBe('FencingTokenStale');
    // Nobody took the lock, and still the token of the expired lease writes nothing.
    expect(await lockItem(ns, 'job')).toEqual({ leaseId: lease, token: lock.body.fencingToken });
    expect((await api.call('GET', `/v1/ns/${ns}/keys/k`)).body.fields).toEqual({ by: 'before' });
    expect(await listed(ns)).toEqual([]);
  }
});

test('takeover after expiry yields a strictly greater token, and the old token is fenced off', async () => {
  const ns = uniqueNs();
  let previous = { lease: await grant(5), token: 0 };
  previous.token = (await acquire(ns, 'leader', previous.lease)).body.fencingToken;
  const r = prng(7);
  for (let i = 0; i < 10; i++) {
    // Kept alive past the first TTL sometimes: the holder is then still live, and nobody takes over.
    if (r() < 0.3) {
      const probe = await grant(60);
      clock.advance(4);
      expect((await api.call('POST', `/v1/leases/${previous.lease}/keepalive`)).status).toBe(200);
      clock.advance(4);
      const held = await acquire(ns, 'leader', probe);
      expect(held.status).toBe(409);
      expect(held.body.holder.fencingToken).toBe(previous.token);
    }
    clock.advance(5 + r() * 3);
    const next = await grant(5);
    const taken = await acquire(ns, 'leader', next);
    expect(taken.status).toBe(200);
    expect(taken.body.fencingToken).toBeGreaterThan(previous.token);
    expect((await fencedPut(ns, 'cfg', `leader:${previous.token}`, 'old')).body.reason).toBe('FencingTokenStale');
    expect((await fencedPut(ns, 'cfg', `leader:${taken.body.fencingToken}`, 'new')).status).toBeLessThan(300);
    previous = { lease: next, token: taken.body.fencingToken };
  }
});

test('a release racing a takeover never frees the new holder, and an expired holder cannot release', async () => {
  for (let seed = 1; seed <= 10; seed++) {
    const r = prng(200 + seed);
    const ns = uniqueNs();
    const a = await grant(5);
    const b = await grant(60);
    const la = await acquire(ns, 'l', a);
    const expired = r() < 0.6;
    clock.advance(expired ? 5 + r() : r() * 4);
    const [rel, take] = await Promise.all([release(ns, 'l', a), acquire(ns, 'l', b)]);
    expect(rel.status).not.toBe(expired ? 204 : 500);
    if (expired) {
      // A's lease is gone: only a live holder's release counts (409 only for a transaction conflict).
      if (rel.status === 409) expect(rel.body.detail).toMatch(/in progress/);
      else expect(rel.status).toBe(404);
      let got = take;
      if (got.status === 409) got = await acquire(ns, 'l', b); // a transaction conflict says "retry"
      expect(got.status).toBe(200);
      expect(got.body.fencingToken).toBeGreaterThan(la.body.fencingToken);
    } else {
      if (rel.status === 409) {
        // Refused while the acquire's transaction held the item: A still holds it and releases now.
        expect(rel.body.detail).toMatch(/in progress/);
        expect((await release(ns, 'l', a)).status).toBe(204);
      } else expect(rel.status).toBe(204);
      if (take.status === 200) expect(take.body.fencingToken).toBeGreaterThan(la.body.fencingToken);
      else expect(take.body.reason).toBe('LockHeld');
    }
    const item = await lockItem(ns, 'l');
    if (take.status === 200 || expired) {
      expect(item.leaseId).toBe(b);
      // B holds it now: A's release is refused (404 once A's lease expired, else 409) and frees nothing.
      expect((await release(ns, 'l', a)).status).toBe(expired ? 404 : 409);
      expect(await lockItem(ns, 'l')).toEqual(item);
      expect(await listed(ns)).toEqual(['l']);
    } else {
      expect(item.leaseId).toBeUndefined();
      expect(await listed(ns)).toEqual([]);
    }
  }
});

test('a revoke racing an acquire with the same lease leaves it no lock; another lease takes it at once', async () => {
  for (let seed = 1; seed <= 10; seed++) {
    const r = prng(300 + seed);
    const ns = uniqueNs();
    const a = await grant(60);
    const b = await grant(60);
    await acquire(ns, 'held', a);
    const order = r();
    const [revoked, got] =
      order < 0.5
        ? await Promise.all([api.call('DELETE', `/v1/leases/${a}`), acquire(ns, 'new', a)])
        : await Promise.all([acquire(ns, 'new', a)]).then(async ([x]) => [
            await api.call('DELETE', `/v1/leases/${a}`),
            x,
          ]);
    expect(revoked.status).toBe(204);
    expect([200, 409]).toContain(got.status);
    if (got.status === 409) expect(got.body.reason).toBe('LeaseNotFound');
    for (const name of ['held', 'new']) {
      expect((await lockItem(ns, name)).leaseId).toBeUndefined();
      expect((await release(ns, name, a)).status).toBe(404);
    }
    expect(await listed(ns)).toEqual([]);
    expect((await acquire(ns, 'new', a)).body.reason).toBe('LeaseNotFound');
    expect(await api.requests.count(() => acquire(ns, 'new', b))).toBe(1);
    expect(await api.requests.count(() => acquire(ns, 'held', b))).toBe(1);
  }
});
