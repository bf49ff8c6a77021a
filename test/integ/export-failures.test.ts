/**
 * An export whose read of the table fails mid-part (the store went away, the process is being
 * stopped) fails promptly: no part, no temporary file, and no error left unhandled on a stream
 * (which would take the whole local server down with it).
 */
import { WritesInFlight } from '../../src/core/snapshot-cut';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore } from '../../src/adapters/blob/fs-blob-store';
import { wireSnapshotWorker } from '../../src/api/wiring';
import { localClient } from '../../src/local/dynamodb-local';
import { exportSegment } from '../../src/snapshots/export';
import { endpoint, testApi, testTables, uniqueNs } from './harness';

const api = testApi();
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vesta-export-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));
afterAll(() => api.close());

/** Snapshot deps whose DynamoDB client fails every read of the records table from the `n`-th on. */
function failingReadsFrom(n: number) {
  const client = localClient(endpoint());
  let reads = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if ((context.commandName === 'QueryCommand' || context.commandName === 'ScanCommand') && ++reads >= n) {
        throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'Error', code: 'ECONNREFUSED' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'failReads' },
  );
  return {
    client,
    deps: wireSnapshotWorker({
      client,
      env: testTables(),
      blobs: new FsBlobStore(dir),
      inFlight: new WritesInFlight(),
    }),
  };
}

test.each([
  ['its first page', 1],
  ['its second page, after a first part of the data went out', 2],
])('an export whose read fails on %s rejects with the store error: no part and no temporary file', async (_, n) => {
  const ns = uniqueNs('export');
  // Twelve records of 100 KB: more than one page (1 MB) of a query.
  for (let i = 0; i < 12; i++)
    await api.call('PUT', `/v1/ns/${ns}/keys/k${i}`, { body: { fields: { pad: 'x'.repeat(100_000) } } });
  const { client, deps } = failingReadsFrom(n);
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('uncaughtException', onUnhandled);
  try {
    await expect(exportSegment(deps, 'snap-20260101T000000000Z-0badf00d', ns, 0, 1)).rejects.toMatchObject({
      name: 'UnavailableError',
    });
  } finally {
    process.off('uncaughtException', onUnhandled);
    client.destroy();
  }
  expect(unhandled).toEqual([]);
  expect(
    readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => !/^snapshots(\/[^/]+)?$/.test(f)),
  ).toEqual([]);
});
