/**
 * docs/openapi.yaml against the real handler for sagas: `POST /v1/sagas`, `GET /v1/sagas/{id}` and
 * `POST /v1/sagas/{id}/retry`,
 * every status they can produce, each response validated with `expectMatchesOpenApi`. Sagas run
 * on the local Step Functions runner (the real ASL and saga-step handler) and are awaited with
 * `api.workflows.settled()`. Store failures are injected into the DynamoDB client for the saga
 * log table; Step Functions failures by making the workflow starter throw what the Step Functions
 * adapter throws. The last test checks that every documented status of the saga operations was
 * produced here.
 */
import { ThrottledError, UnavailableError, ValidationError } from '../../src/core/errors';
import { MAX_SAGA_STEPS, parseSagaBody } from '../../src/core/sagas';
import { SAGA_RESOURCES, expectMatchesOpenApi, requestBodyValidator, unseenStatuses } from '../openapi';
import { injectFaults } from './faults';
import { type CallOptions, type Reply, testApi, testTables, uniqueNs } from './harness';

const SAGAS = '/v1/sagas';
const SAGA = '/v1/sagas/{id}';
const RETRY = '/v1/sagas/{id}/retry';
const RECORD = '/v1/ns/{ns}/keys/{key+}';

const { VESTA_SAGAS_TABLE: SAGAS_TABLE } = testTables();

const api = testApi();
afterAll(() => api.close());

const { holding, want, storeFailures } = injectFaults(api, 'openapiSagasTestFaults');

// ---- calls --------------------------------------------------------------------------------

const json = (text: string, headers: Record<string, string> = {}): CallOptions => ({
  body: text,
  headers: { 'content-type': 'application/json', ...headers },
});
const rec = (ns: string, key: string) => `/v1/ns/${ns}/keys/${key.split('/').map(encodeURIComponent).join('/')}`;
const put = (ns: string, key: string, fields: Record<string, unknown>) =>
  api.call('PUT', rec(ns, key), { body: { fields } });
const fields = async (ns: string, key: string) => (await want(200, 'GET', RECORD, rec(ns, key))).body.fields;

const start = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  want(status, 'POST', SAGAS, SAGAS, { body, headers });
const get = (id: string) => want(200, 'GET', SAGA, `/v1/sagas/${id}`);

/** Starts a saga (202), waits for every execution to end, and reads it back (200). */
async function run(body: Record<string, unknown>): Promise<{ started: Reply; saga: Reply }> {
  const started = await start(202, body);
  await api.workflows.settled();
  return { started, saga: await get(started.body.id) };
}

/** Steps that each add 1 to `n` of their own key; step `failAt` requires what does not hold. */
function counterSteps(n: number, failAt?: number) {
  return Array.from({ length: n }, (_, i) => ({
    name: `step-${i}`,
    action: {
      op: 'patch',
      key: `k${i}`,
      increment: { n: 1 },
      ...(i === failAt ? { require: [{ field: 'n', op: '>', value: 1000 }] } : {}),
    },
    compensation: { op: 'patch', key: `k${i}`, increment: { n: -1 } },
  }));
}

async function retryInProgress(opts: CallOptions): Promise<Reply> {
  const [first, dup] = await holding(
    SAGAS_TABLE,
    'TransactWriteItemsCommand',
    () => api.call('POST', SAGAS, opts),
    () => want(409, 'POST', SAGAS, SAGAS, opts),
  );
  expect(dup.body.reason).toBe('RequestInProgress');
  expect(dup.headers['retry-after']).toBe('1');
  expectMatchesOpenApi('POST', SAGAS, first);
  expect(first.status).toBe(202);
  return first;
}

// ---- the document -------------------------------------------------------------------------

