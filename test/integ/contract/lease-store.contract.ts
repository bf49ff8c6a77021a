/**
 * The contract of `LeaseStore` (`src/core/ports.ts`): what every lease and lock adapter must do.
 * Expiry follows the store's clock, which the fixture lets the suite move.
 */
import { ConflictError, NotFoundError, ValidationError } from '../../../src/core/errors';
import type { LeaseStore } from '../../../src/core/ports';
import { uniqueNs } from '../harness';
import type { FakeClock } from './clock';

export interface LeaseStoreFixture {
  readonly leases: LeaseStore;
  /** The clock the store decides expiry with. */
  readonly clock: FakeClock;
}

export function leaseStoreContract(backend: string, make: () => LeaseStoreFixture): void {
  describe(`LeaseStore contract (${backend})`, () => {
    let f: LeaseStoreFixture;
    beforeEach(() => {
      f = make();
    });

    test('a granted lease lives until its TTL ends, and a keepalive restarts the TTL', async () => {
      const lease = await f.leases.grant(30);
      expect(lease).toEqual({ id: expect.any(String), ttlSeconds: 30, expiresAt: f.clock.t + 30_000 });
      expect(await f.leases.describe(lease.id)).toEqual({ lease, holdings: { keys: [], locks: [] } });
      f.clock.advance(20);
      expect((await f.leases.keepalive(lease.id)).expiresAt).toBe(f.clock.t + 30_000);
      f.clock.advance(29);
      expect((await f.leases.describe(lease.id)).lease.id).toBe(lease.id);
    });

    test('an expired lease is never renewed and cannot be described', async () => {
      const lease = await f.leases.grant(5);
      f.clock.advance(6);
      await expect(f.leases.keepalive(lease.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(f.leases.describe(lease.id)).rejects.toBeInstanceOf(NotFoundError);
    });

    test('a lock is held by one live lease at a time, and the holder asking again keeps its token', async () => {
      const ns = uniqueNs('lease-contract');
      const a = await f.leases.grant(30);
      const b = await f.leases.grant(30);
      const first = await f.leases.acquire(ns, 'l', a.id);
      expect(first).toMatchObject({ name: 'l', leaseId: a.id, expiresAt: f.clock.t + 30_000 });
      const held = f.leases.acquire(ns, 'l', b.id);
      await expect(held).rejects.toBeInstanceOf(ConflictError);
      await expect(held).rejects.toMatchObject({ reason: 'LockHeld' });
      expect((await f.leases.acquire(ns, 'l', a.id)).fencingToken).toBe(first.fencingToken);
      expect((await f.leases.describe(a.id)).holdings.locks).toEqual([{ namespace: ns, name: 'l' }]);
    });

    test('a lock whose holder expired goes to the next lease with a greater fencing token', async () => {
      const ns = uniqueNs('lease-contract');
      const a = await f.leases.grant(10);
      const b = await f.leases.grant(60);
      const first = await f.leases.acquire(ns, 'l', a.id);
      f.clock.advance(11);
      const second = await f.leases.acquire(ns, 'l', b.id);
      expect(second.leaseId).toBe(b.id);
      expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
    });

    test('acquiring with a lease that is not live is a LeaseNotFound conflict', async () => {
      const ns = uniqueNs('lease-contract');
      const lease = await f.leases.grant(5);
      f.clock.advance(6);
      await expect(f.leases.acquire(ns, 'l', lease.id)).rejects.toMatchObject({
        name: 'ConflictError',
        reason: 'LeaseNotFound',
      });
      await expect(f.leases.acquire(ns, 'l', 'not-a-lease-id')).rejects.toMatchObject({
        name: 'ConflictError',
        reason: 'LeaseNotFound',
      });
    });

    test('only the holder releases a lock; a free lock cannot be released; the next holder gets a greater token', async () => {
      const ns = uniqueNs('lease-contract');
      const a = await f.leases.grant(30);
      const b = await f.leases.grant(30);
      const first = await f.leases.acquire(ns, 'l', a.id);
      await expect(f.leases.release(ns, 'l', b.id)).rejects.toMatchObject({
        name: 'ConflictError',
        reason: 'LockHeld',
      });
      await f.leases.release(ns, 'l', a.id);
      await expect(f.leases.release(ns, 'l', a.id)).rejects.toBeInstanceOf(NotFoundError);
      expect((await f.leases.describe(a.id)).holdings.locks).toEqual([]);
      expect((await f.leases.acquire(ns, 'l', b.id)).fencingToken).toBeGreaterThan(first.fencingToken);
    });

    test('revoking a lease ends it at once and frees its locks', async () => {
      const ns = uniqueNs('lease-contract');
      const a = await f.leases.grant(60);
      const b = await f.leases.grant(60);
      await f.leases.acquire(ns, 'l', a.id);
      await f.leases.revoke(a.id);
      await expect(f.leases.describe(a.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(f.leases.revoke(a.id)).rejects.toBeInstanceOf(NotFoundError);
      expect((await f.leases.acquire(ns, 'l', b.id)).leaseId).toBe(b.id);
    });

    test('locks lists the locks held now by name, after a cursor, without lease ids', async () => {
      const ns = uniqueNs('lease-contract');
      const a = await f.leases.grant(60);
      const b = await f.leases.grant(10);
      for (const name of ['y', 'x', 'p.1']) await f.leases.acquire(ns, name, a.id);
      await f.leases.acquire(ns, 'short', b.id);
      await f.leases.acquire(ns, 'gone', a.id);
      await f.leases.release(ns, 'gone', a.id);
      const names = async (q: { prefix?: string; limit?: number; cursor?: string }) =>
        (await f.leases.locks(ns, { prefix: '', limit: 100, ...q })).items.map((l) => l.name);
      expect(await names({})).toEqual(['p.1', 'short', 'x', 'y']);
      f.clock.advance(11);
      const first = await f.leases.locks(ns, { prefix: '', limit: 2 });
      expect(first.items).toEqual([
        { name: 'p.1', fencingToken: expect.any(Number), expiresAt: new Date(f.clock.t + 49_000).toISOString() },
        { name: 'x', fencingToken: expect.any(Number), expiresAt: expect.any(String) },
      ]);
      expect(await names({ cursor: first.cursor! })).toEqual(['y']);
      expect(await names({ prefix: 'p.' })).toEqual(['p.1']);
      expect(JSON.stringify(first)).not.toContain(a.id);
      await expect(f.leases.locks(ns, { prefix: 'z', limit: 2, cursor: first.cursor! })).rejects.toBeInstanceOf(
        ValidationError,
      );
    });
  });
}
