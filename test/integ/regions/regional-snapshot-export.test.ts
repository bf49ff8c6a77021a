/**
 * Snapshot export in a deployment of three Regions (the global-tables stand-in, `replicator.ts`):
 * every key is exported once, as the record a read returns in the exporting Region at the cut:
 * each Region's item rolled back to the cut (its own pre-image, kept by that Region's change
 * publisher from its stream, replicated writes included), then joined and settled as reads do.
 * Shown for a namespace (one Query per Region's partition, merged) and for the whole store (four
 * Scan segments; a key's Region items fall into different segments and one segment writes it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type BatchGetItemCommandInput, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { FsBlobStore } from '../../../src/adapters/blob/fs-blob-store';
import { RequestCounter } from '../../../src/adapters/dynamodb/request-counter';
import { RECORDS_TABLE } from '../../../src/adapters/dynamodb/table-defs';
import { LocalEventBus } from '../../../src/adapters/events/local-bus';
import { createApiHandler } from '../../../src/api/app';
import { wireApi, wireChangePublisher, wireSnapshotWorker } from '../../../src/api/wiring';
import { newId, partPath } from '../../../src/core/snapshots';
import { localClient } from '../../../src/local/dynamodb-local';
import { invoke } from '../../../src/local/server';
import { ALL_MACHINES } from '../../../src/sagas/state-machines';
import { exportActions, exportSegment } from '../../../src/snapshots/export';
import { createExportHandler, createRestoreHandler } from '../../../src/snapshots/worker';
import { LocalExecutions } from '../../../src/local/executions';
import { LocalWorkflows, type StepHandler } from '../../../src/local/workflows';
import { replyOf } from '../harness';
import { publisherIn } from './publisher';
import { Replicator } from './replicator';

jest.setTimeout(120_000);

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];
const [US, EU, AP] = REGIONS;
const machines = Object.fromEntries(
  ALL_MACHINES.map(({ def }) => [def.envVar, `arn:aws:states:us-east-1:000000000000:stateMachine:${def.id}`]),
);
const SIB = 'sib';
const REJ = 'rej';
/** Every key written, by namespace (some are deleted or written after a cut). */
const written: Record<string, Set<string>> = { [SIB]: new Set(), [REJ]: new Set() };

let rep: Replicator;
let dir: string;
const handlers = new Map<string, ReturnType<typeof createApiHandler>>();
const stops: (() => Promise<void>)[] = [];

const envOf = (id: string) => ({
  ...rep.tables,
  ...machines,
  VESTA_REPLICA: id,
  VESTA_REGIONS: REGIONS.join(','),
  VESTA_SNAPSHOT_SETTLE_MS: '0',
});

async function call(region: string, method: string, path: string, body?: unknown) {
  const h: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const r = replyOf(await invoke(handlers.get(region)!, method, path, h, Buffer.from(text)));
  expect({ method, path, region, ok: r.status < 400 || r.status === 404 }).toEqual({ method, path, region, ok: true });
  return r;
}

async function put(region: string, ns: string, key: string, fields: unknown) {
  written[ns].add(key);
  return call(region, 'PUT', `/v1/ns/${ns}/keys/${encodeURIComponent(key)}`, { fields });
}

