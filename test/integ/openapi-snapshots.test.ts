/**
 * docs/openapi.yaml against the real handler for snapshots and restores: every route, every
 * status it can produce, each response validated with `expectMatchesOpenApi`. Exports and
 * restores run on the local Step Functions runner (the real ASL and handlers) and are awaited
 * with `api.workflows.settled()`. Store failures are injected into the DynamoDB client for the
 * control table (where snapshots and restores are recorded); Step Functions failures by making
 * the workflow starter throw what the Step Functions adapter throws. The last test checks that
 * every documented status of these operations was produced here.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ThrottledError, UnavailableError, ValidationError } from '../../src/core/errors';
import { newId, parseCreateSnapshot, parseRestore } from '../../src/core/snapshots';
import { SNAPSHOT_RESOURCES, expectMatchesOpenApi, requestBodyValidator, unseenStatuses } from '../openapi';
import { injectFaults } from './faults';
import { type CallOptions, testApi, testTables, uniqueNs } from './harness';

const SNAPSHOTS = '/v1/snapshots';
const SNAPSHOT = '/v1/snapshots/{id}';
const RESTORE = '/v1/snapshots/{id}/restore';
const RESTORES = '/v1/restores/{id}';
const IMPORT = '/v1/snapshots/import';

const { VESTA_CONTROL_TABLE: CONTROL_TABLE } = testTables();

const api = testApi();
afterAll(() => api.close());

const { holding, want, storeFailures } = injectFaults(api, 'openapiSnapshotsTestFaults');

const json = (text: string, headers: Record<string, string> = {}): CallOptions => ({
  body: text,
  headers: { 'content-type': 'application/json', ...headers },
});

/** A COMPLETE snapshot of a fresh namespace with `n` records. */
async function completeSnapshot(n = 3): Promise<{ ns: string; id: string }> {
  const ns = uniqueNs('osnap');
  for (let i = 0; i < n; i++)
    expect((await api.call('PUT', `/v1/ns/${ns}/keys/k${i}`, { body: { fields: { i } } })).status).toBe(201);
  const started = await want(202, 'POST', SNAPSHOTS, SNAPSHOTS, { body: { namespace: ns } });
  await api.workflows.settled();
  const done = await want(200, 'GET', SNAPSHOT, `/v1/snapshots/${started.body.id}`);
  expect(done.body).toMatchObject({ status: 'COMPLETE', items: n });
  return { ns, id: started.body.id };
}

function agrees(parse: (b: unknown) => unknown, method: string, resource: string, bodies: unknown[]): string[] {
  const accepts = (b: unknown) => {
    try {
      parse(b);
      return true;
    } catch (e) {
      if (e instanceof ValidationError) return false;
      throw e;
    }
  };
  return bodies.flatMap((body) => {
    const doc = requestBodyValidator(method, resource)(body);
    const impl = accepts(body);
    return impl === doc.valid ? [] : [`${JSON.stringify(body)}: handler ${impl}, document ${doc.valid} ${doc.errors}`];
  });
}

test('the request body schemas accept and refuse what the handlers do', () => {
  expect(
    agrees(parseCreateSnapshot, 'POST', SNAPSHOTS, [
      {},
      { namespace: 'shop' },
      { namespace: 'Bad NS' },
      { namespace: 7 },
      { namespace: 'shop', segments: 4 },
      [],
      'x',
      null,
    ]),
  ).toEqual([]);
  expect(
    agrees(parseRestore, 'POST', RESTORE, [
      { mode: 'missing' },
      { mode: 'newer', namespace: 'copy' },
      { mode: 'all' },
      {},
      { namespace: 'copy' },
      { mode: 'missing', namespace: 'Bad NS' },
      { mode: 'missing', extra: true },
      [],
      null,
    ]),
  ).toEqual([]);
});

