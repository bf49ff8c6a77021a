/**
 * Sagas end to end: the API handler starts executions of the real ASL files on the local runner,
 * whose every Task calls the real saga-step handler on DynamoDB Local.
 */
import { wireSagaStep } from '../../src/api/wiring';
import { parseSagaBody } from '../../src/core/sagas';
import { type TestApi, testApi, testTables, uniqueNs } from './harness';

let api: TestApi;
beforeAll(() => {
  api = testApi();
});
afterAll(() => api.close());

const put = (ns: string, key: string, fields: Record<string, unknown>) =>
  api.call('PUT', `/v1/ns/${ns}/keys/${key}`, { body: { fields } });
const fields = async (ns: string, key: string) => (await api.call('GET', `/v1/ns/${ns}/keys/${key}`)).body?.fields;

async function runSaga(body: Record<string, unknown>) {
  const started = await api.call('POST', '/v1/sagas', { body });
  expect(started.status).toBe(202);
  await api.workflows.settled();
  const got = await api.call('GET', `/v1/sagas/${started.body.id}`);
  expect(got.status).toBe(200);
  return { started, saga: got.body, outcome: await api.workflows.outcome(started.body.executionArn)! };
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

test('all steps succeed: 202, then SUCCEEDED with every step DONE', async () => {
  const ns = uniqueNs('saga');
  for (let i = 0; i < 3; i++) await put(ns, `k${i}`, { n: 10 });
  const { started, saga, outcome } = await runSaga({ namespace: ns, steps: counterSteps(3) });
  expect(started.body).toEqual({
    id: expect.any(String),
    status: 'RUNNING',
    executionArn: expect.stringContaining(':execution:'),
  });
  expect(started.headers.location).toBe(`/v1/sagas/${started.body.id}`);
  expect(saga).toMatchObject({
    id: started.body.id,
    status: 'SUCCEEDED',
    startedAt: expect.any(String),
    finishedAt: expect.any(String),
  });
  expect(saga.steps).toEqual([0, 1, 2].map((i) => ({ name: `step-${i}`, status: 'DONE', error: null, attempts: 1 })));
  for (let i = 0; i < 3; i++) expect(await fields(ns, `k${i}`)).toEqual({ n: 11 });
  expect(outcome.states.at(-1)).toBe('Succeeded');
});

test.each([0, 1, 2, 3])('a failure at step %i undoes exactly the steps done before it', async (failAt) => {
  const ns = uniqueNs('saga');
  for (let i = 0; i < 4; i++) await put(ns, `k${i}`, { n: 10 });
  const { saga, outcome } = await runSaga({ namespace: ns, steps: counterSteps(4, failAt) });
  expect(saga.status).toBe('COMPENSATED');
  expect(saga.steps.map((s: { status: string }) => s.status)).toEqual(
    [0, 1, 2, 3].map((i) => (i < failAt ? 'COMPENSATED' : i === failAt ? 'FAILED' : 'SKIPPED')),
  );
  expect(saga.steps[failAt].error).toEqual({ error: 'Vesta.StepFailed', cause: expect.stringContaining('require[0]') });
  for (let i = 0; i < 4; i++) expect(await fields(ns, `k${i}`)).toEqual({ n: 10 });
  // Each done step was written twice (action, compensation); the failed and skipped ones never.
  for (let i = 0; i < 4; i++)
    expect((await api.call('GET', `/v1/ns/${ns}/keys/k${i}`)).body.rev).toBe(i < failAt ? 3 : 1);
  expect(outcome.states.at(-1)).toBe('Compensated');
  expect(outcome.states.filter((s) => s === 'CompensateStep')).toHaveLength(failAt);
});

test('posting the same id again starts nothing: 200 with the same definition, 409 SagaIdReused with another', async () => {
  const ns = uniqueNs('saga');
  await put(ns, 'k0', { n: 0 });
  const id = `order-${ns}`;
  const body = { id, namespace: ns, steps: counterSteps(1) };
  const first = await api.call('POST', '/v1/sagas', { body });
  expect(first.status).toBe(202);
  const again = await api.call('POST', '/v1/sagas', { body });
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ id, steps: [{ name: 'step-0' }] });
  await api.workflows.settled();
  const third = await api.call('POST', '/v1/sagas', { body: { ...body, steps: counterSteps(2) } });
  expect(third.status).toBe(409);
  expect(third.body).toMatchObject({ code: 'Conflict', reason: 'SagaIdReused' });
  const fourth = await api.call('POST', '/v1/sagas', { body });
  expect(fourth.status).toBe(200);
  expect(fourth.body).toMatchObject({ id, status: 'SUCCEEDED', steps: [{ name: 'step-0', status: 'DONE' }] });
  expect(await fields(ns, 'k0')).toEqual({ n: 1 });
});

