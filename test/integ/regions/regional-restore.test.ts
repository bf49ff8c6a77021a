/**
 * The restore writer of a deployment in three Regions (`regional-restore-writer.ts`) on the
 * global-tables stand-in (`replicator.ts`): snapshot lines restored in one Region (EU, not the
 * first) write only that Region's own items, decided on every Region's items joined, and every
 * Region then reads the restored records the same. Shown: `missing` skips keys present in any
 * Region; `newer` replaces a lower rev, keeps a newer record, and replaces siblings with one value;
 * a restored counter takes later increments from every Region exactly; a snapshot's siblings and
 * due instants come back; a resumed part counts each line once; a key with an item that cannot be
 * read is set aside alone; a lost race reads the batch again; and the requests a batch costs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { FsBlobStore } from '../../../src/adapters/blob/fs-blob-store';
import { RequestCounter } from '../../../src/adapters/dynamodb/request-counter';
import { RECORDS_TABLE } from '../../../src/adapters/dynamodb/table-defs';
import { createApiHandler } from '../../../src/api/app';
import { wireApi, wireSnapshotWorker } from '../../../src/api/wiring';
import type { RecordState } from '../../../src/core/record-view';
import type { RestoreWriter } from '../../../src/core/snapshot-ports';
import { type RestoreMode, type RestoreView, fromLine, toLine } from '../../../src/core/snapshots';
import { localClient } from '../../../src/local/dynamodb-local';
import { invoke } from '../../../src/local/server';
import { ALL_MACHINES } from '../../../src/sagas/state-machines';
import { replyOf, uniqueNs } from '../harness';
import { Replicator } from './replicator';

jest.setTimeout(120_000);

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'];
const [US, EU, AP] = REGIONS;
const PART = 'part-00000.jsonl.gz';
const machines = Object.fromEntries(
  ALL_MACHINES.map(({ def }) => [def.envVar, `arn:aws:states:us-east-1:000000000000:stateMachine:${def.id}`]),
);

let rep: Replicator;
const handlers = new Map<string, ReturnType<typeof createApiHandler>>();
const envOf = (id: string) => ({ ...rep.tables, ...machines, VESTA_REPLICA: id, VESTA_REGIONS: REGIONS.join(',') });
/** EU's restore writer on its own client, whose requests `counter` counts. */
let writer: RestoreWriter;
let writerClient: ReturnType<typeof localClient> | undefined;
const counter = new RequestCounter();

beforeAll(async () => {
  rep = await Replicator.start({ regions: REGIONS, jitterMs: 5, seed: 7 });
  const table = rep.tables[RECORDS_TABLE.envVar];
  for (const r of REGIONS) {
    await rep.region(r).client.send(new PutItemCommand({ TableName: table, Item: { ns: { S: 'warm' }, k: { S: r } } }));
  }
  await rep.settle();
  for (const id of REGIONS)
    handlers.set(id, createApiHandler(wireApi({ client: rep.region(id).client, env: envOf(id) })));
  const client = localClient(rep.region(EU).endpoint);
  writerClient = client;
  counter.attach(client);
  const blobs = new FsBlobStore(mkdtempSync(join(tmpdir(), 'vesta-regional-restore-')));
  writer = wireSnapshotWorker({ client, env: envOf(EU), blobs }).restoreWriter;
}, 60_000);

afterAll(async () => {
  writerClient?.destroy();
  await rep?.stop();
});

afterEach(() => {
  rep.healAll();
});

async function call(region: string, method: string, path: string, body?: unknown) {
  const h: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  const text = body === undefined ? '' : JSON.stringify(body);
  const r = replyOf(await invoke(handlers.get(region)!, method, path, h, Buffer.from(text)));
  return { status: r.status, body: r.body };
}

async function namespace(conflicts: 'reject' | 'siblings'): Promise<string> {
  const ns = uniqueNs(`rr-${conflicts}`);
  for (const r of REGIONS) expect((await call(r, 'PUT', `/v1/ns/${ns}`, { conflicts })).status).toBe(200);
  return ns;
}

/** What every Region reads of a key, the same everywhere (checked), with rev the sum of vv. */
async function readEverywhere(ns: string, key: string) {
  const seen = await Promise.all(REGIONS.map((r) => call(r, 'GET', `/v1/ns/${ns}/keys/${key}`)));
  for (const s of seen.slice(1)) expect(s).toEqual(seen[0]);
  const b = seen[0].body;
  if (seen[0].status === 200)
    expect(b.rev).toBe(Object.values(b.vv as Record<string, number>).reduce((x, y) => x + y, 0));
  return seen[0];
}

