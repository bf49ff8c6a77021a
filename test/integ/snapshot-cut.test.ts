/**
 * Point-in-time snapshots (`src/core/snapshot-cut.ts`), as a property: money moves between
 * accounts in transactions from several concurrent clients while a snapshot is taken at a
 * generated moment; the snapshot, and the namespace restored from it, hold every account exactly
 * as it stood at the snapshot's cut. So the total is conserved exactly, every transfer is in both
 * of its accounts or in neither, and an account's balance is its opening balance plus exactly the
 * transfers it holds. A transfer answered before the cut is in; one sent after it is out.
 *
 * Runs on a table set of its own with the change publisher running (it keeps the pre-images of
 * records written after the cut), through the real API handler and the local workflows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { keyOf } from '../../src/adapters/dynamodb/codec';
import { RECORDS_TABLE } from '../../src/adapters/dynamodb/table-defs';
import { CUT_LEAD_MS } from '../../src/core/snapshot-cut';
import type { SnapshotCuts } from '../../src/core/snapshot-ports';
import { newId } from '../../src/core/snapshots';
import { exportActions } from '../../src/snapshots/export';
import { type TestFeed, testFeed } from './feed';
import { uniqueNs } from './harness';

jest.setTimeout(600_000);

const ACCOUNTS = 10;
const OPENING = 1_000;
const CLIENTS = 6;

let feed: TestFeed;
beforeAll(async () => {
  feed = await testFeed();
  feed.poller.start();
});
afterAll(() => feed.close());

interface Transfer {
  readonly from: string;
  readonly to: string;
  readonly amount: number;
  /** The `rev` each account took. */
  readonly revs: Readonly<Record<string, number>>;
  readonly sentAt: number;
  readonly answeredAt: number;
}

interface SnapshotLine {
  readonly ns: string;
  readonly key: string;
  readonly rev: number;
  readonly siblings: readonly { readonly fields: Record<string, unknown> }[];
}

const account = (i: number) => `acct/${String(i).padStart(2, '0')}`;

async function call(method: string, path: string, body?: unknown) {
  return feed.api.call(method, path, body === undefined ? {} : { body });
}

/** Polls until the snapshot or restore at `path` is no longer RUNNING. */
async function finished(path: string): Promise<any> {
  for (;;) {
    const r = await call('GET', path);
    if (r.body?.status !== 'RUNNING') return r.body;
    await new Promise((res) => setTimeout(res, 50));
  }
}

