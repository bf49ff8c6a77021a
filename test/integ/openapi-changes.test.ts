/**
 * docs/openapi.yaml against the real handler for the changes endpoint: every status it can
 * produce, each response validated with `expectMatchesOpenApi`. The change log is written here
 * directly (the publisher has its own tests in changes.test.ts), and store failures are injected
 * into the DynamoDB client for the change table. The last test checks that every documented
 * status was produced.
 */
import { type AttributeValue, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { HEAD_SEQ } from '../../src/adapters/dynamodb/change-log';
import { CHANGE_RESOURCES, unseenStatuses } from '../openapi';
import { injectFaults } from './faults';
import { testApi, testTables, uniqueNs } from './harness';

const CHANGES = '/v1/ns/{ns}/changes';
const { VESTA_CHANGES_TABLE: TABLE } = testTables();

const api = testApi();
afterAll(() => api.close());
const { want, storeFailures } = injectFaults(api, 'openapiChangesTestFaults');

const put = (Item: Record<string, AttributeValue>) => api.client.send(new PutItemCommand({ TableName: TABLE, Item }));

/** Writes changes `seqs` of `ns` (key k<seq>) and the head, as the publisher would. */
async function logOf(ns: string, seqs: number[], head = Math.max(...seqs)): Promise<void> {
  for (const seq of seqs) {
    const detail = {
      id: `${String(seq).padStart(32, '0')}`,
      namespace: ns,
      key: `k${seq}`,
      rev: 1,
      vv: { local: 1 },
      change: seq % 2 ? 'put' : 'delete',
      ...(seq % 2 ? { fields: { seq } } : {}),
    };
    await put({
      ns: { S: ns },
      seq: { N: String(seq) },
      k: { S: detail.key },
      d: { S: JSON.stringify(detail) },
      exp: { N: String(Math.floor(Date.now() / 1000) + 3600) },
    });
  }
  await put({ ns: { S: ns }, seq: { N: String(HEAD_SEQ) }, head: { N: String(head) } });
}

test('200 with changes and a cursor; following the cursor; an empty wait keeps the cursor', async () => {
  const ns = uniqueNs('ochg');
  await logOf(ns, [1, 2, 3]);
  const all = await want(200, 'GET', CHANGES, `/v1/ns/${ns}/changes`);
  expect(all.body.items.map((c: { key: string; change: string }) => `${c.key} ${c.change}`)).toEqual([
    'k1 put',
    'k2 delete',
    'k3 put',
  ]);
  const page = await want(200, 'GET', CHANGES, `/v1/ns/${ns}/changes?limit=2`);
  const rest = await want(200, 'GET', CHANGES, `/v1/ns/${ns}/changes?after=${page.body.cursor}`);
  expect(rest.body.items.map((c: { key: string }) => c.key)).toEqual(['k3']);
  const idle = await want(200, 'GET', CHANGES, `/v1/ns/${ns}/changes?after=${rest.body.cursor}&wait=0.3`);
  expect(idle.body).toEqual({ items: [], cursor: rest.body.cursor });
  expect((await want(200, 'GET', CHANGES, `/v1/ns/${ns}/changes?prefix=k2`)).body.items).toHaveLength(1);
});

test('400 for bad query values, 410 for a cursor whose next changes are gone, 405 for other methods', async () => {
  const ns = uniqueNs('ochg');
  for (const q of [
    'limit=0',
    'limit=x',
    'wait=20.5',
    'wait=abc',
    'after=%%%',
    `prefix=${encodeURIComponent('a\u0001')}`,
  ]) {
    await want(400, 'GET', CHANGES, `/v1/ns/${ns}/changes?${q}`);
  }
  await want(400, 'GET', CHANGES, '/v1/ns/Bad_NS/changes');
  // Changes 1 and 3..4 are kept; 2 is gone (TTL clean-up).
  await logOf(ns, [1, 3, 4]);
  const first = await want(200, 'GET', CHANGES, `/v1/ns/${ns}/changes`);
  expect(first.body.items.map((c: { key: string }) => c.key)).toEqual(['k1']);
  const gone = await want(410, 'GET', CHANGES, `/v1/ns/${ns}/changes?after=${first.body.cursor}`);
  expect(gone.body.code).toBe('CursorExpired');
  for (const m of ['POST', 'PUT', 'DELETE'])
    expect((await want(405, m, CHANGES, `/v1/ns/${ns}/changes`)).headers.allow).toBe('GET');
});

test('429/503/500 from the store', async () => {
  await storeFailures(TABLE, 'GET', CHANGES, `/v1/ns/${uniqueNs('ochg')}/changes`);
});

test('every documented status of the changes endpoint was produced', () => {
  expect(unseenStatuses((r) => CHANGE_RESOURCES.includes(r))).toEqual([]);
});
