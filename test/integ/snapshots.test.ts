/**
 * Snapshots end to end on DynamoDB Local: the API starts the export and restore workflows, the
 * local runner runs the very ASL files with the export and restore handlers, parts and manifests
 * go to a file-system blob store.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BatchWriteItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { ensureTables } from '../../src/local/bootstrap-tables';
import { toItem } from '../../src/adapters/dynamodb/codec';
import { newIncarnation } from '../../src/core/records';
import type { RecordState } from '../../src/core/record-view';
import type { Fields } from '../../src/core/record-view';
import { localClient } from '../../src/local/dynamodb-local';
import { newId } from '../../src/core/snapshots';
import { type Reply, type TestApi, endpoint, testApi, uniqueNs } from './harness';

jest.setTimeout(240_000);

let api: TestApi;
beforeAll(() => {
  api = testApi();
});
afterAll(() => api.close());

/** Runs `fn` over `items`, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/**
 * Writes records straight into the records table, 25 to a request, in the stored form a PUT
 * gives them (the codec the store uses); every 100th has two siblings, as in `siblings` mode.
 */
async function seed(t: TestApi, ns: string, keys: readonly string[], fields: (key: string) => Fields): Promise<void> {
  const at = new Date().toISOString();
  const state = (key: string, i: number): RecordState => ({
    namespace: ns,
    key,
    inc: newIncarnation(),
    rev: i % 100 === 7 ? 2 : 1,
    vv: i % 100 === 7 ? { local: 1, other: 1 } : { local: 1 },
    siblings: [
      ...(i % 100 === 7
        ? [{ fields: { ...fields(key), concurrent: true }, dot: { replica: 'other', counter: 1 }, at }]
        : []),
      { fields: fields(key), dot: { replica: 'local', counter: 1 }, at },
    ],
    deleted: false,
    updatedAt: at,
  });
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < keys.length; i += 25)
    batches.push(keys.slice(i, i + 25).map((k, j) => ({ PutRequest: { Item: toItem(state(k, i + j)) } })));
  const table = t.snapshotDeps.recordsTable;
  await pool(batches, 8, async (batch) => {
    let left: WriteRequest[] | undefined = batch;
    while (left && left.length > 0) {
      const out: { UnprocessedItems?: Record<string, WriteRequest[]> } = await t.client.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: left } }),
      );
      left = out.UnprocessedItems?.[table];
    }
  });
}

async function put(t: TestApi, ns: string, key: string, fields: Record<string, unknown>): Promise<Reply> {
  const r = await t.call('PUT', `/v1/ns/${ns}/keys/${encodeURIComponent(key)}`, { body: { fields } });
  if (r.status !== 200 && r.status !== 201) throw new Error(`PUT ${ns}/${key}: ${r.status} ${r.text}`);
  return r;
}

/** Starts a snapshot through the API and waits for its workflow; returns the final manifest. */
async function snapshot(t: TestApi, body: Record<string, unknown>) {
  const r = await t.call('POST', '/v1/snapshots', { body });
  expect(r.status).toBe(202);
  await t.workflows.settled();
  return (await t.call('GET', `/v1/snapshots/${r.body.id}`)).body;
}

/** Starts a restore through the API and waits for its workflow; returns the final restore view. */
async function restore(t: TestApi, snapshotId: string, body: Record<string, unknown>) {
  const r = await t.call('POST', `/v1/snapshots/${snapshotId}/restore`, { body });
  expect(r.status).toBe(202);
  await t.workflows.settled();
  return (await t.call('GET', `/v1/restores/${r.body.id}`)).body;
}

/** Every line of a snapshot's parts, decompressed, in part order. */
function linesOf(t: TestApi, manifest: { id: string; parts: { name: string }[] }): string[] {
  return manifest.parts.flatMap((p) =>
    gunzipSync(readFileSync(join(t.blobDir, 'snapshots', manifest.id, p.name)))
      .toString('utf8')
      .split('\n')
      .filter((l) => l.length > 0),
  );
}

