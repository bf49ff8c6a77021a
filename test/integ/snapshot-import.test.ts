/**
 * Snapshot import on DynamoDB Local: stack A (the shared test tables, a blob folder of its own)
 * exports; stack B (a table set of its own, created for this file, and a fresh blob folder) imports
 * from A's folder and restores. B's records must equal A's byte for byte.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { ensureTables } from '../../src/local/bootstrap-tables';
import { localClient } from '../../src/local/dynamodb-local';
import { serve } from '../../src/local/server';
import { newId } from '../../src/core/snapshots';
import { ConflictError, SnapshotDamagedError, VestaClient } from '../../src/client';
import { runCli, runCliJson } from '../cli-harness';
import { type Reply, type TestApi, endpoint, testApi, uniqueNs } from './harness';

jest.setTimeout(240_000);

const prefix = `vesta-imp-${randomUUID().slice(0, 8)}`;
let tablesB: Record<string, string>;
let a: TestApi;
let b: TestApi;

beforeAll(async () => {
  const client = localClient(endpoint());
  try {
    tablesB = await ensureTables(client, prefix);
  } finally {
    client.destroy();
  }
  a = testApi();
  b = testApi({ env: tablesB });
});

afterAll(async () => {
  a?.close();
  b?.close();
  const client = localClient(endpoint());
  try {
    for (const name of Object.values(tablesB ?? {}))
      await client.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
  } finally {
    client.destroy();
  }
});

async function put(t: TestApi, ns: string, key: string, fields: Record<string, unknown>): Promise<Reply> {
  const r = await t.call('PUT', `/v1/ns/${ns}/keys/${encodeURIComponent(key)}`, { body: { fields } });
  if (r.status !== 200 && r.status !== 201) throw new Error(`PUT ${ns}/${key}: ${r.status} ${r.text}`);
  return r;
}

/** Starts a snapshot through the API and waits for its workflow; returns the final manifest. */
async function snapshot(t: TestApi, ns: string) {
  const r = await t.call('POST', '/v1/snapshots', { body: { namespace: ns } });
  expect(r.status).toBe(202);
  await t.workflows.settled();
  const s = (await t.call('GET', `/v1/snapshots/${r.body.id}`)).body;
  expect(s.status).toBe('COMPLETE');
  return s;
}

/** A namespace of A with a few records written through the API (one rewritten, one deleted). */
async function seeded(n = 12): Promise<{ ns: string; keys: string[] }> {
  const ns = uniqueNs('imp');
  const keys = Array.from({ length: n }, (_, i) => `k/${String(i).padStart(3, '0')}`);
  for (const [i, k] of keys.entries())
    await put(a, ns, k, { i, name: `n\u00e9 ${k} \u{1F600}`, tags: ['x', i], nested: { ok: i % 2 === 0, at: null } });
  await put(a, ns, keys[0], { i: -1, again: true });
  expect((await a.call('DELETE', `/v1/ns/${ns}/keys/${encodeURIComponent(keys[n - 1])}`)).status).toBe(204);
  return { ns, keys };
}

/** A fresh folder holding a copy of snapshot `id` of A, as a team would copy it elsewhere. */
function copyOf(id: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vesta-import-src-'));
  cpSync(join(a.blobDir, 'snapshots', id), join(dir, 'snapshots', id), { recursive: true });
  return dir;
}

const importFrom = (t: TestApi, location: unknown) => t.call('POST', '/v1/snapshots/import', { body: { location } });

async function listIds(t: TestApi): Promise<string[]> {
  const r = await t.call('GET', '/v1/snapshots');
  expect(r.status).toBe(200);
  return r.body.items.map((s: { id: string }) => s.id);
}

