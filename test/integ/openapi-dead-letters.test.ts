/**
 * docs/openapi.yaml against the real handler for the dead-letter routes: every status they can
 * produce, each response validated with `expectMatchesOpenApi`. Entries are set aside here through
 * the same store the background paths use (their own tests make real ones); store failures are
 * injected into the DynamoDB client for the dead-letter table. The last test checks that every
 * documented status was produced.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { wireStores } from '../../src/api/wiring';
import type { DeadLetter, DeadLetterInput } from '../../src/core/dead-letters';
import { localClient } from '../../src/local/dynamodb-local';
import { ensureTables } from '../../src/local/bootstrap-tables';
import { DEAD_LETTER_RESOURCES, unseenStatuses } from '../openapi';
import { type Faults, injectFaults } from './faults';
import { TEST_TABLE_PREFIX, type TestApi, endpoint, testApi } from './harness';

const LIST = '/v1/dead-letters';
const ONE = '/v1/dead-letters/{id}';
const REPLAY = '/v1/dead-letters/{id}/replay';

// Tables of this file's own: the list spans every entry of its table, and the background paths'
// tests set entries aside in the shared tables while this file runs.
let TABLE: string;
let api: TestApi;
let faults: Faults;
let setAside: ReturnType<typeof wireStores>['setAside'];
beforeAll(async () => {
  const client: DynamoDBClient = localClient(endpoint());
  const env = await ensureTables(client, `${TEST_TABLE_PREFIX}-dead-letters`);
  client.destroy();
  TABLE = env.VESTA_DEAD_LETTERS_TABLE;
  api = testApi({ env });
  faults = injectFaults(api, 'openapiDeadLettersTestFaults');
  ({ setAside } = wireStores({ client: api.client, env }));
});
afterAll(() => api?.close());
const want: Faults['want'] = (...a) => faults.want(...a);
const holding: Faults['holding'] = (...a) => faults.holding(...a);
const storeFailures: Faults['storeFailures'] = (...a) => faults.storeFailures(...a);

let n = 0;
/** An entry of a lease that is gone (a replay reaps nothing and succeeds), unique per call. */
const reaperEntry = (): Promise<DeadLetter> => {
  const leaseId = `${String(Date.now()).padStart(16, '0')}${String(++n).padStart(8, '0')}.30`;
  return setAside({
    source: 'reaper',
    item: { leaseId },
    error: { name: 'ValidationException', message: 'x' },
    attempts: 3,
    payload: { leaseId },
  });
};
/** An entry of a record no decoder takes (a replay fails again). */
const snapshotEntry = (): Promise<DeadLetter> => {
  const input: DeadLetterInput = {
    source: 'snapshot',
    item: {
      snapshotId: 'snap-20260101T000000000Z-00000000',
      part: 'part-00000.jsonl.gz',
      namespace: 'shop',
      key: `bad${++n}`,
    },
    error: { name: 'MalformedItemError', message: 'f' },
    attempts: 1,
    payload: { item: { ns: { S: 'shop' }, k: { S: 'bad' }, f: { S: 'x' } } },
  };
  return setAside(input);
};

test('GET list: 200 newest first with a cursor, one source; 400 for bad query values; 429/503/500; 405', async () => {
  const a = await reaperEntry();
  const b = await snapshotEntry();
  const page = await want(200, 'GET', LIST, `${LIST}?limit=1`);
  expect(page.body.items.map((e: DeadLetter) => e.id)).toEqual([b.id]);
  const next = await want(200, 'GET', LIST, `${LIST}?limit=500&cursor=${page.body.cursor}`);
  expect(next.body.items.map((e: DeadLetter) => e.id)).toContain(a.id);
  expect(
    (await want(200, 'GET', LIST, `${LIST}?source=reaper&limit=500`)).body.items.every(
      (e: DeadLetter) => e.source === 'reaper',
    ),
  ).toBe(true);
  for (const q of ['source=x', 'limit=0', 'limit=501', 'cursor=zzz', 'other=1'])
    await want(400, 'GET', LIST, `${LIST}?${q}`);
  await storeFailures(TABLE, 'GET', LIST, LIST);
  expect((await want(405, 'POST', LIST, LIST)).headers.allow).toBe('GET');
});