/** A snapshot record as another deployment's snapshot holds it. */
function snapRecord(ns: string, key: string, rev: number, ...values: Record<string, unknown>[]): RecordState {
  const at = '2026-01-01T00:00:00.000Z';
  return {
    namespace: ns,
    key,
    inc: 'snapinc',
    rev,
    vv: { elsewhere: rev },
    siblings: values.map((fields, i) => ({ fields, dot: { replica: 'elsewhere', counter: rev - i }, at })),
    deleted: false,
    updatedAt: at,
  } as RecordState;
}

let restores = 0;
function restoreOf(ns: string, mode: RestoreMode): RestoreView {
  return {
    id: `rest-${process.pid}-${++restores}-${uniqueNs('rr')}`,
    snapshotId: 'snap-20260101T000000000Z-00000000',
    namespace: ns,
    mode,
    status: 'RUNNING',
    written: 0,
    skipped: 0,
    startedAt: new Date().toISOString(),
    finishedAt: null,
  };
}

async function* linesOf(lines: readonly string[], failAfter = Infinity): AsyncGenerator<string> {
  for (const [i, l] of lines.entries()) {
    if (i >= failAfter) throw new Error('the part could not be read further');
    yield l;
  }
}

/** Runs a part in EU; returns its counts and the requests it sent, by command. */
async function restore(r: RestoreView, lines: readonly string[]) {
  counter.reset();
  const counts = await writer.restorePart(r, PART, () => linesOf(lines), {});
  return { counts, requests: { ...counter.byCommand } };
}

test('missing: writes only keys absent in every Region (one BatchGetItem and one TransactWriteItems a batch); every Region then reads them the same', async () => {
  const ns = await namespace('reject');
  await call(EU, 'PUT', `/v1/ns/${ns}/keys/here`, { fields: { v: 'eu' } });
  await call(AP, 'PUT', `/v1/ns/${ns}/keys/there`, { fields: { v: 'ap' } });
  await call(US, 'PUT', `/v1/ns/${ns}/keys/first`, { fields: { v: 'us' } });
  await call(US, 'PUT', `/v1/ns/${ns}/keys/gone`, { fields: { v: 'us' } });
  await call(US, 'DELETE', `/v1/ns/${ns}/keys/gone`);
  await rep.settle();
  // EU's own partition has no item of `there` or `first`: only AP's and US's, replicated.
  const lines = ['here', 'there', 'first', 'gone', 'new1', 'new2'].map((k) =>
    toLine(snapRecord(ns, k, 3, { v: `snap-${k}` })),
  );
  const { counts, requests } = await restore(restoreOf(ns, 'missing'), lines);
  expect(counts).toEqual({ written: 3, skipped: 3, setAside: 0 });
  expect(requests.BatchGetItemCommand).toBe(1);
  expect(requests.TransactWriteItemsCommand).toBe(1);
  await rep.settle();
  for (const [k, v] of [
    ['here', 'eu'],
    ['there', 'ap'],
    ['first', 'us'],
    ['gone', 'snap-gone'],
    ['new1', 'snap-new1'],
    ['new2', 'snap-new2'],
  ])
    expect((await readEverywhere(ns, k)).body.fields).toEqual({ v });
  // A key never written takes the snapshot's rev (in this Region's entry); a deleted one comes back above its tombstone.
  expect((await readEverywhere(ns, 'new1')).body).toMatchObject({ rev: 3, vv: { [EU]: 3 } });
  expect((await readEverywhere(ns, 'gone')).body).toMatchObject({ rev: 3, vv: { [US]: 2, [EU]: 1 } });
  // A replayed line alone, in the same mode: skipped now, written where nothing is.
  expect(await writer.restoreOne(fromLine(lines[4]), 'missing')).toBe(false);
  expect(await writer.restoreOne(snapRecord(ns, 'new3', 1, { v: 'one' }), 'missing')).toBe(true);
  await rep.settle();
  expect((await readEverywhere(ns, 'new3')).body.fields).toEqual({ v: 'one' });
});