test('put and delete steps, with require, and their compensations', async () => {
  const ns = uniqueNs('saga');
  await put(ns, 'doc', { v: 1 });
  const { saga } = await runSaga({
    namespace: ns,
    steps: [
      {
        name: 'replace',
        action: { op: 'put', key: 'doc', fields: { v: 2 }, require: [{ field: 'v', op: '==', value: 1 }] },
        compensation: { op: 'put', key: 'doc', fields: { v: 1 } },
      },
      {
        name: 'drop',
        action: { op: 'delete', key: 'tmp' },
        compensation: { op: 'put', key: 'tmp', fields: { restored: true } },
      },
      {
        name: 'guard',
        action: { op: 'patch', key: 'doc', set: { x: 1 }, require: [{ field: 'v', op: '==', value: 7 }] },
      },
    ],
  });
  expect(saga.status).toBe('COMPENSATED');
  expect(saga.steps.map((s: { status: string }) => s.status)).toEqual(['COMPENSATED', 'COMPENSATED', 'FAILED']);
  expect(await fields(ns, 'doc')).toEqual({ v: 1 });
  expect(await fields(ns, 'tmp')).toEqual({ restored: true });
});

describe('transfer', () => {
  const transfer = (ns: string, amount: number, to = 'acct/b') => ({
    type: 'transfer',
    input: { namespace: ns, from: 'acct/a', to, field: 'balance', amount },
  });

  test('moves the amount: Debit, Credit, Transferred', async () => {
    const ns = uniqueNs('xfer');
    await put(ns, 'acct/a', { balance: 100 });
    await put(ns, 'acct/b', { balance: 5 });
    const { saga, outcome } = await runSaga(transfer(ns, 30));
    expect(saga).toMatchObject({
      type: 'transfer',
      status: 'SUCCEEDED',
      steps: [
        { name: 'debit', status: 'DONE' },
        { name: 'credit', status: 'DONE' },
      ],
    });
    expect(outcome.states).toEqual(['Debit', 'Credit', 'RecordTransferred', 'Transferred']);
    expect(await fields(ns, 'acct/a')).toEqual({ balance: 70 });
    expect(await fields(ns, 'acct/b')).toEqual({ balance: 35 });
  });

  test('not enough in the source: the debit fails, nothing moves', async () => {
    const ns = uniqueNs('xfer');
    await put(ns, 'acct/a', { balance: 10 });
    await put(ns, 'acct/b', { balance: 0 });
    const { saga, outcome } = await runSaga(transfer(ns, 30));
    expect(saga.status).toBe('COMPENSATED');
    expect(saga.steps).toMatchObject([
      { status: 'FAILED', error: { error: 'Vesta.StepFailed' } },
      { status: 'SKIPPED' },
    ]);
    expect(outcome.states).toEqual([
      'Debit',
      'RecordDebitFailed',
      'DebitApplied',
      'RecordCompensated',
      'TransferCompensated',
    ]);
    expect(await fields(ns, 'acct/a')).toEqual({ balance: 10 });
  });

  test('the credit fails: RefundDebit gives the amount back', async () => {
    const ns = uniqueNs('xfer');
    await put(ns, 'acct/a', { balance: 100 });
    await put(ns, 'acct/b', { balance: 'not a number' });
    const { saga, outcome } = await runSaga(transfer(ns, 30));
    expect(saga.status).toBe('COMPENSATED');
    expect(saga.steps).toMatchObject([
      { status: 'COMPENSATED' },
      { status: 'FAILED', error: { error: 'Vesta.StepFailed', cause: expect.stringContaining('TypeMismatch') } },
    ]);
    expect(outcome.states).toEqual(['Debit', 'Credit', 'RefundDebit', 'RecordCompensated', 'TransferCompensated']);
    expect(await fields(ns, 'acct/a')).toEqual({ balance: 100 });
    expect(await fields(ns, 'acct/b')).toEqual({ balance: 'not a number' });
  });

  test('the same account on both sides is a 400', async () => {
    const ns = uniqueNs('xfer');
    const r = await api.call('POST', '/v1/sagas', { body: transfer(ns, 1, 'acct/a') });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'ValidationError', detail: expect.stringContaining('body.input.to') });
  });
});