test('GET one: 200 with its payload, 404; DELETE: 204, 404, 400, 409 RequestInProgress, 422; 429/503/500', async () => {
  const e = await snapshotEntry();
  expect((await want(200, 'GET', ONE, `${LIST}/${e.id}`)).body.payload.item.f).toEqual({ S: 'x' });
  await want(404, 'GET', ONE, `${LIST}/reaper-${'0'.repeat(32)}`);
  await want(404, 'GET', ONE, `${LIST}/nonsense`);
  await storeFailures(TABLE, 'GET', ONE, `${LIST}/${e.id}`);

  await want(400, 'DELETE', ONE, `${LIST}/${e.id}`, { headers: { 'idempotency-key': 'k'.repeat(200) } });
  const key = { 'idempotency-key': `rm-${e.id}` };
  const [first, dup] = await holding(
    TABLE,
    'DeleteItemCommand',
    () => api.call('DELETE', `${LIST}/${e.id}`, { headers: key }),
    () => want(409, 'DELETE', ONE, `${LIST}/${e.id}`, { headers: key }),
  );
  expect(first.status).toBe(204);
  expect(dup.body.reason).toBe('RequestInProgress');
  await want(204, 'DELETE', ONE, `${LIST}/${e.id}`, { headers: key });
  await want(422, 'DELETE', ONE, `${LIST}/${(await snapshotEntry()).id}`, { headers: key });
  await want(404, 'DELETE', ONE, `${LIST}/${e.id}`);
  await storeFailures(TABLE, 'DELETE', ONE, `${LIST}/${(await snapshotEntry()).id}`);
  expect((await want(405, 'PUT', ONE, `${LIST}/${e.id}`)).headers.allow).toBe('GET, DELETE');
});

test('POST replay: 200 REPLAYED or FAILED, 404, 400, 409 RequestInProgress, 422, 429/503/500', async () => {
  const ok = await reaperEntry();
  expect((await want(200, 'POST', REPLAY, `${LIST}/${ok.id}/replay`)).body).toEqual({ id: ok.id, status: 'REPLAYED' });
  await want(404, 'POST', REPLAY, `${LIST}/${ok.id}/replay`);
  const bad = await snapshotEntry();
  expect((await want(200, 'POST', REPLAY, `${LIST}/${bad.id}/replay`)).body).toMatchObject({
    id: bad.id,
    status: 'FAILED',
    entry: { attempts: 2 },
  });
  // This API runs no change feed: a publisher entry cannot be replayed here.
  const pub = await setAside({
    source: 'publisher',
    item: { namespace: 'shop', key: 'k', rev: 1, sequenceNumber: '1' },
    error: { name: 'E', message: 'm' },
    attempts: 1,
    payload: { image: {} },
  });
  expect((await want(400, 'POST', REPLAY, `${LIST}/${pub.id}/replay`)).body.field).toBe('id');
  const key = { 'idempotency-key': `replay-${bad.id}` };
  const [first, dup] = await holding(
    TABLE,
    'GetItemCommand',
    () => api.call('POST', `${LIST}/${bad.id}/replay`, { headers: key }),
    () => want(409, 'POST', REPLAY, `${LIST}/${bad.id}/replay`, { headers: key }),
  );
  expect(first.status).toBe(200);
  expect(dup.body.reason).toBe('RequestInProgress');
  await want(422, 'POST', REPLAY, `${LIST}/${pub.id}/replay`, { headers: key });
  await storeFailures(TABLE, 'POST', REPLAY, `${LIST}/${bad.id}/replay`);
  expect((await want(405, 'GET', REPLAY, `${LIST}/${bad.id}/replay`)).headers.allow).toBe('POST');
});

test('every documented status of the dead-letter routes was produced', () => {
  expect(unseenStatuses((r) => DEAD_LETTER_RESOURCES.includes(r))).toEqual([]);
});