test('newer: replaces a lower rev, keeps a newer record, and a second restore of the snapshot skips what the first wrote', async () => {
  const ns = await namespace('reject');
  await call(US, 'PUT', `/v1/ns/${ns}/keys/old`, { fields: { v: 'us' } });
  for (const r of [US, AP, EU]) {
    await call(r, 'PUT', `/v1/ns/${ns}/keys/fresh`, { fields: { v: r } });
    await rep.settle();
  }
  const lines = [toLine(snapRecord(ns, 'old', 2, { v: 'snap' })), toLine(snapRecord(ns, 'fresh', 2, { v: 'snap' }))];
  expect((await restore(restoreOf(ns, 'newer'), lines)).counts).toEqual({ written: 1, skipped: 1, setAside: 0 });
  await rep.settle();
  expect((await readEverywhere(ns, 'old')).body).toMatchObject({
    fields: { v: 'snap' },
    rev: 2,
    vv: { [US]: 1, [EU]: 1 },
  });
  expect((await readEverywhere(ns, 'fresh')).body).toMatchObject({ fields: { v: EU }, rev: 3 });
  // The restored record is at the snapshot's rev: the same snapshot restored again changes nothing.
  const again = await restore(restoreOf(ns, 'newer'), lines);
  expect(again.counts).toEqual({ written: 0, skipped: 2, setAside: 0 });
  // Nothing to write: the transaction moves the checkpoint alone.
  expect(again.requests).toMatchObject({ BatchGetItemCommand: 1, TransactWriteItemsCommand: 1 });
});

test('siblings made in two Regions are replaced by one value; a restored counter then sums the increments of every Region exactly', async () => {
  const ns = await namespace('siblings');
  rep.partition(US, AP);
  rep.partition(US, EU);
  rep.partition(EU, AP);
  await call(US, 'PUT', `/v1/ns/${ns}/keys/sib`, { fields: { v: 'us' } });
  await call(AP, 'PUT', `/v1/ns/${ns}/keys/sib`, { fields: { v: 'ap' } });
  await call(US, 'PATCH', `/v1/ns/${ns}/keys/hits`, { increment: { n: 3 } });
  await call(AP, 'PATCH', `/v1/ns/${ns}/keys/hits`, { increment: { n: 4 } });
  rep.healAll();
  await rep.settle();
  expect((await readEverywhere(ns, 'sib')).body.siblings).toHaveLength(2);
  expect((await readEverywhere(ns, 'hits')).body).toMatchObject({ fields: { n: 7 }, rev: 2 });
  const lines = [toLine(snapRecord(ns, 'sib', 5, { v: 'snap' })), toLine(snapRecord(ns, 'hits', 5, { n: 10 }))];
  expect((await restore(restoreOf(ns, 'newer'), lines)).counts).toEqual({ written: 2, skipped: 0, setAside: 0 });
  await rep.settle();
  const sib = (await readEverywhere(ns, 'sib')).body;
  expect(sib).toMatchObject({ fields: { v: 'snap' }, rev: 5 });
  expect(sib.siblings).toBeUndefined();
  // The restored 10 is a base that has seen +3 and +4; increments after it, partitioned, add on top.
  expect((await readEverywhere(ns, 'hits')).body.fields).toEqual({ n: 10 });
  rep.partition(US, AP);
  rep.partition(US, EU);
  rep.partition(EU, AP);
  expect((await call(US, 'PATCH', `/v1/ns/${ns}/keys/hits`, { increment: { n: 5 } })).status).toBe(200);
  expect((await call(AP, 'PATCH', `/v1/ns/${ns}/keys/hits`, { increment: { n: -2.5 } })).status).toBe(200);
  rep.healAll();
  await rep.settle();
  expect((await readEverywhere(ns, 'hits')).body).toMatchObject({ fields: { n: 12.5 }, rev: 7 });
});

test("a snapshot record's siblings come back side by side, with the due instants of their fields; a field already due is left out", async () => {
  const ns = await namespace('siblings');
  const due = Date.now() + 3_600_000;
  const snap = snapRecord(ns, 'pair', 4, { v: 'one', x: 1, y: 2 }, { v: 'two' });
  const [one, two] = snap.siblings;
  const lines = [toLine({ ...snap, siblings: [{ ...one, expires: { x: due, y: Date.now() - 1000 } }, two] })];
  expect((await restore(restoreOf(ns, 'missing'), lines)).counts).toEqual({ written: 1, skipped: 0, setAside: 0 });
  await rep.settle();
  const read = (await readEverywhere(ns, 'pair')).body;
  expect(read).toMatchObject({ rev: 4, vv: { [EU]: 4 } });
  expect(read.siblings).toMatchObject([
    { fields: { v: 'one', x: 1 }, expires: { x: new Date(due).toISOString() } },
    { fields: { v: 'two' } },
  ]);
  expect(read.siblings[1].expires).toBeUndefined();
});