function snapshotLines(manifest: { id: string; parts: { name: string }[] }): SnapshotLine[] {
  return manifest.parts.flatMap((p) =>
    gunzipSync(readFileSync(join(feed.api.blobDir, 'snapshots', manifest.id, p.name)))
      .toString('utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as SnapshotLine),
  );
}

test('a snapshot taken while transfers run holds every account as at its cut: totals conserved, every transfer wholly in or out', async () => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        /** When the snapshot starts, after the transfers. */
        delayMs: fc.integer({ min: 0, max: 400 }),
        /** Transfers each client makes. */
        perClient: fc.integer({ min: 15, max: 40 }),
        /** Other records beside the accounts, written before. */
        others: fc.integer({ min: 0, max: 300 }),
        wholeStore: fc.boolean(),
        seed: fc.integer(),
      }),
      async ({ delayMs, perClient, others, wholeStore, seed }) => {
        runs++;
        const ns = uniqueNs('cut');
        for (let i = 0; i < ACCOUNTS; i++) {
          const r = await call('PUT', `/v1/ns/${ns}/keys/${encodeURIComponent(account(i))}`, {
            fields: { balance: OPENING },
          });
          expect(r.status).toBe(201);
        }
        for (let i = 0; i < others; i += 25)
          await Promise.all(
            Array.from({ length: Math.min(25, others - i) }, (_, j) =>
              call('PUT', `/v1/ns/${ns}/keys/other/${i + j}`, { fields: { n: i + j } }),
            ),
          );
        let state = seed | 0;
        const rnd = (n: number) => {
          state = (Math.imul(state, 1_103_515_245) + 12_345) | 0;
          return (state >>> 16) % n;
        };
        const transfers: Transfer[] = [];
        const client = async () => {
          for (let k = 0; k < perClient; k++) {
            const a = rnd(ACCOUNTS);
            const b = (a + 1 + rnd(ACCOUNTS - 1)) % ACCOUNTS;
            const amount = 1 + rnd(50);
            const sentAt = Date.now();
            const r = await call('POST', `/v1/ns/${ns}/txn`, {
              ops: [
                { op: 'patch', key: account(a), increment: { balance: -amount } },
                { op: 'patch', key: account(b), increment: { balance: amount } },
              ],
            });
            const answeredAt = Date.now();
            if (r.status !== 200) continue; // contention (503): not committed
            const revs = Object.fromEntries(
              (r.body.results as { key: string; rev: number }[]).map((x) => [x.key, x.rev]),
            );
            transfers.push({ from: account(a), to: account(b), amount, revs, sentAt, answeredAt });
          }
        };
        const taking = (async () => {
          await new Promise((res) => setTimeout(res, delayMs));
          const r = await call('POST', '/v1/snapshots', wholeStore ? {} : { namespace: ns });
          expect(r.status).toBe(202);
          return finished(`/v1/snapshots/${r.body.id}`);
        })();
        await Promise.all([...Array.from({ length: CLIENTS }, client), taking]);
        const manifest = await taking;
        expect({ status: manifest.status, error: manifest.error }).toEqual({ status: 'COMPLETE', error: undefined });
        const cut = Date.parse(manifest.cut);
        expect(Number.isFinite(cut)).toBe(true);

        const lines = snapshotLines(manifest).filter((l) => l.ns === ns);
        expect(lines).toHaveLength(ACCOUNTS + others);
        const held = new Map(lines.filter((l) => l.key.startsWith('acct/')).map((l) => [l.key, l] as const));
        const balanceIn = (l: SnapshotLine) => Number(l.siblings[l.siblings.length - 1].fields.balance);
        let total = 0;
        for (const l of held.values()) total += balanceIn(l);
        expect(total).toBe(ACCOUNTS * OPENING);

        const expected = new Map<string, number>([...held.keys()].map((k) => [k, OPENING]));
        for (const t of transfers) {
          const inFrom = held.get(t.from)!.rev >= t.revs[t.from];
          const inTo = held.get(t.to)!.rev >= t.revs[t.to];
          expect({ transfer: t, inFrom }).toEqual({ transfer: t, inFrom: inTo });
          if (t.answeredAt < cut) expect({ transfer: t, inFrom }).toEqual({ transfer: t, inFrom: true });
          if (t.sentAt > cut) expect({ transfer: t, inFrom }).toEqual({ transfer: t, inFrom: false });
          if (inFrom) {
            expected.set(t.from, expected.get(t.from)! - t.amount);
            expected.set(t.to, expected.get(t.to)! + t.amount);
          }
        }
        for (const [k, l] of held) expect({ k, balance: balanceIn(l) }).toEqual({ k, balance: expected.get(k) });

        // Restored into a fresh namespace, the accounts read back as the snapshot holds them.
        const target = uniqueNs('cut-restored');
        const started = await call('POST', `/v1/snapshots/${manifest.id}/restore`, {
          ...(wholeStore ? {} : { namespace: target }),
          mode: 'missing',
        });
        if (wholeStore) {
          // A whole-store snapshot restores each record into its own namespace: the live one has
          // them all (newer), so nothing is written; restore into another namespace needs a
          // namespace snapshot. Check the count of what it skipped instead.
          expect(started.status).toBe(202);
          const done = await finished(`/v1/restores/${started.body.id}`);
          expect(done).toMatchObject({ status: 'COMPLETE', written: 0 });
          return;
        }
        expect(started.status).toBe(202);
        const done = await finished(`/v1/restores/${started.body.id}`);
        expect(done).toMatchObject({ status: 'COMPLETE', written: ACCOUNTS + others, skipped: 0 });
        let restoredTotal = 0;
        for (let i = 0; i < ACCOUNTS; i++) {
          const r = await call('GET', `/v1/ns/${target}/keys/${encodeURIComponent(account(i))}`);
          expect(r.status).toBe(200);
          expect(r.body.fields.balance).toBe(expected.get(account(i)));
          restoredTotal += r.body.fields.balance;
        }
        expect(restoredTotal).toBe(ACCOUNTS * OPENING);
      },
    ),
    { numRuns: Number(process.env.VESTA_CUT_RUNS ?? 6), endOnFailure: true },
  );
  expect(runs).toBeGreaterThanOrEqual(1);
});