describe('exactly once', () => {
  test('an action called again after it committed answers the same and writes nothing', async () => {
    const ns = uniqueNs('saga');
    await put(ns, 'k0', { n: 0 });
    await put(ns, 'k1', { n: 0 });
    const id = `direct-${ns}`;
    const started = await api.call('POST', '/v1/sagas', { body: { id, namespace: ns, steps: counterSteps(2) } });
    await api.workflows.settled();
    expect(started.status).toBe(202);
    // The execution already applied both steps once; a redrive calls every action again.
    for (let i = 0; i < 3; i++) {
      await expect(api.step({ sagaId: id, action: 'apply', index: 0 })).resolves.toEqual({ next: 1, done: false });
      await expect(api.step({ sagaId: id, action: 'apply', index: 1 })).resolves.toEqual({ next: 2, done: true });
    }
    expect(await fields(ns, 'k0')).toEqual({ n: 1 });
    expect(await fields(ns, 'k1')).toEqual({ n: 1 });
    const saga = (await api.call('GET', `/v1/sagas/${id}`)).body;
    expect(saga.steps.map((s: { attempts: number }) => s.attempts)).toEqual([4, 4]);
  });

  test('concurrent duplicate calls of one action commit it once', async () => {
    const ns = uniqueNs('saga');
    await put(ns, 'k0', { n: 0 });
    const { sagas } = wireSagaStep({ client: api.client, env: testTables() });
    const id = `dup-${ns}`;
    await sagas.create(
      { id, namespace: ns, type: 'steps', steps: parseSagaBody({ namespace: ns, steps: counterSteps(1) }).steps },
      'arn:aws:states:us-east-1:000000000000:execution:x:y',
    );
    const calls = await Promise.allSettled(
      Array.from({ length: 8 }, () => api.step({ sagaId: id, action: 'apply', index: 0 })),
    );
    // Every call either answers the committed result or fails transiently (lost the race, retried).
    expect(calls.filter((c) => c.status === 'fulfilled').length).toBeGreaterThan(0);
    for (const c of calls) if (c.status === 'rejected') expect(c.reason).toMatchObject({ name: 'Vesta.Transient' });
    await expect(api.step({ sagaId: id, action: 'apply', index: 0 })).resolves.toEqual({ next: 1, done: true });
    const rec = await api.call('GET', `/v1/ns/${ns}/keys/k0`);
    expect(rec.body).toMatchObject({ fields: { n: 1 }, rev: 2 });
  });

  test('DynamoDB requests per step: a read that counts the attempt, BatchGetItem, TransactWriteItems', async () => {
    const ns = uniqueNs('saga');
    await put(ns, 'acct/a', { balance: 100 });
    await put(ns, 'acct/b', { balance: 0 });
    const { sagas } = wireSagaStep({ client: api.client, env: testTables() });
    const id = `count-${ns}`;
    const def = parseSagaBody({
      id,
      type: 'transfer',
      input: { namespace: ns, from: 'acct/a', to: 'acct/b', field: 'balance', amount: 5 },
    });
    await sagas.create(def, 'arn:aws:states:us-east-1:000000000000:execution:x:y');
    // The first call in a namespace also reads its settings (then cached).
    expect(await api.requests.count(() => api.step({ sagaId: id, action: 'debit' }))).toBe(4);
    expect(await api.requests.count(() => api.step({ sagaId: id, action: 'credit' }))).toBe(3);
    // Called again after it committed: the read finds it DONE; nothing else.
    expect(await api.requests.count(() => api.step({ sagaId: id, action: 'credit' }))).toBe(1);
    // Ending it for good reads its items' keys and, in one transaction, ends it and sets their `ttl`.
    expect(await api.requests.count(() => api.step({ sagaId: id, action: 'finish', status: 'SUCCEEDED' }))).toBe(2);
  });

  test('an action of a step that was skipped never commits', async () => {
    const ns = uniqueNs('saga');
    await put(ns, 'k0', { n: 0 });
    const id = `skip-${ns}`;
    // The first step fails, so the second is SKIPPED.
    await api.call('POST', '/v1/sagas', {
      body: {
        id,
        namespace: ns,
        steps: [
          {
            name: 'gate',
            action: { op: 'patch', key: 'gate', set: { x: 1 }, require: [{ field: 'x', op: 'exists' }] },
          },
          ...counterSteps(1).map((s) => ({ ...s, name: 'count' })),
        ],
      },
    });
    await api.workflows.settled();
    // A late call of the skipped step's action (a timed-out invocation, say) must fail, not write.
    await expect(api.step({ sagaId: id, action: 'apply', index: 1 })).rejects.toMatchObject({
      name: 'Vesta.StepFailed',
    });
    expect(await fields(ns, 'k0')).toEqual({ n: 0 });
  });

  test('an action that commits but whose every acknowledgement is lost is still undone', async () => {
    const lossy = testApi({
      wrapStep: (step) => async (input) => {
        const out = await step(input);
        const i = input as { action: string; index?: number };
        if (i.action === 'apply' && i.index === 1)
          throw Object.assign(new Error('acknowledgement lost'), { name: 'Vesta.Transient' });
        return out;
      },
    });
    try {
      const ns = uniqueNs('saga');
      for (let i = 0; i < 3; i++) await put(ns, `k${i}`, { n: 10 });
      const r = await lossy.call('POST', '/v1/sagas', { body: { namespace: ns, steps: counterSteps(3) } });
      await lossy.workflows.settled();
      const saga = (await lossy.call('GET', `/v1/sagas/${r.body.id}`)).body;
      expect(saga.status).toBe('COMPENSATED');
      expect(saga.steps.map((s: { status: string }) => s.status)).toEqual(['COMPENSATED', 'COMPENSATED', 'SKIPPED']);
      // The first call and MaxAttempts (6) retries, every one of them answered from the log.
      expect(saga.steps[1].attempts).toBe(7);
      for (let i = 0; i < 3; i++) expect(await fields(ns, `k${i}`)).toEqual({ n: 10 });
    } finally {
      lossy.close();
    }
  });
});