test('a part interrupted and run again counts each line once; a line that cannot be parsed is set aside', async () => {
  const ns = await namespace('reject');
  const lines = Array.from({ length: 30 }, (_, i) => toLine(snapRecord(ns, `k${i}`, 1, { i })));
  lines.splice(10, 0, '{"not": "a record"}');
  const r = restoreOf(ns, 'missing');
  counter.reset();
  // The part's source fails after 27 lines: the first batch (25 records, 26 lines) is committed.
  await expect(writer.restorePart(r, PART, () => linesOf(lines, 27), {})).rejects.toThrow('could not be read');
  expect(counter.byCommand).toMatchObject({ BatchGetItemCommand: 1, TransactWriteItemsCommand: 1 });
  const run = await restore(r, lines);
  expect(run.counts).toEqual({ written: 30, skipped: 0, setAside: 1 });
  expect(run.requests).toMatchObject({ BatchGetItemCommand: 1, TransactWriteItemsCommand: 1 });
  const last = await restore(r, lines);
  expect(last.counts).toEqual(run.counts);
  expect(last.requests.TransactWriteItemsCommand ?? 0).toBe(0);
  await rep.settle();
  const page = await call(AP, 'GET', `/v1/ns/${ns}/keys?limit=100`);
  expect(page.body.items).toHaveLength(30);
  expect((await readEverywhere(ns, 'k29')).body).toMatchObject({ fields: { i: 29 }, rev: 1, vv: { [EU]: 1 } });
});

test("a key whose item in another Region cannot be read has its line set aside; the batch's other records are written", async () => {
  const ns = await namespace('reject');
  const table = rep.tables[RECORDS_TABLE.envVar];
  const broken = { ns: { S: `${ns}@${AP}` }, k: { S: 'bad' }, rev: { S: 'not a number' } };
  await rep.region(AP).client.send(new PutItemCommand({ TableName: table, Item: broken }));
  await rep.settle();
  const lines = ['bad', 'good'].map((k) => toLine(snapRecord(ns, k, 1, { v: 'snap' })));
  expect((await restore(restoreOf(ns, 'missing'), lines)).counts).toEqual({ written: 1, skipped: 0, setAside: 1 });
  await expect(writer.restoreOne(fromLine(lines[0]), 'missing')).rejects.toThrow('attribute rev');
  await rep.settle();
  expect((await readEverywhere(ns, 'good')).body.fields).toEqual({ v: 'snap' });
});

test('a lost race with a writer of the same Region reads the batch again and plans on what it finds', async () => {
  const ns = await namespace('reject');
  const client = localClient(rep.region(EU).endpoint);
  const raced = wireSnapshotWorker({
    client,
    env: envOf(EU),
    blobs: new FsBlobStore(mkdtempSync(join(tmpdir(), 'vesta-regional-restore-'))),
  }).restoreWriter;
  const seen = new RequestCounter();
  seen.attach(client);
  let raceOnce = true;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand' && raceOnce) {
        raceOnce = false;
        // Between the restore's read and its write, EU's API writes one of its keys.
        expect((await call(EU, 'PUT', `/v1/ns/${ns}/keys/b`, { fields: { v: 'api' } })).status).toBe(201);
      }
      return next(args);
    },
    { step: 'initialize', name: 'race' },
  );
  const lines = ['a', 'b'].map((k) => toLine(snapRecord(ns, k, 1, { v: 'snap' })));
  const counts = await raced.restorePart(restoreOf(ns, 'missing'), PART, () => linesOf(lines), {});
  expect(counts).toEqual({ written: 1, skipped: 1, setAside: 0 });
  expect(seen.byCommand).toMatchObject({ BatchGetItemCommand: 2, TransactWriteItemsCommand: 2 });
  await rep.settle();
  expect((await readEverywhere(ns, 'a')).body.fields).toEqual({ v: 'snap' });
  expect((await readEverywhere(ns, 'b')).body.fields).toEqual({ v: 'api' });
  client.destroy();
});