test('the request body schema accepts and refuses what the handler does', () => {
  const accepts = (b: unknown) => {
    try {
      parseSagaBody(b);
      return true;
    } catch (e) {
      if (e instanceof ValidationError) return false;
      throw e;
    }
  };
  const step = { name: 's', action: { op: 'put', key: 'k', fields: {} } };
  const steps = (...s: unknown[]) => ({ namespace: 'ns1', steps: s });
  const act = (action: unknown) => steps({ name: 's', action });
  const xfer = (input: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    type: 'transfer',
    input: { namespace: 'ns1', from: 'a', to: 'b', field: 'f', amount: 1, ...input },
    ...extra,
  });
  const bodies: unknown[] = [
    steps(step),
    { id: 'order-991', ...steps(step) },
    { id: 'A', ...steps(step) },
    { id: `a${'b'.repeat(79)}`, ...steps(step) },
    { id: `a${'b'.repeat(80)}`, ...steps(step) },
    { id: '-a', ...steps(step) },
    { id: 'a b', ...steps(step) },
    { id: '', ...steps(step) },
    { id: 7, ...steps(step) },
    steps(),
    steps(...Array.from({ length: MAX_SAGA_STEPS }, (_, i) => ({ ...step, name: `s${i}` }))),
    steps(...Array.from({ length: MAX_SAGA_STEPS + 1 }, (_, i) => ({ ...step, name: `s${i}` }))),
    { steps: [step] },
    { namespace: 'ns1' },
    { namespace: 'Bad NS', steps: [step] },
    { ...steps(step), extra: 1 },
    steps({ ...step, compensation: { op: 'delete', key: 'k' } }),
    steps({ ...step, extra: 1 }),
    steps({ name: 's' }),
    steps({ ...step, name: '' }),
    steps({ ...step, name: 'n'.repeat(128) }),
    steps({ ...step, name: 'n'.repeat(129) }),
    steps({ ...step, name: 'a\u0001b' }),
    steps({ ...step, name: 'a\u007fb' }),
    act({ op: 'put', key: 'k', fields: { a: 1 }, require: [{ field: 'a', op: 'exists' }] }),
    act({ op: 'put', key: 'k' }),
    act({ op: 'put', key: 'k', fields: {}, set: {} }),
    act({ op: 'patch', key: 'k', set: { a: 1 } }),
    act({ op: 'patch', key: 'k', remove: ['a'] }),
    act({ op: 'patch', key: 'k', increment: { a: -1.5 }, require: [{ field: 'a', op: '>=', value: 2 }] }),
    act({ op: 'patch', key: 'k' }),
    act({ op: 'patch', key: 'k', require: [{ field: 'a', op: 'exists' }] }),
    act({ op: 'patch', key: 'k', increment: { a: '1' } }),
    act({ op: 'patch', key: 'k', remove: ['a', 'a'] }),
    act({ op: 'patch', key: 'k', fields: {} }),
    act({ op: 'patch', key: 'k', set: {}, require: [{ field: 'a', op: 'absent', value: 1 }] }),
    act({ op: 'patch', key: 'k', set: {}, require: [{ field: 'a', op: '==' }] }),
    act({ op: 'patch', key: 'k', set: {}, require: [{ field: 'a', op: '<', value: true }] }),
    act({ op: 'delete', key: 'k' }),
    act({ op: 'delete', key: 'k', require: [{ field: 'a', op: '!=', value: { x: [1] } }] }),
    act({ op: 'delete', key: 'k', fields: {} }),
    act({ op: 'delete', key: '' }),
    act({ op: 'delete', key: 'a\u0000' }),
    act({ op: 'delete' }),
    act({ op: 'merge', key: 'k' }),
    act({ key: 'k' }),
    xfer({}),
    xfer({}, { id: 'pay-17' }),
    xfer({ amount: 0.01 }),
    xfer({ amount: 0 }),
    xfer({ amount: -1 }),
    xfer({ amount: '1' }),
    xfer({ field: '' }),
    xfer({ from: '' }),
    xfer({ namespace: 'Bad' }),
    xfer({ extra: 1 }),
    xfer({}, { steps: [step] }),
    xfer({}, { id: 'a b' }),
    { type: 'transfer' },
    { type: 'swap', input: {} },
    { type: 'transfer', namespace: 'ns1', steps: [step] },
    [],
    null,
    'saga',
  ];
  const disagreements = bodies.flatMap((body) => {
    const doc = requestBodyValidator('POST', SAGAS)(body);
    const impl = accepts(body);
    return impl === doc.valid ? [] : [`${JSON.stringify(body)}: handler ${impl}, document ${doc.valid} ${doc.errors}`];
  });
  expect(disagreements).toEqual([]);
  // What the document states only in words: unique step names, `to` differing from `from`.
  expect(accepts(steps(step, step))).toBe(false);
  expect(accepts(xfer({ to: 'a' }))).toBe(false);
});

// ---- POST /v1/sagas -----------------------------------------------------------------------