test('a compensation that always fails ends COMPENSATION_FAILED and emits the metric', async () => {
  const { Metrics } = await import('@aws-lambda-powertools/metrics');
  const disabled = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  const metrics = new Metrics({ namespace: 'Vesta', serviceName: 'vesta' });
  process.env.POWERTOOLS_METRICS_DISABLED = disabled;
  const emitted: string[] = [];
  const failing = testApi({
    stepDeps: { metrics },
    wrapStep: (step) => async (input) => {
      try {
        return await step(input);
      } finally {
        if (metrics.hasStoredMetrics()) {
          const write = process.stdout.write.bind(process.stdout);
          const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
            emitted.push(String(chunk));
            return true;
          });
          try {
            metrics.publishStoredMetrics();
          } finally {
            spy.mockRestore();
            void write;
          }
        }
      }
    },
  });
  try {
    const ns = uniqueNs('saga');
    await put(ns, 'k0', { n: 1 });
    await put(ns, 'k1', { n: 1 });
    const r = await failing.call('POST', '/v1/sagas', {
      body: {
        namespace: ns,
        steps: [
          // The undo requires what never holds: it fails every time.
          {
            name: 'a',
            action: { op: 'patch', key: 'k0', increment: { n: 1 } },
            compensation: {
              op: 'patch',
              key: 'k0',
              increment: { n: -1 },
              require: [{ field: 'n', op: '>', value: 99 }],
            },
          },
          {
            name: 'b',
            action: { op: 'patch', key: 'k1', increment: { n: 1 }, require: [{ field: 'n', op: '>', value: 99 }] },
          },
        ],
      },
    });
    const outcome = (await failing.workflows.settled())[0];
    const saga = (await failing.call('GET', `/v1/sagas/${r.body.id}`)).body;
    expect(saga.status).toBe('COMPENSATION_FAILED');
    expect(saga.finishedAt).toEqual(expect.any(String));
    expect(saga.steps).toMatchObject([
      { status: 'COMPENSATION_FAILED', error: { error: 'Vesta.StepFailed' } },
      { status: 'FAILED' },
    ]);
    expect(outcome.status).toBe('FAILED');
    // It stops where a retry redrives it: the uncaught AwaitRetry Task.
    expect(outcome.states.slice(-2)).toEqual(['RecordCompensationFailed', 'AwaitRetry']);
    const emf = emitted.map((l) => JSON.parse(l)).find((m) => 'CompensationFailed' in m);
    expect(emf).toMatchObject({
      CompensationFailed: 1,
      service: 'vesta',
      _aws: { CloudWatchMetrics: [{ Namespace: 'Vesta' }] },
    });
  } finally {
    failing.close();
  }
});