/** The change publisher of a Region on its own stream, as the stack runs it (it keeps pre-images). */
async function publishIn(id: string) {
  const deps = wireChangePublisher({ client: rep.region(id).client, env: envOf(id), bus: new LocalEventBus() });
  const p = await publisherIn(rep, id, deps);
  stops.push(() => p.stop());
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vesta-regional-snap-'));
  rep = await Replicator.start({ regions: REGIONS, jitterMs: 5, seed: 7 });
  // A fresh DynamoDB Local answers its first requests slowly: one write in every Region,
  // replicated. These items are damaged records (a stamp not a string): a whole-store export
  // sets them aside.
  const table = rep.tables[RECORDS_TABLE.envVar];
  for (const r of REGIONS) {
    const damaged = { ns: { S: 'warm' }, k: { S: r }, at: { N: '1' } };
    await rep.region(r).client.send(new PutItemCommand({ TableName: table, Item: damaged }));
  }
  await rep.settle();
  for (const id of REGIONS)
    handlers.set(id, createApiHandler(wireApi({ client: rep.region(id).client, env: envOf(id) })));
  for (const id of REGIONS)
    for (const [ns, conflicts] of [
      [SIB, 'siblings'],
      [REJ, 'reject'],
    ])
      await call(id, 'PUT', `/v1/ns/${ns}`, { conflicts });
  await publishIn(EU);
  await publishIn(AP);

  // Concurrent writes in partitioned Regions: siblings in SIB, one winner in REJ; increments in
  // every Region, 0.1 at a time on a total of 20 digits.
  rep.partition(US, EU);
  rep.partition(US, AP);
  rep.partition(EU, AP);
  for (const ns of [SIB, REJ]) {
    await put(US, ns, 'both', { v: 'us' });
    await put(EU, ns, 'both', { v: 'eu' });
  }
  written[REJ].add('hits');
  await call(US, 'PATCH', `/v1/ns/${REJ}/keys/hits`, '{"increment":{"n":12345678901234567890}}');
  for (const id of REGIONS)
    for (let i = 0; i < 3; i++) await call(id, 'PATCH', `/v1/ns/${REJ}/keys/hits`, '{"increment":{"n":0.1}}');
  rep.healAll();
  // A key whose only item is a non-first Region's; keys written in one Region each, or in several.
  for (const ns of [SIB, REJ]) {
    await put(AP, ns, 'only-ap', { from: 'ap' });
    for (let i = 0; i < 6; i++) await put(REGIONS[i % 3], ns, `p${i}`, { i });
  }
  // Two keys in the other order in UTF-8 (DynamoDB's) than in UTF-16 (JavaScript's), each in two
  // Regions: a namespace export merges the Regions' partitions in DynamoDB's order, or splits them.
  for (const [key, regions] of [
    ['z\uFFFD', [US, EU]],
    ['z\u{1F600}', [EU, AP]],
  ] as const)
    for (const r of regions) await put(r, REJ, key, { r });
  await rep.settle();
  for (const ns of [SIB, REJ]) {
    await call(EU, 'PATCH', `/v1/ns/${ns}/keys/p0`, { set: { by: 'eu' } });
    await call(AP, 'PATCH', `/v1/ns/${ns}/keys/p0`, { set: { by: 'ap' } });
    await call(EU, 'DELETE', `/v1/ns/${ns}/keys/p3`);
  }
  await rep.settle();
}, 150_000);