describe('POST /v1/snapshots', () => {
  test('202 with Location for a namespace, for the whole store with no body, and with {}', async () => {
    const { id } = await completeSnapshot();
    expect(id).toMatch(/^snap-/);
    for (const opts of [{}, { body: {} }] as CallOptions[]) {
      const r = await want(202, 'POST', SNAPSHOTS, SNAPSHOTS, opts);
      expect(r.body).toEqual({ id: expect.stringMatching(/^snap-/), status: 'RUNNING' });
      expect(r.headers.location).toBe(`/v1/snapshots/${r.body.id}`);
      const running = await want(200, 'GET', SNAPSHOT, r.headers.location);
      expect(running.body).toMatchObject({ namespace: null, format: 'vesta-snapshot/1' });
    }
    await api.workflows.settled();
  });

  test('400 naming the field, 413, 415; nothing is started', async () => {
    const before = (await api.workflows.settled()).length;
    expect((await want(400, 'POST', SNAPSHOTS, SNAPSHOTS, { body: { namespace: 'Bad NS' } })).body.field).toBe(
      'body.namespace',
    );
    expect((await want(400, 'POST', SNAPSHOTS, SNAPSHOTS, { body: { segments: 2 } })).body.field).toBe('body.segments');
    expect((await want(400, 'POST', SNAPSHOTS, SNAPSHOTS, json('{"namespace":'))).body.field).toBe('body');
    await want(413, 'POST', SNAPSHOTS, SNAPSHOTS, json(`{"pad":"${'x'.repeat(270 * 1024)}"}`));
    await want(415, 'POST', SNAPSHOTS, SNAPSHOTS, { body: '{}', headers: { 'content-type': 'text/plain' } });
    expect((await api.workflows.settled()).length).toBe(before);
  });

  test('409 RequestInProgress, the kept 202 replayed, 422 IdempotencyKeyReused', async () => {
    const ns = uniqueNs('osnap');
    const key = { 'idempotency-key': `snap-${ns}` };
    const [first, dup] = await holding(
      CONTROL_TABLE,
      'PutItemCommand',
      () => api.call('POST', SNAPSHOTS, { headers: key, body: { namespace: ns } }),
      () => want(409, 'POST', SNAPSHOTS, SNAPSHOTS, { headers: key, body: { namespace: ns } }),
    );
    expect(dup.body.reason).toBe('RequestInProgress');
    expectMatchesOpenApi('POST', SNAPSHOTS, first);
    expect(first.status).toBe(202);
    const replay = await want(202, 'POST', SNAPSHOTS, SNAPSHOTS, { headers: key, body: { namespace: ns } });
    expect(replay.body).toEqual(first.body);
    await want(422, 'POST', SNAPSHOTS, SNAPSHOTS, { headers: key, body: { namespace: `${ns}-x` } });
    await api.workflows.settled();
  });

  test('429, 503, 500 from the store', async () => {
    await storeFailures(CONTROL_TABLE, 'POST', SNAPSHOTS, SNAPSHOTS, { body: { namespace: uniqueNs('osnap') } });
  });

  test('429 and 503 from Step Functions: the snapshot is recorded FAILED at once, with the reason', async () => {
    for (const [status, error] of [
      [429, new ThrottledError('Step Functions throttled the start; retry later', 1)],
      [503, new UnavailableError('Step Functions is unavailable', 2)],
    ] as const) {
      const ns = uniqueNs('osnap');
      const spy = jest.spyOn(api.workflows, 'start').mockRejectedValueOnce(error);
      try {
        await want(status, 'POST', SNAPSHOTS, SNAPSHOTS, { body: { namespace: ns } });
      } finally {
        spy.mockRestore();
      }
      const listed = await want(200, 'GET', SNAPSHOTS, `/v1/snapshots?namespace=${ns}`);
      const mine = listed.body.items.filter((s: { namespace: string | null }) => s.namespace === ns);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ status: 'FAILED', error: expect.stringContaining('could not be started') });
      expect(mine[0].finishedAt).toEqual(expect.any(String));
    }
  });
});