describe('bad input', () => {
  test.each([
    ['no steps', { namespace: 'ns1', steps: [] }, 'body.steps'],
    ['26 steps', { namespace: 'ns1', steps: counterSteps(26) }, 'body.steps'],
    ['bad namespace', { namespace: 'Bad NS', steps: counterSteps(1) }, 'body.namespace'],
    [
      'bad op',
      { namespace: 'ns1', steps: [{ name: 'x', action: { op: 'increment', key: 'k' } }] },
      'body.steps[0].action.op',
    ],
    [
      'empty patch',
      { namespace: 'ns1', steps: [{ name: 'x', action: { op: 'patch', key: 'k' } }] },
      'body.steps[0].action',
    ],
    ['duplicate names', { namespace: 'ns1', steps: [...counterSteps(1), ...counterSteps(1)] }, 'body.steps[1].name'],
    ['unknown member', { namespace: 'ns1', steps: counterSteps(1), extra: 1 }, 'body.extra'],
    ['bad id', { id: 'has space', namespace: 'ns1', steps: counterSteps(1) }, 'body.id'],
    [
      'empty key',
      { namespace: 'ns1', steps: [{ name: 'x', action: { op: 'delete', key: '' } }] },
      'body.steps[0].action.key',
    ],
    ['unknown type', { type: 'swap', input: {} }, 'body.type'],
    [
      'transfer without amount',
      { type: 'transfer', input: { namespace: 'ns1', from: 'a', to: 'b', field: 'f' } },
      'body.input.amount',
    ],
    [
      'negative amount',
      { type: 'transfer', input: { namespace: 'ns1', from: 'a', to: 'b', field: 'f', amount: -1 } },
      'body.input.amount',
    ],
  ])('%s: 400 naming the field, nothing started', async (_name, body, field) => {
    const before = (await api.workflows.settled()).length;
    const r = await api.call('POST', '/v1/sagas', { body });
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toBe('application/problem+json');
    expect(r.body).toMatchObject({ code: 'ValidationError', detail: expect.stringContaining(field) });
    expect((await api.workflows.settled()).length).toBe(before);
  });

  test('GET of an unknown saga is 404, of a malformed id 400', async () => {
    expect((await api.call('GET', '/v1/sagas/nope-123')).body).toMatchObject({ status: 404, code: 'NotFound' });
    expect((await api.call('GET', '/v1/sagas/bad%20id')).body).toMatchObject({ status: 400, code: 'ValidationError' });
  });

  test('other methods are 405', async () => {
    expect((await api.call('DELETE', '/v1/sagas/x')).status).toBe(405);
    expect((await api.call('PUT', '/v1/sagas')).status).toBe(405);
  });
});