describe('recovery drill', () => {
  test('A exports; B (fresh tables, fresh blob folder) imports from A’s folder and restores: records and ETags byte-equal', async () => {
    const { ns, keys } = await seeded();
    const snap = await snapshot(a, ns);
    const { segments: _s, ...manifest } = snap;
    expect(manifest.items).toBe(keys.length - 1);

    const imported = await importFrom(b, a.blobDir);
    expect(imported.status).toBe(200);
    const mine = imported.body.items.find((m: { id: string }) => m.id === snap.id);
    expect(mine).toEqual(JSON.parse(readFileSync(join(a.blobDir, 'snapshots', snap.id, 'manifest.json'), 'utf8')));
    // The export wrote manifest.json a moment before it recorded the snapshot COMPLETE.
    expect(mine).toMatchObject({ ...manifest, finishedAt: mine.finishedAt });
    // The parts and manifest are B's own now: the restore reads them from B's store.
    for (const p of snap.parts)
      expect(readFileSync(join(b.blobDir, 'snapshots', snap.id, p.name))).toEqual(
        readFileSync(join(a.blobDir, 'snapshots', snap.id, p.name)),
      );
    expect((await b.call('GET', `/v1/snapshots/${snap.id}`)).body).toEqual({ ...snap, finishedAt: mine.finishedAt });

    const started = await b.call('POST', `/v1/snapshots/${snap.id}/restore`, { body: { mode: 'missing' } });
    expect(started.status).toBe(202);
    await b.workflows.settled();
    const restored = (await b.call('GET', `/v1/restores/${started.body.id}`)).body;
    expect(restored).toMatchObject({ status: 'COMPLETE', written: keys.length - 1, skipped: 0 });

    for (const k of keys) {
      const path = `/v1/ns/${ns}/keys/${encodeURIComponent(k)}`;
      const [ra, rb] = [await a.call('GET', path), await b.call('GET', path)];
      expect(rb.status).toBe(ra.status);
      expect(rb.text).toBe(ra.text);
      expect(rb.headers.etag).toBe(ra.headers.etag);
    }
    const [la, lb] = [await a.call('GET', `/v1/ns/${ns}/keys`), await b.call('GET', `/v1/ns/${ns}/keys`)];
    expect(lb.text).toBe(la.text);
  });

  test('the same import again is idempotent: 200 with the same manifests, each registered once', async () => {
    const { ns } = await seeded(3);
    const snap = await snapshot(a, ns);
    const src = copyOf(snap.id);
    try {
      const first = await importFrom(b, pathToFileURL(src).href);
      expect(first.status).toBe(200);
      const again = await importFrom(b, `${src}/`);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect((await listIds(b)).filter((id) => id === snap.id)).toHaveLength(1);
      // B's own folder holds them now: importing it is in place, and changes nothing.
      const own = await importFrom(b, b.blobDir);
      expect(own.status).toBe(200);
      expect(own.body.items.map((m: { id: string }) => m.id)).toContain(snap.id);
      // So is a deployment's import of its own exports.
      const exported = await importFrom(a, a.blobDir);
      expect(exported.status).toBe(200);
      expect(exported.body.items.map((m: { id: string }) => m.id)).toContain(snap.id);
      expect((await a.call('GET', `/v1/snapshots/${snap.id}`)).body).toEqual(snap);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  test('another manifest under an id B has is 409 SnapshotIdReused, and nothing of it is written', async () => {
    const { ns } = await seeded(3);
    const snap = await snapshot(a, ns);
    const src = copyOf(snap.id);
    try {
      expect((await importFrom(b, src)).status).toBe(200);
      const path = join(src, 'snapshots', snap.id, 'manifest.json');
      const m = JSON.parse(readFileSync(path, 'utf8'));
      writeFileSync(path, JSON.stringify({ ...m, startedAt: '2020-01-01T00:00:00.000Z' }));
      const before = readFileSync(join(b.blobDir, 'snapshots', snap.id, 'manifest.json'), 'utf8');
      const r = await importFrom(b, src);
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ code: 'Conflict', reason: 'SnapshotIdReused' });
      expect(r.body.detail).toContain(snap.id);
      expect(readFileSync(join(b.blobDir, 'snapshots', snap.id, 'manifest.json'), 'utf8')).toBe(before);
      expect((await b.call('GET', `/v1/snapshots/${snap.id}`)).body.startedAt).toBe(snap.startedAt);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });
});

/** A COMPLETE manifest of one part of one record, as an export elsewhere would have written it. */
function oneRecordManifest(id: string, startedAt: Date, sha256: string) {
  return {
    id,
    namespace: null,
    status: 'COMPLETE' as const,
    items: 1,
    bytes: 10,
    parts: [{ name: 'part-00000.jsonl.gz', items: 1, bytes: 10, sha256 }],
    startedAt: startedAt.toISOString(),
    finishedAt: new Date(startedAt.getTime() + 893).toISOString(),
    format: 'vesta-snapshot/1' as const,
  };
}

describe('the snapshot store', () => {
  test('registerImported: registered, then the same (finishedAt aside), then different; conditioned on the id', async () => {
    const store = b.snapshotDeps.store;
    const id = newId('snap', new Date());
    const m = {
      ...oneRecordManifest(id, new Date('2026-12-07T03:12:41.107Z'), 'c'.repeat(64)),
      cut: '2026-12-07T03:12:41.107Z',
    };
    expect(await store.registerImported(m)).toBe('registered');
    expect(await store.registerImported(m)).toBe('same');
    expect(await store.registerImported({ ...m, finishedAt: '2026-12-07T03:12:42.005Z' })).toBe('same');
    expect(await store.registerImported({ ...m, cut: '2026-12-07T03:12:40.000Z' })).toBe('different');
    expect(await store.registerImported({ ...m, items: 2, parts: [{ ...m.parts[0], items: 2 }] })).toBe('different');
    const { cut: _c, ...view } = m;
    expect(await store.getSnapshot(id)).toMatchObject({ ...view, segments: 1 });
  });

  test('an imported snapshot is kept from its import, however old it is: a year-old backup is there to restore', async () => {
    const store = b.snapshotDeps.store;
    const started = new Date(Date.now() - 400 * 24 * 3600 * 1000);
    const id = newId('snap', started);
    const m = oneRecordManifest(id, started, 'd'.repeat(64));
    expect(await store.registerImported(m)).toBe('registered');
    expect(await store.getSnapshot(id)).toMatchObject({ id, status: 'COMPLETE', startedAt: m.startedAt });
    expect((await b.call('GET', `/v1/snapshots/${id}`)).status).toBe(200);
    expect(await listIds(b)).toContain(id);
  });
});

describe('damage', () => {
  test('a flipped byte in one part: 422 SnapshotDamaged naming the snapshot and the part; nothing of any snapshot there registered', async () => {
    const good = await snapshot(a, (await seeded(3)).ns);
    const bad = await snapshot(a, (await seeded(4)).ns);
    const src = copyOf(good.id);
    cpSync(join(a.blobDir, 'snapshots', bad.id), join(src, 'snapshots', bad.id), { recursive: true });
    try {
      const part = join(src, 'snapshots', bad.id, bad.parts[0].name);
      const bytes = readFileSync(part);
      bytes[Math.floor(bytes.length / 2)] ^= 0xff;
      writeFileSync(part, bytes);
      const r = await importFrom(b, src);
      expect(r.status).toBe(422);
      expect(r.headers['content-type']).toBe('application/problem+json');
      expect(r.body).toMatchObject({ code: 'SnapshotDamaged', snapshot: bad.id, part: bad.parts[0].name });
      expect(r.body.detail).toContain(bad.id);
      expect(r.body.detail).toContain(bad.parts[0].name);
      for (const id of [good.id, bad.id]) {
        expect((await b.call('GET', `/v1/snapshots/${id}`)).status).toBe(404);
        expect(existsSync(join(b.blobDir, 'snapshots', id))).toBe(false);
      }
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  test('a missing part, and a manifest that is not one: 422 naming the part, or manifest.json', async () => {
    const snap = await snapshot(a, (await seeded(3)).ns);
    const src = copyOf(snap.id);
    try {
      rmSync(join(src, 'snapshots', snap.id, snap.parts[0].name));
      const missing = await importFrom(b, src);
      expect(missing.status).toBe(422);
      expect(missing.body).toMatchObject({ code: 'SnapshotDamaged', snapshot: snap.id, part: snap.parts[0].name });

      for (const text of ['{not json', JSON.stringify({ id: snap.id, format: 'other/1' })]) {
        writeFileSync(join(src, 'snapshots', snap.id, 'manifest.json'), text);
        const r = await importFrom(b, src);
        expect(r.status).toBe(422);
        expect(r.body).toMatchObject({ code: 'SnapshotDamaged', snapshot: snap.id, part: 'manifest.json' });
      }
      // A part named to leave the folder is a damaged manifest, never a path that is read.
      const m = JSON.parse(readFileSync(join(a.blobDir, 'snapshots', snap.id, 'manifest.json'), 'utf8'));
      writeFileSync(
        join(src, 'snapshots', snap.id, 'manifest.json'),
        JSON.stringify({ ...m, parts: [{ ...m.parts[0], name: '../../../etc/passwd' }] }),
      );
      const escaping = await importFrom(b, src);
      expect(escaping.status).toBe(422);
      expect(escaping.body).toMatchObject({ code: 'SnapshotDamaged', part: 'manifest.json' });
      expect((await b.call('GET', `/v1/snapshots/${snap.id}`)).status).toBe(404);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });
});

describe('locations', () => {
  test('a folder that does not exist is 404; an empty one is 200 with no items', async () => {
    const gone = join(tmpdir(), `vesta-no-such-${randomUUID()}`);
    const r = await importFrom(b, gone);
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('NotFound');
    const empty = mkdtempSync(join(tmpdir(), 'vesta-import-empty-'));
    try {
      expect((await importFrom(b, empty)).body).toEqual({ items: [] });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('bad bodies and locations are 400 naming the field, and register nothing', async () => {
    const before = await listIds(b);
    const fixed: unknown[] = [
      undefined,
      {},
      { location: '' },
      { location: 1 },
      { location: a.blobDir, extra: true },
      { location: 'relative/folder' },
      { location: `${a.blobDir}/../${a.blobDir.split('/').pop()}` },
      { location: `${a.blobDir}/./` },
      { location: `${a.blobDir}%2F..` },
      { location: `${a.blobDir}\u0000` },
      { location: `file://${a.blobDir.replace(/\//g, '%2F')}` },
      { location: 'file://relative' },
      { location: `/${'a'.repeat(2000)}` },
      { location: 's3://some-bucket/snapshots' },
      { location: 'https://example.com/x' },
      { location: '/' },
    ];
    for (const body of fixed) {
      const r = await b.call('POST', '/v1/snapshots/import', body === undefined ? {} : { body });
      expect([body, r.status]).toEqual([body, 400]);
      expect(r.body.field).toMatch(/^body/);
    }
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc
            .tuple(fc.string(), fc.constantFrom('..', '%2F', '%2f', '\u0000', '\\', '/./'), fc.string())
            .map(([x, bad, y]) => ({ location: `${a.blobDir}/${x}${bad}${y}` })),
          fc.string({ minLength: 1025, maxLength: 3000 }).map((s) => ({ location: `/${s}` })),
        ),
        async (body) => {
          const r = await b.call('POST', '/v1/snapshots/import', {
            body: JSON.stringify(body) ?? 'null',
            headers: { 'content-type': 'application/json' },
          });
          expect(r.status).toBe(400);
        },
      ),
      { numRuns: 150 },
    );
    expect(await listIds(b)).toEqual(before);
  });
});

describe('client and CLI', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = await serve(b.handler, 0);
    const addr = server.address() as { port: number };
    url = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('snapshots.import: the manifests; a damaged part rejects with SnapshotDamagedError; a taken id with ConflictError', async () => {
    const snap = await snapshot(a, (await seeded(3)).ns);
    const src = copyOf(snap.id);
    try {
      const client = new VestaClient({ url });
      const items = await client.snapshots.import(src);
      expect(items.map((m) => m.id)).toEqual([snap.id]);
      expect((await client.snapshots.get(snap.id)).status).toBe('COMPLETE');

      const path = join(src, 'snapshots', snap.id, 'manifest.json');
      writeFileSync(
        path,
        JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), startedAt: new Date().toISOString() }),
      );
      const conflict = await client.snapshots.import(src).catch((e: unknown) => e);
      expect(conflict).toBeInstanceOf(ConflictError);
      expect((conflict as ConflictError).reason).toBe('SnapshotIdReused');

      const part = join(src, 'snapshots', snap.id, snap.parts[0].name);
      writeFileSync(part, Buffer.concat([readFileSync(part), Buffer.from([0])]));
      const damaged = await client.snapshots.import(src).catch((e: unknown) => e);
      expect(damaged).toBeInstanceOf(SnapshotDamagedError);
      expect(damaged).toMatchObject({ snapshot: snap.id, part: snap.parts[0].name });
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  test('vesta snapshot import <folder>: prints the manifests; then vesta snapshot restore --wait restores them', async () => {
    const { ns, keys } = await seeded(4);
    const snap = await snapshot(a, ns);
    const src = copyOf(snap.id);
    try {
      const out = await runCliJson(['snapshot', 'import', src], { url });
      expect(out.items.map((m: { id: string }) => m.id)).toEqual([snap.id]);
      const again = await runCliJson(['snapshot', 'import', pathToFileURL(src).href], { url });
      expect(again).toEqual(out);
      const restored = await runCliJson(
        ['snapshot', 'restore', snap.id, '--mode', 'missing', '--wait', '--interval', '20'],
        {
          url,
        },
      );
      expect(restored).toMatchObject({ status: 'COMPLETE', written: keys.length - 1 });
      const path = `/v1/ns/${ns}/keys/${encodeURIComponent(keys[1])}`;
      expect((await b.call('GET', path)).text).toBe((await a.call('GET', path)).text);

      const part = join(src, 'snapshots', snap.id, snap.parts[0].name);
      rmSync(part);
      const failed = await runCli(['snapshot', 'import', src], { url });
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toContain('SnapshotDamaged (422)');
      expect(failed.stderr).toContain(snap.parts[0].name);
      const gone = await runCli(['snapshot', 'import', join(src, 'nothing-here')], { url });
      expect(gone.code).not.toBe(0);
      expect(gone.stderr).toContain('NotFound (404)');
      expect(readdirSync(join(b.blobDir, 'snapshots'))).toContain(snap.id);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });
});