describe('GET /v1/snapshots and /v1/snapshots/{id}', () => {
  test('200: newest first; the namespace filter keeps its own and whole-store snapshots', async () => {
    const a = await completeSnapshot(1);
    const b = await completeSnapshot(2);
    const all = await want(200, 'GET', SNAPSHOTS, SNAPSHOTS);
    const ids = all.body.items.map((s: { id: string }) => s.id);
    expect(ids.indexOf(b.id)).toBeLessThan(ids.indexOf(a.id));
    expect([...ids].sort().reverse()).toEqual(ids);
    const onlyA = await want(200, 'GET', SNAPSHOTS, `/v1/snapshots?namespace=${a.ns}`);
    expect(
      onlyA.body.items.every((s: { namespace: string | null }) => s.namespace === a.ns || s.namespace === null),
    ).toBe(true);
    expect(onlyA.body.items.map((s: { id: string }) => s.id)).toContain(a.id);
    const one = await want(200, 'GET', SNAPSHOT, `/v1/snapshots/${b.id}`);
    expect(one.body).toMatchObject({
      id: b.id,
      namespace: b.ns,
      status: 'COMPLETE',
      items: 2,
      parts: [{ name: 'part-00000.jsonl.gz', items: 2 }],
    });
  });

  test('400 for a bad namespace or an unknown query parameter; 404 for unknown and malformed ids', async () => {
    expect((await want(400, 'GET', SNAPSHOTS, '/v1/snapshots?namespace=Bad%20NS')).body.field).toBe('query.namespace');
    expect((await want(400, 'GET', SNAPSHOTS, '/v1/snapshots?limit=3')).body.field).toBe('query.limit');
    await want(404, 'GET', SNAPSHOT, `/v1/snapshots/${newId('snap', new Date())}`);
    await want(404, 'GET', SNAPSHOT, '/v1/snapshots/nope');
    await want(404, 'GET', SNAPSHOT, `/v1/snapshots/${newId('rest', new Date())}`);
  });

  test('429, 503, 500 from the store', async () => {
    const { id } = await completeSnapshot(1);
    await storeFailures(CONTROL_TABLE, 'GET', SNAPSHOTS, SNAPSHOTS);
    await storeFailures(CONTROL_TABLE, 'GET', SNAPSHOT, `/v1/snapshots/${id}`);
  });
});

describe('POST /v1/snapshots/{id}/restore and GET /v1/restores/{id}', () => {
  test('202 with Location, then 200 COMPLETE with the counts', async () => {
    const { id } = await completeSnapshot(3);
    const target = uniqueNs('orest');
    const r = await want(202, 'POST', RESTORE, `/v1/snapshots/${id}/restore`, {
      body: { namespace: target, mode: 'missing' },
    });
    expect(r.body).toEqual({ id: expect.stringMatching(/^rest-/), status: 'RUNNING', snapshotId: id });
    expect(r.headers.location).toBe(`/v1/restores/${r.body.id}`);
    await api.workflows.settled();
    const done = await want(200, 'GET', RESTORES, r.headers.location);
    expect(done.body).toMatchObject({
      id: r.body.id,
      snapshotId: id,
      namespace: target,
      mode: 'missing',
      status: 'COMPLETE',
      written: 3,
      skipped: 0,
    });
    expect(done.body.finishedAt).toEqual(expect.any(String));
  });

  test('400, 404, 409 SnapshotNotComplete, 413, 415', async () => {
    const { id } = await completeSnapshot(1);
    const path = `/v1/snapshots/${id}/restore`;
    expect((await want(400, 'POST', RESTORE, path, { body: {} })).body.field).toBe('body.mode');
    expect((await want(400, 'POST', RESTORE, path, { body: { mode: 'missing', extra: 1 } })).body.field).toBe(
      'body.extra',
    );
    await want(400, 'POST', RESTORE, path, {});
    await want(404, 'POST', RESTORE, `/v1/snapshots/${newId('snap', new Date())}/restore`, {
      body: { mode: 'missing' },
    });
    await want(404, 'POST', RESTORE, '/v1/snapshots/nope/restore', { body: { mode: 'missing' } });
    const running = newId('snap', new Date());
    await api.snapshotDeps.store.createSnapshot(running, uniqueNs('orun'), 1);
    const conflict = await want(409, 'POST', RESTORE, `/v1/snapshots/${running}/restore`, { body: { mode: 'newer' } });
    expect(conflict.body).toMatchObject({ code: 'Conflict', reason: 'SnapshotNotComplete' });
    expect(conflict.body.detail).toContain('RUNNING');
    await want(413, 'POST', RESTORE, path, json(`{"mode":"missing","pad":"${'x'.repeat(270 * 1024)}"}`));
    await want(415, 'POST', RESTORE, path, { body: '{"mode":"missing"}', headers: { 'content-type': 'text/plain' } });
  });

  test('422 IdempotencyKeyReused; 429, 503, 500 from the store', async () => {
    const { id } = await completeSnapshot(1);
    const path = `/v1/snapshots/${id}/restore`;
    const key = { 'idempotency-key': `rest-${id}` };
    await want(202, 'POST', RESTORE, path, { headers: key, body: { mode: 'missing', namespace: uniqueNs('orest') } });
    await want(422, 'POST', RESTORE, path, { headers: key, body: { mode: 'newer' } });
    await storeFailures(CONTROL_TABLE, 'POST', RESTORE, path, {
      body: { mode: 'missing', namespace: uniqueNs('orest') },
    });
    await api.workflows.settled();
  });

  test('GET /v1/restores/{id}: 404 unknown or malformed; 429, 503, 500 from the store', async () => {
    await want(404, 'GET', RESTORES, `/v1/restores/${newId('rest', new Date())}`);
    await want(404, 'GET', RESTORES, '/v1/restores/nope');
    const { id } = await completeSnapshot(1);
    const r = await want(202, 'POST', RESTORE, `/v1/snapshots/${id}/restore`, {
      body: { mode: 'missing', namespace: uniqueNs('orest') },
    });
    await api.workflows.settled();
    await storeFailures(CONTROL_TABLE, 'GET', RESTORES, r.headers.location);
  });
});