afterAll(async () => {
  for (const stop of stops) await stop();
  await rep?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** What a GET returns in `region` for every key written: `ns key` to its values, `rev`, `vv` and text. */
async function reads(region: string) {
  const out = new Map<string, { values: unknown[]; rev: number; vv: unknown; text: string }>();
  for (const ns of Object.keys(written))
    for (const key of written[ns]) {
      const r = await call(region, 'GET', `/v1/ns/${ns}/keys/${encodeURIComponent(key)}`);
      if (r.status === 404) continue;
      const values = r.body.siblings ? r.body.siblings.map((s: { fields: unknown }) => s.fields) : [r.body.fields];
      out.set(`${ns} ${key}`, { values, rev: r.body.rev, vv: r.body.vv, text: r.text });
    }
  return out;
}

/** A snapshot worker of `region` on a client of its own, whose requests are counted. */
function worker(region: string) {
  const client = localClient(rep.region(region).endpoint);
  const counter = new RequestCounter();
  counter.attach(client);
  // The BatchGetItem requests of the records table (others read pre-images), and the items they ask for.
  const recordReads = { requests: 0, items: 0 };
  const table = rep.tables[RECORDS_TABLE.envVar];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const keys = (args.input as BatchGetItemCommandInput).RequestItems?.[table]?.Keys;
      if (context.commandName === 'BatchGetItemCommand' && keys) {
        recordReads.requests++;
        recordReads.items += keys.length;
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordReads' },
  );
  const deps = wireSnapshotWorker({ client, env: envOf(region), blobs: new FsBlobStore(dir) });
  return { deps, counter, recordReads, done: () => client.destroy() };
}

/** Opens a snapshot's cut in `region` and returns once it has passed. */
async function cutIn(deps: ReturnType<typeof worker>['deps'], ns: string | null, segments: number) {
  const id = newId('snap', new Date());
  await deps.store.createSnapshot(id, ns, segments);
  const { cut } = (await exportActions(deps).exportPlan({ snapshotId: id })) as { cut: string };
  while (Date.now() <= Date.parse(cut) + 10) await new Promise((r) => setTimeout(r, 20));
  return { id, cut };
}

/** Exports every segment side by side; each line's text by `ns key`, and the parts. */
async function exported(w: ReturnType<typeof worker>, id: string, ns: string | null, total: number, cut: string) {
  const parts = await Promise.all(
    Array.from({ length: total }, (_, s) => exportSegment(w.deps, id, ns, s, total, cut)),
  );
  const lines = parts.flatMap((p) =>
    gunzipSync(readFileSync(join(dir, partPath(id, p.name))))
      .toString('utf8')
      .split('\n')
      .filter((l) => l.length > 0),
  );
  return { parts, lines };
}

function expectLinesAre(lines: readonly string[], expected: Awaited<ReturnType<typeof reads>>) {
  const got = new Map<string, string>();
  for (const l of lines) {
    const { ns, key } = JSON.parse(l);
    expect(got.has(`${ns} ${key}`)).toBe(false); // each key once
    got.set(`${ns} ${key}`, l);
  }
  expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [k, want] of expected) {
    const line = JSON.parse(got.get(k)!);
    const values = line.siblings.map((s: { fields: unknown }) => s.fields);
    expect({ k, values, rev: line.rev, vv: line.vv }).toEqual({ k, values: want.values, rev: want.rev, vv: want.vv });
    expect(line.rev).toBe(Object.values(line.vv as Record<string, number>).reduce((a, b) => a + b, 0));
  }
  return got;
}

test('a namespace export in one Region: every key once, as GET reads it there at the cut; later writes replicated from another Region are not in it', async () => {
  const w = worker(AP);
  try {
    const before = await reads(AP);
    const { id, cut } = await cutIn(w.deps, REJ, 1);
    // After the cut, in another Region, replicated to AP before it exports.
    await put(US, REJ, 'both', { v: 'after' });
    await call(US, 'PATCH', `/v1/ns/${REJ}/keys/hits`, '{"increment":{"n":1}}');
    await call(US, 'DELETE', `/v1/ns/${REJ}/keys/p1`);
    await put(US, REJ, 'only-ap', { from: 'us, after' });
    await put(US, REJ, 'new-after', { at: 'after' });
    await rep.settle();
    w.counter.reset();
    const { parts, lines } = await exported(w, id, REJ, 1, cut);
    const queries = w.counter.byCommand.QueryCommand;
    const expected = new Map([...before].filter(([k]) => k.startsWith(`${REJ} `)));
    expect(expected.size).toBe(10); // both, hits, only-ap, p0..p5 less p3, the two z keys
    const got = expectLinesAre(lines, expected);
    expect(parts[0]).toMatchObject({ items: 10 });
    expect(got.get(`${REJ} both`)).toContain('"fields":{"v":"eu"}');
    expect(got.get(`${REJ} only-ap`)).toContain('"fields":{"from":"ap"}');
    // 12345678901234567890 + 9 × 0.1, every digit, from three Regions' totals.
    expect(before.get(`${REJ} hits`)!.text).toContain('"n":12345678901234567890.9');
    expect(got.get(`${REJ} hits`)).toContain('"n":12345678901234567890.9');
    // One Query per Region's partition (each fits a page).
    expect(queries).toBe(3);
    // Now, the later writes show in reads.
    expect((await call(AP, 'GET', `/v1/ns/${REJ}/keys/both`)).body.fields).toEqual({ v: 'after' });
    console.log('namespace export', { keys: parts[0].items, requests: w.counter.snapshot() });
  } finally {
    w.done();
  }
});

test('a whole-store export in four segments: every key of every namespace once, though its Region items lie in different segments', async () => {
  const w = worker(EU);
  try {
    const before = await reads(EU);
    const { id, cut } = await cutIn(w.deps, null, 4);
    await put(AP, SIB, 'both', { v: 'ap, after' });
    await call(AP, 'PATCH', `/v1/ns/${REJ}/keys/hits`, '{"increment":{"n":0.1}}');
    await call(US, 'DELETE', `/v1/ns/${SIB}/keys/p2`);
    await put(AP, SIB, 'new-after', { at: 'after' });
    await rep.settle();
    // Keys whose Region items the four segments split between them: each must still be written once.
    const segmentsOf = new Map<string, Set<number>>();
    for (let s = 0; s < 4; s++) {
      for await (const page of w.deps.scan.pages(null, s, 4))
        for (const it of page as { ns: { S: string }; k: { S: string } }[]) {
          const k = `${it.ns.S.split('@')[0]} ${it.k.S}`;
          segmentsOf.set(k, (segmentsOf.get(k) ?? new Set()).add(s));
        }
    }
    const split = [...segmentsOf.values()].filter((s) => s.size > 1).length;
    expect(split).toBeGreaterThan(0);
    w.counter.reset();
    const { parts, lines } = await exported(w, id, null, 4, cut);
    const requests = w.counter.snapshot();
    const got = expectLinesAre(lines, before);
    expect(parts.reduce((n, p) => n + p.items, 0)).toBe(before.size);
    // The three damaged items are set aside, one dead letter each; the rest is exported.
    expect(parts.reduce((n, p) => n + (p.setAside ?? 0), 0)).toBe(3);
    expect(before.size).toBe(17); // SIB: both, only-ap, p0..p5 less p3; REJ: 10 less p1, plus new-after
    const both = JSON.parse(got.get(`${SIB} both`)!);
    expect(both.siblings.map((s: { fields: { v: string } }) => s.fields.v).sort()).toEqual(['eu', 'us']);
    expect(got.get(`${REJ} hits`)).toContain('"n":12345678901234567891.9');
    expect(got.has(`${SIB} new-after`)).toBe(false);
    expect(requests.byCommand.ScanCommand).toBe(4);
    // Per Scan page (one per segment here), one BatchGetItem of every Region's item of each key it
    // holds: 3 items per key and segment that scanned one of its items.
    const scans = [...segmentsOf.values()].reduce((n, segs) => n + segs.size, 0);
    expect(w.recordReads).toEqual({
      requests: new Set([...segmentsOf.values()].flatMap((x) => [...x])).size,
      items: 3 * scans,
    });
    console.log('whole-store export', {
      keys: before.size,
      keysSplitAcrossSegments: split,
      perSegment: parts.map((p) => p.items),
      requests,
      recordReads: w.recordReads,
    });
  } finally {
    w.done();
  }
});

/**
 * The API of `region` with the snapshot and restore workflows run by the local runner, its blobs
 * in a folder of its own: what `POST /v1/snapshots`, `/import` and `/restore` start there.
 */
function drillApi(region: string) {
  const blobs = mkdtempSync(join(tmpdir(), `vesta-regional-drill-${region}-`));
  const client = rep.region(region).client;
  const env = envOf(region);
  const deps = wireSnapshotWorker({ client, env, blobs: new FsBlobStore(blobs) });
  const noSagas: StepHandler = async () => {
    throw new Error('no saga runs in this test');
  };
  const workflows = new LocalWorkflows({
    step: noSagas,
    export: createExportHandler(deps),
    restore: createRestoreHandler(deps),
    executions: new LocalExecutions(),
    retryIntervalMs: 0,
  });
  const handler = createApiHandler(wireApi({ client, env, workflows, blobs: deps.blobs }));
  const send = async (method: string, path: string, body?: unknown) =>
    replyOf(
      await invoke(
        handler,
        method,
        path,
        body === undefined ? {} : { 'content-type': 'application/json' },
        Buffer.from(body === undefined ? '' : JSON.stringify(body)),
      ),
    );
  const finished = async (path: string) => {
    for (;;) {
      const r = await send('GET', path);
      if (r.body?.status !== 'RUNNING') return r.body;
      await new Promise((res) => setTimeout(res, 50));
    }
  };
  return { blobs, send, finished };
}

test('the recovery drill across Regions, through the API: a snapshot taken in one Region, imported and restored in another, reads the same in every Region', async () => {
  const eu = drillApi(EU);
  const ap = drillApi(AP);
  try {
    const before = new Map([...(await reads(EU))].filter(([k]) => k.startsWith(`${SIB} `)));
    const started = await eu.send('POST', '/v1/snapshots', { namespace: SIB });
    expect(started.status).toBe(202);
    const manifest = await eu.finished(`/v1/snapshots/${started.body.id}`);
    expect(manifest).toMatchObject({ status: 'COMPLETE', items: before.size });

    const imported = await ap.send('POST', '/v1/snapshots/import', { location: eu.blobs });
    expect(imported.status).toBe(200);
    expect(imported.body.items.map((m: { id: string }) => m.id)).toEqual([manifest.id]);
    // Into a fresh namespace of siblings (set in every Region): each record as the snapshot holds it.
    for (const id of REGIONS) await call(id, 'PUT', '/v1/ns/drill', { conflicts: 'siblings' });
    const restore = await ap.send('POST', `/v1/snapshots/${manifest.id}/restore`, {
      namespace: 'drill',
      mode: 'missing',
    });
    expect(restore.status).toBe(202);
    expect(await ap.finished(`/v1/restores/${restore.body.id}`)).toMatchObject({
      status: 'COMPLETE',
      written: before.size,
      skipped: 0,
    });
    await rep.settle();
    const sorted = (values: unknown[]) => values.map((v) => JSON.stringify(v)).sort();
    for (const [k, want] of before) {
      const key = k.slice(SIB.length + 1);
      const texts = new Set<string>();
      for (const id of REGIONS) {
        const r = await call(id, 'GET', `/v1/ns/drill/keys/${encodeURIComponent(key)}`);
        expect({ key, id, status: r.status }).toEqual({ key, id, status: r.status === 300 ? 300 : 200 });
        const values = r.body.siblings ? r.body.siblings.map((x: { fields: unknown }) => x.fields) : [r.body.fields];
        expect({ key, values: sorted(values) }).toEqual({ key, values: sorted(want.values) });
        expect(r.body.rev).toBe(Object.values(r.body.vv as Record<string, number>).reduce((a, b) => a + b, 0));
        texts.add(r.text);
      }
      expect({ key, regionsAgree: texts.size }).toEqual({ key, regionsAgree: 1 });
    }
    // Restoring again in `missing` mode writes nothing: every record is there, in every Region.
    const again = await ap.send('POST', `/v1/snapshots/${manifest.id}/restore`, {
      namespace: 'drill',
      mode: 'missing',
    });
    expect(await ap.finished(`/v1/restores/${again.body.id}`)).toMatchObject({
      status: 'COMPLETE',
      written: 0,
      skipped: before.size,
    });
  } finally {
    rmSync(eu.blobs, { recursive: true, force: true });
    rmSync(ap.blobs, { recursive: true, force: true });
  }
});

test('a namespace export past one page: 300 keys of 12 KB in three Regions, some written in two, each once, in key order, as GET reads it', async () => {
  const ns = 'many';
  const big = 'x'.repeat(12_000);
  const keyOf = (i: number) => `m/${String(i).padStart(3, '0')}`;
  for (let i = 0; i < 300; i++) {
    await call(REGIONS[i % 3], 'PUT', `/v1/ns/${ns}/keys/${encodeURIComponent(keyOf(i))}`, { fields: { i, big } });
    // Written again in another Region before replication: concurrent, one winner everywhere.
    if (i % 7 === 0)
      await call(REGIONS[(i + 1) % 3], 'PUT', `/v1/ns/${ns}/keys/${encodeURIComponent(keyOf(i))}`, {
        fields: { i, again: true },
      });
  }
  await rep.settle();
  const w = worker(US);
  try {
    const read = new Map<string, { fields: unknown; rev: number }>();
    for (let i = 0; i < 300; i++) {
      const r = await call(US, 'GET', `/v1/ns/${ns}/keys/${encodeURIComponent(keyOf(i))}`);
      expect(r.status).toBe(200);
      read.set(keyOf(i), { fields: r.body.fields, rev: r.body.rev });
    }
    const { id, cut } = await cutIn(w.deps, ns, 1);
    w.counter.reset();
    const { parts, lines } = await exported(w, id, ns, 1, cut);
    const got = lines.map((l) => JSON.parse(l) as { key: string; rev: number; siblings: { fields: unknown }[] });
    expect(parts[0].items).toBe(300);
    expect(got.map((l) => l.key)).toEqual(Array.from({ length: 300 }, (_, i) => keyOf(i)));
    for (const l of got)
      expect({ key: l.key, fields: l.siblings[0].fields, rev: l.rev }).toEqual({ key: l.key, ...read.get(l.key)! });
    // Each Region's partition holds about 1.2 MB: more than one Query page each.
    expect(w.counter.byCommand.QueryCommand).toBeGreaterThan(REGIONS.length);
    console.log('namespace export past one page', { keys: got.length, requests: w.counter.snapshot() });
  } finally {
    w.done();
  }
});