describe('POST /v1/sagas', () => {
  test('202 with Location; the same id again is 200 with the saga as it stands, 409 SagaIdReused with another body', async () => {
    const ns = uniqueNs('osaga');
    await put(ns, 'k0', { n: 0 });
    const id = `order-${ns}`;
    const body = { id, namespace: ns, steps: counterSteps(1) };
    const first = await start(202, body);
    expect(first.body).toEqual({
      id,
      status: 'RUNNING',
      executionArn: expect.stringMatching(new RegExp(`:execution:[^:]+:${id}$`)),
    });
    expect(first.headers.location).toBe(`/v1/sagas/${id}`);
    const again = await start(200, body);
    expect(again.headers.location).toBe(`/v1/sagas/${id}`);
    expect(again.body).toMatchObject({
      id,
      type: 'steps',
      namespace: ns,
      executionArn: first.body.executionArn,
      steps: [{ name: 'step-0' }],
    });
    await api.workflows.settled();
    const other = await start(409, {
      id,
      type: 'transfer',
      input: { namespace: ns, from: 'x', to: 'y', field: 'f', amount: 1 },
    });
    expect(other.body).toMatchObject({ status: 409, code: 'Conflict', reason: 'SagaIdReused' });
    const same = await start(200, body);
    expect(same.body).toMatchObject({
      id,
      type: 'steps',
      status: 'SUCCEEDED',
      steps: [{ name: 'step-0', status: 'DONE', error: null, attempts: 1 }],
    });
    expect(same.body.finishedAt).toEqual(expect.any(String));
    expect(await fields(ns, 'k0')).toEqual({ n: 1 });
  });

  test('202 without an id: a UUID is made', async () => {
    const ns = uniqueNs('osaga');
    const { started, saga } = await run({
      namespace: ns,
      steps: [{ name: 'make', action: { op: 'put', key: 'doc', fields: { v: 1 } } }],
    });
    expect(started.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(started.headers.location).toBe(`/v1/sagas/${started.body.id}`);
    expect(saga.body.status).toBe('SUCCEEDED');
  });

  test('400 naming the field; nothing is started', async () => {
    const ns = uniqueNs('osaga');
    const before = (await api.workflows.settled()).length;
    const bad = async (opts: CallOptions, field: string) =>
      expect((await want(400, 'POST', SAGAS, SAGAS, opts)).body.field).toBe(field);
    await bad({ body: { namespace: ns, steps: [] } }, 'body.steps');
    await bad({ body: { namespace: ns, steps: counterSteps(MAX_SAGA_STEPS + 1) } }, 'body.steps');
    await bad({ body: { namespace: 'Bad NS', steps: counterSteps(1) } }, 'body.namespace');
    await bad({ body: { namespace: ns, steps: counterSteps(1), extra: 1 } }, 'body.extra');
    await bad({ body: { id: 'has space', namespace: ns, steps: counterSteps(1) } }, 'body.id');
    await bad({ body: { namespace: ns, steps: [...counterSteps(1), ...counterSteps(1)] } }, 'body.steps[1].name');
    await bad(
      { body: { namespace: ns, steps: [{ name: 'x', action: { op: 'patch', key: 'k' } }] } },
      'body.steps[0].action',
    );
    await bad(
      { body: { namespace: ns, steps: [{ name: 'x', action: { op: 'delete', key: '' } }] } },
      'body.steps[0].action.key',
    );
    await bad({ body: { type: 'swap', input: {} } }, 'body.type');
    await bad(
      { body: { type: 'transfer', input: { namespace: ns, from: 'a', to: 'a', field: 'f', amount: 1 } } },
      'body.input.to',
    );
    await bad(
      { body: { type: 'transfer', input: { namespace: ns, from: 'a', to: 'b', field: 'f', amount: 0 } } },
      'body.input.amount',
    );
    await bad(json('{"namespace":'), 'body');
    await bad({}, 'body');
    expect((await api.workflows.settled()).length).toBe(before);
  });

  test('413, 415', async () => {
    const ns = uniqueNs('osaga');
    await want(413, 'POST', SAGAS, SAGAS, json(`{"namespace":"${ns}","steps":[],"pad":"${'x'.repeat(270 * 1024)}"}`));
    await want(415, 'POST', SAGAS, SAGAS, {
      body: JSON.stringify({ namespace: ns, steps: counterSteps(1) }),
      headers: { 'content-type': 'text/plain' },
    });
  });

  test('409 RequestInProgress, the kept 202 replayed, 422 IdempotencyKeyReused', async () => {
    const ns = uniqueNs('osaga');
    const key = { 'idempotency-key': `saga-${ns}` };
    const body = { id: `idem-${ns}`, namespace: ns, steps: counterSteps(1) };
    const first = await retryInProgress({ headers: key, body });
    const replay = await start(202, body, key);
    expect(replay.body).toEqual(first.body);
    await want(422, 'POST', SAGAS, SAGAS, { headers: key, body: { ...body, id: `other-${ns}` } });
    await api.workflows.settled();
  });

  test('429, 503, 500 from the saga log; nothing is recorded', async () => {
    const ns = uniqueNs('osaga');
    const id = `faults-${ns}`;
    await storeFailures(SAGAS_TABLE, 'POST', SAGAS, SAGAS, { body: { id, namespace: ns, steps: counterSteps(1) } });
    await want(404, 'GET', SAGA, `/v1/sagas/${id}`);
  });

  test('429 and 503 from Step Functions: the saga is recorded, and the same POST starts it (200)', async () => {
    const ns = uniqueNs('osaga');
    await put(ns, 'k0', { n: 0 });
    for (const [status, error] of [
      [429, new ThrottledError('Step Functions throttled the start; retry later', 1)],
      [503, new UnavailableError('Step Functions is unavailable; the saga is recorded and starts when retried', 2)],
    ] as const) {
      const body = { id: `sfn-${status}-${ns}`, namespace: ns, steps: counterSteps(1) };
      const spy = jest.spyOn(api.workflows, 'start').mockRejectedValueOnce(error);
      try {
        const refused = await start(status, body);
        expect(refused.headers['retry-after']).toBe(String(error.retryAfterSeconds));
      } finally {
        spy.mockRestore();
      }
      // Recorded, not started: every step PENDING.
      const recorded = await get(body.id);
      expect(recorded.body).toMatchObject({
        status: 'RUNNING',
        finishedAt: null,
        steps: [{ status: 'PENDING', attempts: 0 }],
      });
      const retried = await start(200, body);
      expect(retried.headers.location).toBe(`/v1/sagas/${body.id}`);
      await api.workflows.settled();
      expect((await get(body.id)).body.status).toBe('SUCCEEDED');
    }
    expect(await fields(ns, 'k0')).toEqual({ n: 2 });
  });

  test('405 with Allow: GET, POST', async () => {
    for (const m of ['PUT', 'PATCH', 'DELETE'])
      expect((await want(405, m, SAGAS, SAGAS)).headers.allow).toBe('GET, POST');
  });
});

// ---- GET /v1/sagas ------------------------------------------------------------------------

describe('GET /v1/sagas', () => {
  test('200 pages of summaries, of every status and of one', async () => {
    await run({ namespace: uniqueNs(), steps: counterSteps(1) });
    const page = await want(200, 'GET', SAGAS, `${SAGAS}?limit=1`);
    expect(page.body.items).toHaveLength(1);
    await want(200, 'GET', SAGAS, `${SAGAS}?limit=1&cursor=${page.body.cursor}`);
    await want(200, 'GET', SAGAS, `${SAGAS}?status=SUCCEEDED&limit=2`);
    await want(200, 'GET', SAGAS, `${SAGAS}?status=COMPENSATION_FAILED`);
  });

  test('400 naming the parameter; 429/503/500 from the saga log', async () => {
    for (const [q, field] of [
      ['status=DONE', 'status'],
      ['limit=0', 'limit'],
      ['cursor=x', 'cursor'],
    ])
      expect((await want(400, 'GET', SAGAS, `${SAGAS}?${q}`)).body.field).toBe(field);
    await storeFailures(SAGAS_TABLE, 'GET', SAGAS, SAGAS);
  });
});

// ---- GET /v1/sagas/{id} -------------------------------------------------------------------

describe('GET /v1/sagas/{id}', () => {
  test('200 SUCCEEDED: every step DONE, no error, one attempt each', async () => {
    const ns = uniqueNs('osaga');
    const { started, saga } = await run({ namespace: ns, steps: counterSteps(3) });
    expect(saga.body).toEqual({
      id: started.body.id,
      type: 'steps',
      namespace: ns,
      status: 'SUCCEEDED',
      executionArn: started.body.executionArn,
      steps: [0, 1, 2].map((i) => ({ name: `step-${i}`, status: 'DONE', error: null, attempts: 1 })),
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
    });
  });

  test('200 COMPENSATED: the failed step carries its error, done steps are undone, later ones skipped', async () => {
    const ns = uniqueNs('osaga');
    for (let i = 0; i < 3; i++) await put(ns, `k${i}`, { n: 10 });
    // A step without compensation is marked COMPENSATED without a write.
    const steps = [
      { name: 'mark', action: { op: 'put', key: 'mark', fields: { seen: true } } },
      ...counterSteps(3, 1).slice(1),
    ];
    const { saga } = await run({ namespace: ns, steps });
    expect(saga.body.status).toBe('COMPENSATED');
    expect(saga.body.steps).toEqual([
      { name: 'mark', status: 'COMPENSATED', error: null, attempts: 1 },
      {
        name: 'step-1',
        status: 'FAILED',
        error: {
          error: 'Vesta.StepFailed',
          cause: 'PreconditionFailed: require[0] did not hold: field "n" of key "k1" must be > 1000 but is 10',
        },
        attempts: 1,
      },
      { name: 'step-2', status: 'SKIPPED', error: null, attempts: 0 },
    ]);
    expect(await fields(ns, 'mark')).toEqual({ seen: true });
  });

  test('200 for a transfer: COMPENSATED after a failed credit, SUCCEEDED otherwise', async () => {
    const ns = uniqueNs('oxfer');
    await put(ns, 'acct/a', { balance: 100 });
    await put(ns, 'acct/b', { balance: 'not a number' });
    const input = { namespace: ns, from: 'acct/a', to: 'acct/b', field: 'balance', amount: 30 };
    const failed = (await run({ type: 'transfer', input })).saga.body;
    expect(failed).toMatchObject({ type: 'transfer', namespace: ns, status: 'COMPENSATED' });
    expect(failed.steps).toEqual([
      { name: 'debit', status: 'COMPENSATED', error: null, attempts: 1 },
      {
        name: 'credit',
        status: 'FAILED',
        error: { error: 'Vesta.StepFailed', cause: expect.stringContaining('TypeMismatch') },
        attempts: 1,
      },
    ]);
    await put(ns, 'acct/b', { balance: 0 });
    const ok = (await run({ type: 'transfer', input })).saga.body;
    expect(ok).toMatchObject({
      type: 'transfer',
      status: 'SUCCEEDED',
      steps: [
        { name: 'debit', status: 'DONE' },
        { name: 'credit', status: 'DONE' },
      ],
    });
    expect(await fields(ns, 'acct/a')).toEqual({ balance: 70 });
    expect(await fields(ns, 'acct/b')).toEqual({ balance: 30 });
  });

  test('200 COMPENSATION_FAILED: the undo that failed carries its error', async () => {
    const ns = uniqueNs('osaga');
    await put(ns, 'k0', { n: 1 });
    await put(ns, 'k1', { n: 1 });
    const { saga } = await run({
      namespace: ns,
      steps: [
        {
          name: 'a',
          action: { op: 'patch', key: 'k0', increment: { n: 1 } },
          compensation: { op: 'patch', key: 'k0', increment: { n: -1 }, require: [{ field: 'n', op: '>', value: 99 }] },
        },
        {
          name: 'b',
          action: { op: 'patch', key: 'k1', increment: { n: 1 }, require: [{ field: 'n', op: '>', value: 99 }] },
        },
      ],
    });
    expect(saga.body.status).toBe('COMPENSATION_FAILED');
    expect(saga.body.steps).toMatchObject([
      { name: 'a', status: 'COMPENSATION_FAILED', error: { error: 'Vesta.StepFailed' } },
      { name: 'b', status: 'FAILED' },
    ]);
  });

  test('404 unknown; 400 malformed id; 429/503/500; 405 with Allow: GET', async () => {
    await want(404, 'GET', SAGA, `/v1/sagas/nope-${uniqueNs()}`);
    for (const id of ['bad%20id', '-x', `a${'b'.repeat(80)}`, 'a%2Fb']) {
      expect((await want(400, 'GET', SAGA, `/v1/sagas/${id}`)).body.field).toBe('id');
    }
    await storeFailures(SAGAS_TABLE, 'GET', SAGA, `/v1/sagas/any-${uniqueNs()}`);
    for (const m of ['POST', 'PUT', 'PATCH', 'DELETE'])
      expect((await want(405, m, SAGA, '/v1/sagas/x')).headers.allow).toBe('GET');
  });
});

// ---- POST /v1/sagas/{id}/retry ------------------------------------------------------------

describe('POST /v1/sagas/{id}/retry', () => {
  /** A saga whose undo of step `a` requires `k0.ok`: COMPENSATION_FAILED until that is set. */
  async function compensationFailed(ns: string): Promise<string> {
    await put(ns, 'k0', { n: 1 });
    await put(ns, 'k1', { n: 1 });
    const { saga } = await run({
      namespace: ns,
      steps: [
        {
          name: 'a',
          action: { op: 'patch', key: 'k0', increment: { n: 1 } },
          compensation: { op: 'patch', key: 'k0', increment: { n: -1 }, require: [{ field: 'ok', op: 'exists' }] },
        },
        {
          name: 'b',
          action: { op: 'patch', key: 'k1', increment: { n: 1 }, require: [{ field: 'n', op: '>', value: 99 }] },
        },
      ],
    });
    expect(saga.body.status).toBe('COMPENSATION_FAILED');
    return saga.body.id;
  }

  test('202 with the saga RUNNING and Location; it ends COMPENSATED; then 409 SagaNotRetryable', async () => {
    const ns = uniqueNs('osaga');
    const id = await compensationFailed(ns);
    await want(200, 'PATCH', RECORD, rec(ns, 'k0'), { body: { set: { ok: true } } });
    const retried = await want(202, 'POST', RETRY, `/v1/sagas/${id}/retry`);
    expect(retried.headers.location).toBe(`/v1/sagas/${id}`);
    expect(retried.body).toMatchObject({ id, status: 'RUNNING', finishedAt: null });
    await api.workflows.settled();
    expect((await get(id)).body).toMatchObject({
      status: 'COMPENSATED',
      steps: [{ status: 'COMPENSATED' }, { status: 'FAILED' }],
    });
    expect(await fields(ns, 'k0')).toEqual({ n: 1, ok: true });
    const refused = await want(409, 'POST', RETRY, `/v1/sagas/${id}/retry`);
    expect(refused.body).toMatchObject({ code: 'Conflict', reason: 'SagaNotRetryable' });
  });

  test('404 unknown; 400 malformed id; 422 IdempotencyKeyReused; 405 with Allow: POST', async () => {
    await want(404, 'POST', RETRY, `/v1/sagas/nope-${uniqueNs()}/retry`);
    for (const id of ['bad%20id', '-x', `a${'b'.repeat(80)}`]) {
      expect((await want(400, 'POST', RETRY, `/v1/sagas/${id}/retry`)).body.field).toBe('id');
    }
    const key = { 'idempotency-key': `retry-${uniqueNs()}` };
    await want(404, 'POST', RETRY, `/v1/sagas/one-${uniqueNs()}/retry`, { headers: key });
    const reused = await want(422, 'POST', RETRY, `/v1/sagas/other-${uniqueNs()}/retry`, { headers: key });
    expect(reused.body.code).toBe('IdempotencyKeyReused');
    for (const m of ['GET', 'PUT', 'PATCH', 'DELETE'])
      expect((await want(405, m, RETRY, '/v1/sagas/x/retry')).headers.allow).toBe('POST');
  });

  test('429/503/500 from the saga log; 429 and 503 from Step Functions leave the saga COMPENSATION_FAILED', async () => {
    await storeFailures(SAGAS_TABLE, 'POST', RETRY, `/v1/sagas/any-${uniqueNs()}/retry`);
    const ns = uniqueNs('osaga');
    const id = await compensationFailed(ns);
    for (const [status, error] of [
      [429, new ThrottledError('Step Functions throttled the redrive; retry later', 1)],
      [503, new UnavailableError('Step Functions is unavailable; nothing was redriven', 2)],
    ] as const) {
      const spy = jest.spyOn(api.workflows, 'redrive').mockRejectedValueOnce(error);
      try {
        const refused = await want(status, 'POST', RETRY, `/v1/sagas/${id}/retry`);
        expect(refused.headers['retry-after']).toBe(String(error.retryAfterSeconds));
      } finally {
        spy.mockRestore();
      }
      expect((await get(id)).body.status).toBe('COMPENSATION_FAILED');
    }
  });
});

test('every documented status of the saga operations was produced', () => {
  expect(unseenStatuses((r) => SAGA_RESOURCES.includes(r))).toEqual([]);
});