describe('POST /v1/snapshots/import', () => {
  /** A folder holding a copy of snapshot `id` of this API's store. */
  const copyOf = (id: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'vesta-oimport-'));
    cpSync(join(api.blobDir, 'snapshots', id), join(dir, 'snapshots', id), { recursive: true });
    return dir;
  };

  test('200 with the manifests; again 200 the same; 409 SnapshotIdReused; 422 SnapshotDamaged', async () => {
    const { id } = await completeSnapshot(2);
    const dir = copyOf(id);
    try {
      const first = await want(200, 'POST', IMPORT, IMPORT, { body: { location: dir } });
      expect(first.body.items.map((m: { id: string }) => m.id)).toEqual([id]);
      expect((await want(200, 'POST', IMPORT, IMPORT, { body: { location: api.blobDir } })).body.items).toEqual(
        expect.arrayContaining(first.body.items),
      );
      const manifest = join(dir, 'snapshots', id, 'manifest.json');
      const m = JSON.parse(readFileSync(manifest, 'utf8'));
      writeFileSync(
        manifest,
        JSON.stringify({ ...m, items: m.items + 1, parts: [{ ...m.parts[0], items: m.parts[0].items + 1 }] }),
      );
      const conflict = await want(409, 'POST', IMPORT, IMPORT, { body: { location: dir } });
      expect(conflict.body).toMatchObject({ code: 'Conflict', reason: 'SnapshotIdReused' });
      writeFileSync(join(dir, 'snapshots', id, m.parts[0].name), 'not gzip');
      const damaged = await want(422, 'POST', IMPORT, IMPORT, { body: { location: dir } });
      expect(damaged.body).toMatchObject({ code: 'SnapshotDamaged', snapshot: id, part: m.parts[0].name });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('400, 404, 405, 413, 415, 422 IdempotencyKeyReused; 429, 503, 500 from the store', async () => {
    expect((await want(400, 'POST', IMPORT, IMPORT, { body: {} })).body.field).toBe('body.location');
    expect((await want(400, 'POST', IMPORT, IMPORT, { body: { location: 'x/../y' } })).body.field).toBe(
      'body.location',
    );
    await want(400, 'POST', IMPORT, IMPORT, {});
    await want(404, 'POST', IMPORT, IMPORT, {
      body: { location: join(tmpdir(), `vesta-none-${newId('snap', new Date())}`) },
    });
    expect((await want(405, 'GET', IMPORT, IMPORT)).headers.allow).toBe('POST');
    await want(413, 'POST', IMPORT, IMPORT, json(`{"location":"/${'x'.repeat(270 * 1024)}"}`));
    await want(415, 'POST', IMPORT, IMPORT, { body: '{"location":"/x"}', headers: { 'content-type': 'text/plain' } });
    const key = { 'idempotency-key': `import-${newId('snap', new Date())}` };
    await want(200, 'POST', IMPORT, IMPORT, { headers: key, body: { location: api.blobDir } });
    await want(422, 'POST', IMPORT, IMPORT, { headers: key, body: { location: `${api.blobDir}/snapshots` } });
    await completeSnapshot(1);
    await storeFailures(CONTROL_TABLE, 'POST', IMPORT, IMPORT, { body: { location: api.blobDir } });
  });
});

test('every documented status of the snapshot and restore operations was produced', () => {
  expect(unseenStatuses((r) => SNAPSHOT_RESOURCES.includes(r))).toEqual([]);
});
