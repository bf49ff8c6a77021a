/**
 * The typed client against the local stack (`startLocalStack` on tables of its own, so the change
 * feed runs): every operation of the contract, typed errors, read-modify-write under contention,
 * keepalive loss, fenced work, sagas and snapshots waited on, and the change feed.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConflictError,
  CursorExpiredError,
  LeaseLostError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
  VestaClient,
  expire,
  hasSiblings,
  mergePatches,
  persist,
  secondsToLive,
  type Change,
  type VestaRecord,
} from '../../src/client';
import { type LocalStack, startLocalStack } from '../../src/local/stack';
import { endpoint, uniqueNs } from './harness';

let stack: LocalStack;
let vesta: VestaClient;
let dataDir: string;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vesta-client-'));
  stack = await startLocalStack({
    port: 0,
    dataDir,
    dynamoEndpoint: endpoint(),
    tablePrefix: `vesta-cli-${randomUUID().slice(0, 8)}`,
    resumeSagas: false,
    leaseJobsSeconds: 1,
  });
  vesta = new VestaClient({ url: stack.url });
}, 60_000);
afterAll(async () => {
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('records: put, get, find, patch, delete and list, with ETags and typed errors', async () => {
  const ns = uniqueNs('c');
  const created = await vesta.put(ns, 'cart/1', { qty: 1 });
  expect(created).toMatchObject({ created: true, record: { key: 'cart/1', rev: 1, fields: { qty: 1 } } });
  const got = await vesta.get(ns, 'cart/1');
  expect(got.etag).toBe(created.etag);
  const patched = await vesta.patch(ns, 'cart/1', { increment: { qty: 2 } }, { ifMatch: got.etag });
  expect(patched.record.fields).toEqual({ qty: 3 });
  const stale = await vesta.put(ns, 'cart/1', { qty: 9 }, { ifMatch: got.etag }).catch((e: unknown) => e);
  expect(stale).toBeInstanceOf(PreconditionFailedError);
  expect((stale as PreconditionFailedError).current).toMatchObject({ rev: 2, fields: { qty: 3 } });
  expect((stale as PreconditionFailedError).etag).toBe(patched.etag);
  await vesta.put(ns, 'cart/2', { qty: 5 });
  expect((await vesta.list(ns, { prefix: 'cart/' })).items.map((i) => i.key)).toEqual(['cart/1', 'cart/2']);
  const all: string[] = [];
  for await (const item of vesta.listAll(ns, { fields: true })) all.push(`${item.key}=${item.fields?.qty}`);
  expect(all).toEqual(['cart/1=3', 'cart/2=5']);
  // A key with dot segments is refused (400 naming the key), never resolved into another key.
  const dots = await vesta.put(ns, 'a/../b', { dots: true }).catch((e: unknown) => e);
  expect(dots).toBeInstanceOf(ValidationError);
  expect((dots as ValidationError).field).toBe('key');
  expect(await vesta.find(ns, 'b')).toBeNull();
  await vesta.delete(ns, 'cart/2');
  expect(await vesta.find(ns, 'cart/2')).toBeNull();
  await expect(vesta.get(ns, 'cart/2')).rejects.toBeInstanceOf(NotFoundError);
  const bad = await vesta.put('Bad NS', 'k', {}).catch((e: unknown) => e);
  expect(bad).toBeInstanceOf(ValidationError);
  expect((bad as ValidationError).field).toBe('ns');
  expect((await vesta.health()).status).toBe('ok');
});

test('field expiry: put and patch with expire and persist, expires on the record, 412 for a field it will not have', async () => {
  const ns = uniqueNs('c');
  const put = await vesta.put(ns, 'otp/1', { code: '123', user: 'ann' }, { expire: { code: 60 } });
  const inAMinute = Date.parse((put.record as VestaRecord).expires?.code ?? '') - Date.now();
  expect(inAMinute).toBeGreaterThan(50_000);
  expect(inAMinute).toBeLessThanOrEqual(61_000);
  expect(Object.keys((put.record as VestaRecord).expires ?? {})).toEqual(['code']);

  const both = await vesta.patch(ns, 'otp/1', mergePatches(expire('user', 120), persist('code')));
  expect(Object.keys(both.record.expires ?? {})).toEqual(['user']);
  expect(secondsToLive(both.record).user).toBeGreaterThan(100);

  const unknown = await vesta.patch(ns, 'otp/1', expire('nope', 5)).catch((e: unknown) => e);
  expect(unknown).toBeInstanceOf(PreconditionFailedError);
  expect((unknown as PreconditionFailedError).current).toMatchObject({ fields: { code: '123', user: 'ann' } });

  // A due field is invisible at once; a record whose every field is due reads as absent.
  await vesta.put(ns, 'otp/2', { code: '9', keep: true }, { expire: { code: 1 } });
  await vesta.put(ns, 'otp/3', { code: '9' }, { expire: { code: 1 } });
  await new Promise((r) => setTimeout(r, 2_100));
  const left = await vesta.get(ns, 'otp/2');
  expect((left.record as VestaRecord).fields).toEqual({ keep: true });
  expect((left.record as VestaRecord).expires).toBeUndefined();
  expect(await vesta.find(ns, 'otp/3')).toBeNull();
});

test('transactions, namespace settings and siblings', async () => {
  const ns = uniqueNs('c');
  const a = await vesta.put(ns, 'a', { n: 1 });
  const results = await vesta.transact(ns, {
    require: [
      { key: 'a', etag: a.etag },
      { key: 'b', exists: false },
    ],
    ops: [
      { op: 'put', key: 'b', fields: { n: 2 } },
      { op: 'delete', key: 'a' },
    ],
  });
  expect(results).toEqual([expect.objectContaining({ key: 'b', rev: 1 }), { key: 'a', deleted: true }]);
  const failed = await vesta
    .transact(ns, { require: [{ key: 'b', exists: false }], ops: [{ op: 'delete', key: 'b' }] })
    .catch((e: unknown) => e);
  expect((failed as PreconditionFailedError).failed).toEqual([0]);

  expect(await vesta.setNamespace(ns, { conflicts: 'siblings' })).toEqual({ namespace: ns, conflicts: 'siblings' });
  expect((await vesta.namespace(ns)).conflicts).toBe('siblings');
  await vesta.put(ns, 'cart', { items: ['x'] });
  await vesta.put(ns, 'cart', { items: ['y'] });
  const two = await vesta.get(ns, 'cart');
  expect(hasSiblings(two.record)).toBe(true);
  await expect(vesta.update(ns, 'cart', (c) => c)).rejects.toBeInstanceOf(ConflictError);
  const merged = await vesta.update(ns, 'cart', (c) => ({ ...c, merged: true }), {
    resolveSiblings: (siblings) => ({
      items: [...new Set(siblings.flatMap((s) => s.fields.items as string[]))].sort(),
    }),
  });
  expect(merged!.record.fields).toEqual({ items: ['x', 'y'], merged: true });
  expect(hasSiblings((await vesta.get(ns, 'cart')).record)).toBe(false);
});

test('update() under 16 concurrent writers loses nothing, using the 412 answer instead of another read', async () => {
  const ns = uniqueNs('c');
  const WRITERS = 16;
  const EACH = 5;
  let calls = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, (_x, w) =>
      (async () => {
        for (let i = 0; i < EACH; i++) {
          await vesta.update(ns, 'counter', (cur) => {
            calls++;
            return { n: Number(cur?.n ?? 0) + 1, by: [...((cur?.by as string[]) ?? []), `${w}.${i}`] };
          });
        }
      })(),
    ),
  );
  const final = (await vesta.get(ns, 'counter')).record as unknown as {
    fields: { n: number; by: string[] };
    rev: number;
  };
  expect(final.fields.n).toBe(WRITERS * EACH);
  expect(new Set(final.fields.by).size).toBe(WRITERS * EACH);
  expect(final.rev).toBe(WRITERS * EACH);
  // Retries happened (the writers raced), each from a 412's record.
  expect(calls).toBeGreaterThan(WRITERS * EACH);
}, 60_000);

test('keepalive reports a revoked lease within one TTL, and an unreachable API at its TTL', async () => {
  const lease = await vesta.leases.grant(5);
  expect(await vesta.leases.get(lease.id)).toMatchObject({ id: lease.id, ttlSeconds: 5, keys: [] });
  expect((await vesta.leases.keepalive(lease.id)).id).toBe(lease.id);
  const alive = vesta.leases.keepAlive(lease);
  await new Promise((r) => setTimeout(r, 500));
  const revokedAt = Date.now();
  await vesta.leases.revoke(lease.id);
  const lost = await alive.lost;
  expect(lost).toBeInstanceOf(LeaseLostError);
  expect(alive.signal.aborted).toBe(true);
  expect(Date.now() - revokedAt).toBeLessThan(5000);

  const other = await vesta.leases.grant(5);
  const unreachable = new VestaClient({ url: 'http://127.0.0.1:9', retry: { maxAttempts: 1 } });
  const startedAt = Date.now();
  const cut = unreachable.leases.keepAlive(other);
  const reason = await cut.lost;
  expect(reason.message).toMatch(/within its TTL/);
  expect(Date.now() - startedAt).toBeLessThan(5000 + 500);
  // Nobody kept it alive, so the reaper may have removed it already.
  await vesta.leases.revoke(other.id).catch((e: unknown) => expect(e).toBeInstanceOf(NotFoundError));
}, 20_000);

test('withLock hands the fencing token; a write fenced with a lost lock is refused', async () => {
  const ns = uniqueNs('c');
  const stale: number[] = [];
  const outcome = await vesta
    .withLock(ns, 'leader', async (ctx) => {
      stale.push(ctx.fencingToken);
      await ctx.put('config', { owner: 'first' });
      // Someone else takes over after this holder's lease is gone.
      await vesta.leases.revoke(ctx.leaseId);
      await vesta.withLock(ns, 'leader', async (next) => {
        expect(next.fencingToken).toBeGreaterThan(ctx.fencingToken);
        await next.put('config', { owner: 'second' });
      });
      const refused = await ctx.put('config', { owner: 'stale' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ConflictError);
      expect((refused as ConflictError).reason).toBe('FencingTokenStale');
    })
    .catch((e: unknown) => e);
  // The first holder's lease was revoked under it: withLock reports the loss, not a success.
  expect(outcome).toBeInstanceOf(LeaseLostError);
  expect((await vesta.get(ns, 'config')).record).toMatchObject({ fields: { owner: 'second' } });
  // A held lock: ConflictError LockHeld at once, with the holder.
  const holder = await vesta.leases.grant(30);
  await vesta.locks.acquire(ns, 'busy', holder.id);
  const held = await vesta.withLock(ns, 'busy', async () => 'never').catch((e: unknown) => e);
  expect((held as ConflictError).reason).toBe('LockHeld');
  const taken = await vesta.locks.acquire(ns, 'busy', holder.id);
  expect((held as ConflictError).holder).toEqual({ fencingToken: taken.fencingToken, expiresAt: expect.any(String) });
  expect(JSON.stringify((held as ConflictError).problem)).not.toContain(holder.id);
  await vesta.locks.release(ns, 'busy', holder.id);
  expect(stale).toHaveLength(1);
}, 30_000);

test('sagas start and are waited on with progress', async () => {
  const ns = uniqueNs('c');
  await vesta.put(ns, 'acct/a', { balance: 100 });
  await vesta.put(ns, 'acct/b', { balance: 0 });
  const seen: string[] = [];
  const saga = await vesta.sagas.run(
    { type: 'transfer', input: { namespace: ns, from: 'acct/a', to: 'acct/b', field: 'balance', amount: 30 } },
    { intervalMs: 100, onProgress: (s) => seen.push(s.status) },
  );
  expect(saga.status).toBe('SUCCEEDED');
  expect((await vesta.sagas.get(saga.id)).steps.map((st) => st.status)).toEqual(['DONE', 'DONE']);
  expect(seen.at(-1)).toBe('SUCCEEDED');
  expect((await vesta.get(ns, 'acct/b')).record).toMatchObject({ fields: { balance: 30 } });
  const again = await vesta.sagas.start({
    id: saga.id,
    type: 'transfer',
    input: { namespace: ns, from: 'acct/a', to: 'acct/b', field: 'balance', amount: 30 },
  });
  expect(again.created).toBe(false);
}, 30_000);

test('snapshots are created, waited on with progress and restored', async () => {
  const ns = uniqueNs('c');
  for (let i = 0; i < 5; i++) await vesta.put(ns, `k${i}`, { i });
  const progress: string[] = [];
  const { id } = await vesta.snapshots.create({ namespace: ns });
  const snap = await vesta.snapshots.wait(id, { intervalMs: 100, onProgress: (s) => progress.push(s.status) });
  expect(snap).toMatchObject({ status: 'COMPLETE', items: 5 });
  expect(progress.at(-1)).toBe('COMPLETE');
  expect((await vesta.snapshots.list({ namespace: ns })).map((s) => s.id)).toContain(id);
  expect((await vesta.snapshots.get(id)).parts.reduce((n, p) => n + p.items, 0)).toBe(5);
  const restore = await vesta.snapshots.restore(id, { namespace: `${ns}-copy`, mode: 'missing' });
  expect(await vesta.snapshots.waitRestore(restore.id, { intervalMs: 100 })).toMatchObject({
    status: 'COMPLETE',
    written: 5,
    skipped: 0,
  });
  expect((await vesta.get(`${ns}-copy`, 'k3')).record).toMatchObject({ fields: { i: 3 } });
}, 60_000);

test('watch() iterates over every change once, in order, from now on', async () => {
  const ns = uniqueNs('c');
  await vesta.put(ns, 'before', { x: 0 });
  // Wait until the change before is published, so that "now" is after it.
  while ((await vesta.request<{ items: unknown[] }>('GET', `/v1/ns/${ns}/changes`)).body.items.length === 0)
    await new Promise((r) => setTimeout(r, 100));
  const stop = new AbortController();
  const stream = vesta.watch(ns, { after: 'now', waitSeconds: 2, signal: stop.signal });
  const seen: Change[] = [];
  await stream.start();
  const reading = (async () => {
    for await (const c of stream) {
      seen.push(c);
      if (seen.length === 3) stop.abort();
    }
  })();
  await vesta.put(ns, 'k', { v: 1 });
  await vesta.patch(ns, 'k', { increment: { v: 1 } });
  await vesta.delete(ns, 'k');
  await reading;
  expect(seen.map((c) => `${c.key} ${c.rev} ${c.change}`)).toEqual(['k 1 put', 'k 2 patch', 'k 3 delete']);
  expect(stream.cursor).toBeDefined();
  const expired = await vesta
    .request('GET', `/v1/ns/${ns}/changes`, { query: { after: 'bad!' } })
    .catch((e: unknown) => e);
  expect(expired).toBeInstanceOf(ValidationError);
  expect(CursorExpiredError.name).toBe('CursorExpiredError');
}, 30_000);