async function listAll(t: TestApi, ns: string): Promise<{ key: string; rev: number }[]> {
  const out: { key: string; rev: number }[] = [];
  let cursor: string | null = null;
  do {
    const r: Reply = await t.call(
      'GET',
      `/v1/ns/${ns}/keys?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    out.push(...r.body.items);
    cursor = r.body.cursor;
  } while (cursor);
  return out;
}

describe('round trip', () => {
  test('10,000 records: export, restore into an empty namespace, export again: every line byte-equal but for the namespace, every record and ETag equal', async () => {
    const a = uniqueNs('rt');
    const b = uniqueNs('rt');
    const keys = Array.from({ length: 10_000 }, (_, i) => `item/${String(i).padStart(5, '0')}`);
    await seed(api, a, keys, (k) => ({
      n: Number(k.slice(5)),
      name: `name ${k} \u00e9\u{1F600}`,
      tags: ['x', k.length],
      nested: { ok: true, at: null },
    }));
    // Some records written through the API: a second revision, and one deleted (tombstones are not exported).
    for (const k of keys.slice(0, 50)) await put(api, a, k, { n: -1, again: true });
    expect((await api.call('DELETE', `/v1/ns/${a}/keys/${encodeURIComponent(keys[9_999])}`)).status).toBe(204);

    const first = await snapshot(api, { namespace: a });
    expect(first).toMatchObject({ namespace: a, status: 'COMPLETE', items: 9_999, format: 'vesta-snapshot/1' });
    expect(first.parts).toHaveLength(1);
    const [part] = first.parts;
    const bytes = readFileSync(join(api.blobDir, 'snapshots', first.id, part.name));
    expect({ bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual({
      bytes: part.bytes,
      sha256: part.sha256,
    });
    const manifest = JSON.parse(readFileSync(join(api.blobDir, 'snapshots', first.id, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ id: first.id, format: 'vesta-snapshot/1', items: 9_999, parts: first.parts });

    const restored = await restore(api, first.id, { namespace: b, mode: 'missing' });
    expect(restored).toMatchObject({
      status: 'COMPLETE',
      written: 9_999,
      skipped: 0,
      snapshotId: first.id,
      namespace: b,
    });

    const second = await snapshot(api, { namespace: b });
    expect(second).toMatchObject({ status: 'COMPLETE', items: 9_999 });
    const one = linesOf(api, first);
    const two = linesOf(api, second);
    expect(two).toHaveLength(9_999);
    expect(two).toEqual(one.map((l) => l.replace(`{"ns":${JSON.stringify(a)},`, `{"ns":${JSON.stringify(b)},`)));

    // What a client sees is the same: fields, rev, vv and the ETag.
    for (const k of [keys[0], keys[7], keys[49], keys[50], keys[9_998]]) {
      const ra = await api.call('GET', `/v1/ns/${a}/keys/${encodeURIComponent(k)}`);
      const rb = await api.call('GET', `/v1/ns/${b}/keys/${encodeURIComponent(k)}`);
      expect(rb.headers.etag).toBe(ra.headers.etag);
      expect({ ...rb.body, namespace: a }).toEqual(ra.body);
    }
    expect((await api.call('GET', `/v1/ns/${b}/keys/${encodeURIComponent(keys[9_999])}`)).status).toBe(404);
  });
});

describe('restore never clobbers newer data', () => {
  test('newer records survive; deleted ones come back; counts add up (mode newer, same namespace)', async () => {
    const ns = uniqueNs('keep');
    for (let i = 0; i < 20; i++) await put(api, ns, `k${i}`, { v: 'snapshot', i });
    const snap = await snapshot(api, { namespace: ns });
    expect(snap).toMatchObject({ status: 'COMPLETE', items: 20 });

    for (let i = 0; i < 5; i++) await put(api, ns, `k${i}`, { v: 'after' });
    for (let i = 5; i < 10; i++) expect((await api.call('DELETE', `/v1/ns/${ns}/keys/k${i}`)).status).toBe(204);
    await put(api, ns, 'fresh', { v: 'after' });

    const r = await restore(api, snap.id, { mode: 'newer' });
    expect(r).toMatchObject({ status: 'COMPLETE', written: 5, skipped: 15 });

    for (let i = 0; i < 5; i++)
      expect((await api.call('GET', `/v1/ns/${ns}/keys/k${i}`)).body).toMatchObject({ fields: { v: 'after' }, rev: 2 });
    for (let i = 5; i < 10; i++) {
      // The tombstone had rev 2: the key comes back above it, with the snapshot's fields.
      expect((await api.call('GET', `/v1/ns/${ns}/keys/k${i}`)).body).toMatchObject({
        fields: { v: 'snapshot', i },
        rev: 3,
      });
    }
    for (let i = 10; i < 20; i++)
      expect((await api.call('GET', `/v1/ns/${ns}/keys/k${i}`)).body).toMatchObject({
        fields: { v: 'snapshot', i },
        rev: 1,
      });
    expect((await api.call('GET', `/v1/ns/${ns}/keys/fresh`)).body).toMatchObject({ fields: { v: 'after' } });
  });

  test('into another namespace: missing writes only absent keys; newer also replaces lower revisions, never higher ones', async () => {
    const src = uniqueNs('src');
    for (const k of ['low', 'same', 'high', 'absent']) {
      await put(api, src, k, { from: 'snapshot' });
      await put(api, src, k, { from: 'snapshot', rev: 2 });
    }
    const snap = await snapshot(api, { namespace: src });

    const setup = async () => {
      const dst = uniqueNs('dst');
      await put(api, dst, 'low', { from: 'target' }); // rev 1 < 2
      await put(api, dst, 'same', { from: 'target' });
      await put(api, dst, 'same', { from: 'target' }); // rev 2 = 2
      for (let i = 0; i < 3; i++) await put(api, dst, 'high', { from: 'target' }); // rev 3 > 2
      return dst;
    };
    const fromOf = async (dst: string, k: string) =>
      (await api.call('GET', `/v1/ns/${dst}/keys/${k}`)).body.fields.from;

    const m = await setup();
    expect(await restore(api, snap.id, { namespace: m, mode: 'missing' })).toMatchObject({
      status: 'COMPLETE',
      written: 1,
      skipped: 3,
    });
    expect([
      await fromOf(m, 'low'),
      await fromOf(m, 'same'),
      await fromOf(m, 'high'),
      await fromOf(m, 'absent'),
    ]).toEqual(['target', 'target', 'target', 'snapshot']);

    const n = await setup();
    expect(await restore(api, snap.id, { namespace: n, mode: 'newer' })).toMatchObject({
      status: 'COMPLETE',
      written: 2,
      skipped: 2,
    });
    expect([
      await fromOf(n, 'low'),
      await fromOf(n, 'same'),
      await fromOf(n, 'high'),
      await fromOf(n, 'absent'),
    ]).toEqual(['snapshot', 'target', 'target', 'snapshot']);
    expect((await api.call('GET', `/v1/ns/${n}/keys/low`)).body.rev).toBe(2);
  });
});

describe('a damaged snapshot is refused before anything is written', () => {
  const damaged = async (damage: (dir: string, parts: { name: string }[]) => void) => {
    const src = uniqueNs('dmg');
    for (let i = 0; i < 30; i++) await put(api, src, `k${i}`, { i });
    const snap = await snapshot(api, { namespace: src });
    damage(join(api.blobDir, 'snapshots', snap.id), snap.parts);
    const dst = uniqueNs('dmg');
    const r = await restore(api, snap.id, { namespace: dst, mode: 'missing' });
    return { r, dst, snap };
  };

  test('one flipped byte in a part: FAILED with a checksum error naming the part; nothing written', async () => {
    const { r, dst, snap } = await damaged((dir, parts) => {
      const file = join(dir, parts[0].name);
      const b = readFileSync(file);
      b[Math.floor(b.length / 2)] ^= 0x01;
      writeFileSync(file, b);
    });
    expect(r).toMatchObject({ status: 'FAILED', written: 0, skipped: 0 });
    expect(r.error).toMatch(/Vesta\.ChecksumMismatch/);
    expect(r.error).toContain(`part ${snap.parts[0].name} of snapshot ${snap.id} is corrupt`);
    expect(await listAll(api, dst)).toEqual([]);
  });

  test('a missing part, or a manifest that disagrees with the recorded parts: FAILED, nothing written', async () => {
    const gone = await damaged((dir, parts) => writeFileSync(join(dir, `${parts[0].name}`), Buffer.alloc(0)));
    expect(gone.r).toMatchObject({ status: 'FAILED', written: 0 });
    expect(gone.r.error).toMatch(/ChecksumMismatch/);
    expect(await listAll(api, gone.dst)).toEqual([]);

    const edited = await damaged((dir) => {
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      m.parts[0].sha256 = '0'.repeat(64);
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    });
    expect(edited.r).toMatchObject({ status: 'FAILED', written: 0 });
    expect(edited.r.error).toMatch(/does not match the parts recorded/);
    expect(await listAll(api, edited.dst)).toEqual([]);
  });

  test('a snapshot that is not COMPLETE cannot be restored: 409 SnapshotNotComplete; unknown ids 404', async () => {
    const id = newId('snap', new Date());
    await api.snapshotDeps.store.createSnapshot(id, uniqueNs('run'), 1);
    const r = await api.call('POST', `/v1/snapshots/${id}/restore`, { body: { mode: 'missing' } });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'Conflict', reason: 'SnapshotNotComplete' });
    expect(
      (await api.call('POST', `/v1/snapshots/${newId('snap', new Date())}/restore`, { body: { mode: 'missing' } }))
        .status,
    ).toBe(404);
    expect((await api.call('GET', '/v1/snapshots/nope')).status).toBe(404);
    expect((await api.call('GET', `/v1/restores/${newId('rest', new Date())}`)).status).toBe(404);
  });
});

describe('whole-store export', () => {
  test('4 segments hold exactly the records 1 segment holds; no tombstones, no records of a lease; restore of one namespace from it', async () => {
    // A table set of its own: other tests write to the shared one while this runs.
    const client = localClient(endpoint());
    const env = await ensureTables(client, `vesta-seg-${randomUUID().slice(0, 8)}`);
    client.destroy();
    const own = testApi({ env });
    try {
      // Scan segments split by partition (namespace): several namespaces spread over the segments.
      const nss = [
        'alpha',
        'beta',
        'gamma',
        'delta',
        'epsilon',
        'zeta',
        'eta',
        'theta',
        'iota',
        'kappa',
        'lambda',
        'mu',
      ];
      for (const ns of nss)
        await seed(
          own,
          ns,
          Array.from({ length: 100 }, (_, i) => `k/${i}`),
          (key) => ({ ns, key }),
        );
      expect((await own.call('DELETE', '/v1/ns/alpha/keys/k%2F0')).status).toBe(204);
      const lease = await own.call('POST', '/v1/leases', { body: { ttlSeconds: 60 } });
      expect(lease.status).toBe(201);
      await own.call('PUT', '/v1/ns/beta/keys/leased', {
        body: { fields: { held: true } },
        headers: { 'X-Lease-Id': lease.body.id },
      });

      const make = async (segments: number) => {
        const id = newId('snap', new Date());
        await own.snapshotDeps.store.createSnapshot(id, null, segments);
        await own.workflows.start('snapshot', id, { snapshotId: id });
        await own.workflows.settled();
        return (await own.call('GET', `/v1/snapshots/${id}`)).body;
      };
      const four = await make(4);
      const one = await make(1);
      expect(four).toMatchObject({ status: 'COMPLETE', namespace: null, items: 1_199 });
      expect(one).toMatchObject({ status: 'COMPLETE', namespace: null, items: 1_199 });
      expect(four.parts.filter((p: { items: number }) => p.items > 0).length).toBeGreaterThan(1);
      expect(four.parts.map((p: { name: string }) => p.name)).toEqual([
        'part-00000.jsonl.gz',
        'part-00001.jsonl.gz',
        'part-00002.jsonl.gz',
        'part-00003.jsonl.gz',
      ]);
      expect(one.parts).toHaveLength(1);
      const sorted = (lines: string[]) => [...lines].sort();
      expect(sorted(linesOf(own, four))).toEqual(sorted(linesOf(own, one)));
      const keys = linesOf(own, one).map((l) => JSON.parse(l) as { ns: string; key: string });
      expect(keys.some((k) => k.ns === 'alpha' && k.key === 'k/0')).toBe(false);
      expect(keys.some((k) => k.key === 'leased')).toBe(false);
      expect(new Set(keys.map((k) => `${k.ns}/${k.key}`)).size).toBe(1_199);

      // Listing: newest first; a namespace filter includes whole-store snapshots; health has the age.
      const list = (await own.call('GET', '/v1/snapshots?namespace=beta')).body.items.map((s: { id: string }) => s.id);
      expect(list.slice(0, 2)).toEqual([one.id, four.id]);
      const health = (await own.call('GET', '/v1/health')).body;
      expect(health.checks.latestSnapshotAgeSeconds).toEqual(expect.any(Number));
      expect(health.checks.latestSnapshotAgeSeconds).toBeLessThan(60);
      expect(readdirSync(join(own.blobDir, 'snapshots'))).toEqual(expect.arrayContaining([four.id, one.id]));

      // A whole-store snapshot restored with a namespace restores that namespace's records only.
      expect((await own.call('DELETE', '/v1/ns/beta/keys/k%2F1')).status).toBe(204);
      expect((await own.call('DELETE', '/v1/ns/gamma/keys/k%2F1')).status).toBe(204);
      const r = await own.call('POST', `/v1/snapshots/${four.id}/restore`, {
        body: { namespace: 'beta', mode: 'missing' },
      });
      expect(r.status).toBe(202);
      await own.workflows.settled();
      expect((await own.call('GET', `/v1/restores/${r.body.id}`)).body).toMatchObject({
        status: 'COMPLETE',
        written: 1,
        skipped: 99,
        namespace: 'beta',
      });
      expect((await own.call('GET', '/v1/ns/beta/keys/k%2F1')).body).toMatchObject({
        fields: { ns: 'beta', key: 'k/1' },
        rev: 3,
      });
      expect((await own.call('GET', '/v1/ns/gamma/keys/k%2F1')).status).toBe(404);
    } finally {
      own.close();
    }
  });
});