test("a record's stamp never goes down: a write over a newer stamp (a clock ahead, or a write that overtook it) commits with that stamp, on every write path", async () => {
  const ns = uniqueNs('stamp');
  const ahead = new Date(Date.now() + 3_600_000).toISOString();
  const table = feed.env[RECORDS_TABLE.envVar];
  const seedAhead = async (key: string) => {
    const r = await call('PUT', `/v1/ns/${ns}/keys/${key}`, { fields: { n: 1 } });
    expect(r.status).toBe(201);
    await feed.api.client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: keyOf(ns, key),
        UpdateExpression: 'SET #at = :at',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':at': { S: ahead } },
      }),
    );
  };
  const stampOf = async (key: string) =>
    (await feed.api.client.send(new GetItemCommand({ TableName: table, Key: keyOf(ns, key), ConsistentRead: true })))
      .Item?.at?.S;
  for (const key of ['put', 'patch', 'delete', 'txn-a', 'txn-b', 'put-if-match']) await seedAhead(key);
  expect((await call('PUT', `/v1/ns/${ns}/keys/put`, { fields: { n: 2 } })).status).toBe(200);
  expect((await call('PATCH', `/v1/ns/${ns}/keys/patch`, { increment: { n: 1 } })).status).toBe(200);
  expect((await call('DELETE', `/v1/ns/${ns}/keys/delete`)).status).toBe(204);
  const etag = (await call('GET', `/v1/ns/${ns}/keys/put-if-match`)).headers.etag;
  const matched = await feed.api.call('PUT', `/v1/ns/${ns}/keys/put-if-match`, {
    body: { fields: { n: 3 } },
    headers: { 'if-match': etag },
  });
  expect(matched.status).toBe(200);
  expect(matched.body.updatedAt).toBe(ahead);
  // A transaction stamps all its keys alike, no earlier than the newest of them.
  const fresh = uniqueNs('stamp-fresh');
  const txn = await call('POST', `/v1/ns/${ns}/txn`, {
    ops: [
      { op: 'patch', key: 'txn-a', increment: { n: 1 } },
      { op: 'put', key: 'txn-new', fields: {} },
    ],
  });
  expect(txn.status).toBe(200);
  for (const key of ['put', 'patch', 'delete', 'txn-a', 'txn-new', 'put-if-match'])
    expect({ key, at: await stampOf(key) }).toEqual({ key, at: ahead });
  // The rest of the table is untouched by it: a key of another namespace takes the clock's time.
  expect((await call('PUT', `/v1/ns/${fresh}/keys/k`, { fields: {} })).body.updatedAt < ahead).toBe(true);
});

test('a cut opened too late for the publisher is replaced by a later one before anything is read; its pre-images are kept apart', async () => {
  const deps = feed.api.snapshotDeps;
  const opened: string[] = [];
  const slowFirst: SnapshotCuts = {
    ...deps.cuts,
    preImages: (id, cut, keys) => deps.cuts.preImages(id, cut, keys),
    close: (id) => deps.cuts.close(id),
    async open(id, cut) {
      opened.push(cut);
      if (opened.length === 1) await new Promise((res) => setTimeout(res, CUT_LEAD_MS));
      return deps.cuts.open(id, cut);
    },
  };
  const ns = uniqueNs('late-cut');
  const id = newId('snap', new Date());
  await deps.store.createSnapshot(id, ns, 1);
  const plan = (await exportActions({ ...deps, cuts: slowFirst }).exportPlan({ snapshotId: id })) as { cut: string };
  expect(opened).toHaveLength(2);
  expect(opened[1] > opened[0]).toBe(true);
  expect(plan.cut).toBe(opened[1]);
  expect((await deps.store.getSnapshot(id))?.cut).toBe(opened[1]);
  await deps.cuts.close(id);
});
