/**
 * `POST /v1/sagas/{id}/retry` on the local stack (DynamoDB Local, the local ASL runner): a saga
 * whose compensation failed stops COMPENSATION_FAILED; once the cause is fixed, a retry resumes its
 * compensation where it stopped and the saga ends COMPENSATED, every compensation applied exactly
 * once (the records' values and revisions show it), also when two retries race. A saga in any
 * other status answers 409 SagaNotRetryable; an unknown one 404.
 */
import { randomUUID } from 'node:crypto';
import { type LocalStack, startLocalStack } from '../../src/local/stack';
import { endpoint } from './harness';

let stack: LocalStack;
const tablePrefix = `vesta-retry-${randomUUID().slice(0, 8)}`;
const start = () =>
  startLocalStack({
    port: 0,
    dynamoEndpoint: endpoint(),
    tablePrefix,
    leaseJobsSeconds: 0,
    changeFeed: false,
    resumeSagas: false,
  });

beforeAll(async () => {
  stack = await start();
});
afterAll(() => stack?.stop());

async function call(method: string, path: string, body?: unknown) {
  const r = await fetch(`${stack.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined, type: r.headers.get('content-type') };
}

const field = async (ns: string, key: string) => (await call('GET', `/v1/ns/${ns}/keys/${key}`)).body;

/**
 * Four steps: debit a, credit b (whose undo requires b to be `unlocked`), credit c, and a step
 * that fails. The compensation undoes credit-c, then cannot undo credit-b: COMPENSATION_FAILED
 * with a still debited.
 */
async function failedCompensation(ns: string, id: string) {
  for (const [key, balance] of [
    ['a', 100],
    ['b', 0],
    ['c', 0],
  ] as const) {
    expect((await call('PUT', `/v1/ns/${ns}/keys/${key}`, { fields: { balance } })).status).toBe(201);
  }
  const started = await call('POST', '/v1/sagas', {
    id,
    namespace: ns,
    steps: [
      {
        name: 'debit-a',
        action: { op: 'patch', key: 'a', increment: { balance: -30 } },
        compensation: { op: 'patch', key: 'a', increment: { balance: 30 } },
      },
      {
        name: 'credit-b',
        action: { op: 'patch', key: 'b', increment: { balance: 30 } },
        compensation: {
          op: 'patch',
          key: 'b',
          increment: { balance: -30 },
          require: [{ field: 'unlocked', op: '==', value: true }],
        },
      },
      {
        name: 'credit-c',
        action: { op: 'patch', key: 'c', increment: { balance: 10 } },
        compensation: { op: 'patch', key: 'c', increment: { balance: -10 } },
      },
      { name: 'check', action: { op: 'patch', key: 'd', set: { x: 1 }, require: [{ field: 'x', op: 'exists' }] } },
    ],
  });
  expect(started.status).toBe(202);
  await stack.workflows.settled();
  const saga = (await call('GET', `/v1/sagas/${id}`)).body;
  expect(saga).toMatchObject({
    status: 'COMPENSATION_FAILED',
    steps: [
      { name: 'debit-a', status: 'DONE' },
      { name: 'credit-b', status: 'COMPENSATION_FAILED' },
      { name: 'credit-c', status: 'COMPENSATED' },
      { name: 'check', status: 'FAILED' },
    ],
  });
  expect(saga.steps[1].error.cause).toMatch(/require/);
  // The execution failed where it waits for a person: the uncaught AwaitRetry Task.
  const outcome = await stack.workflows.outcome(saga.executionArn);
  expect(outcome).toMatchObject({ status: 'FAILED' });
  expect(outcome!.states.at(-1)).toBe('AwaitRetry');
  expect((await field(ns, 'a')).fields.balance).toBe(70);
  expect((await field(ns, 'b')).fields.balance).toBe(30);
  expect((await field(ns, 'c')).fields.balance).toBe(0);
}

/** What every record holds once the saga is compensated, each compensation applied once. */
async function expectCompensatedOnce(ns: string, id: string) {
  const saga = (await call('GET', `/v1/sagas/${id}`)).body;
  expect(saga).toMatchObject({
    status: 'COMPENSATED',
    steps: [
      { name: 'debit-a', status: 'COMPENSATED' },
      { name: 'credit-b', status: 'COMPENSATED' },
      { name: 'credit-c', status: 'COMPENSATED' },
      { name: 'check', status: 'FAILED' },
    ],
  });
  expect(saga.finishedAt).not.toBeNull();
  // a: put, debit, undo. b: put, credit, the fix, undo. c: put, credit, undo (not undone again).
  expect(await field(ns, 'a')).toMatchObject({ fields: { balance: 100 }, rev: 3 });
  expect(await field(ns, 'b')).toMatchObject({ fields: { balance: 0, unlocked: true }, rev: 4 });
  expect(await field(ns, 'c')).toMatchObject({ fields: { balance: 0 }, rev: 3 });
}

test('a retried COMPENSATION_FAILED saga resumes its compensation and ends COMPENSATED, each undo applied once', async () => {
  const ns = `retry-${randomUUID().slice(0, 8)}`;
  const id = `order-${randomUUID().slice(0, 8)}`;
  await failedCompensation(ns, id);

  // Retried before the cause is fixed: the undo is refused again, and the saga says so again.
  const early = await call('POST', `/v1/sagas/${id}/retry`);
  expect(early.status).toBe(202);
  expect(early.body).toMatchObject({ id, status: 'RUNNING' });
  await stack.workflows.settled();
  expect((await call('GET', `/v1/sagas/${id}`)).body).toMatchObject({
    status: 'COMPENSATION_FAILED',
    steps: [{ status: 'DONE' }, { status: 'COMPENSATION_FAILED' }, { status: 'COMPENSATED' }, { status: 'FAILED' }],
  });
  expect((await field(ns, 'c')).fields.balance).toBe(0);

  // A person fixes the cause, then retries.
  expect((await call('PATCH', `/v1/ns/${ns}/keys/b`, { set: { unlocked: true } })).status).toBe(200);
  const retried = await call('POST', `/v1/sagas/${id}/retry`);
  expect(retried.status).toBe(202);
  expect(retried.body).toMatchObject({ id, status: 'RUNNING', finishedAt: null });
  await stack.workflows.settled();
  await expectCompensatedOnce(ns, id);

  // Compensated: nothing more to retry.
  const again = await call('POST', `/v1/sagas/${id}/retry`);
  expect(again).toMatchObject({ status: 409, type: 'application/problem+json' });
  expect(again.body).toMatchObject({ status: 409, code: 'Conflict', reason: 'SagaNotRetryable' });
  expect(again.body.detail).toMatch(/COMPENSATED/);
  await stack.workflows.settled();
  await expectCompensatedOnce(ns, id);
});

test('two concurrent retries: one is accepted, the other is 409, and every undo is still applied once', async () => {
  const ns = `retry-${randomUUID().slice(0, 8)}`;
  const id = `order-${randomUUID().slice(0, 8)}`;
  await failedCompensation(ns, id);
  expect((await call('PATCH', `/v1/ns/${ns}/keys/b`, { set: { unlocked: true } })).status).toBe(200);
  const answers = await Promise.all([call('POST', `/v1/sagas/${id}/retry`), call('POST', `/v1/sagas/${id}/retry`)]);
  expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
  expect(answers.find((a) => a.status === 409)!.body).toMatchObject({ reason: 'SagaNotRetryable' });
  await stack.workflows.settled();
  await expectCompensatedOnce(ns, id);
});

test('after a restart of the local stack, which forgot where the execution failed, a retry still resumes the compensation', async () => {
  const ns = `retry-${randomUUID().slice(0, 8)}`;
  const id = `order-${randomUUID().slice(0, 8)}`;
  await failedCompensation(ns, id);
  await stack.stop();
  stack = await start();
  expect((await call('PATCH', `/v1/ns/${ns}/keys/b`, { set: { unlocked: true } })).status).toBe(200);
  expect((await call('POST', `/v1/sagas/${id}/retry`)).status).toBe(202);
  await stack.workflows.settled();
  await expectCompensatedOnce(ns, id);
});

test('retry of a saga that succeeded or is unknown: 409 SagaNotRetryable, 404', async () => {
  const ns = `retry-${randomUUID().slice(0, 8)}`;
  const id = `ok-${randomUUID().slice(0, 8)}`;
  const started = await call('POST', '/v1/sagas', {
    id,
    namespace: ns,
    steps: [{ name: 'one', action: { op: 'patch', key: 'k', increment: { n: 1 } } }],
  });
  expect(started.status).toBe(202);
  await stack.workflows.settled();
  expect((await call('GET', `/v1/sagas/${id}`)).body.status).toBe('SUCCEEDED');
  const r = await call('POST', `/v1/sagas/${id}/retry`);
  expect(r.status).toBe(409);
  expect(r.body).toMatchObject({ code: 'Conflict', reason: 'SagaNotRetryable' });
  expect((await call('GET', `/v1/sagas/${id}`)).body.status).toBe('SUCCEEDED');
  expect((await field(ns, 'k')).fields.n).toBe(1);

  const unknown = await call('POST', `/v1/sagas/no-such-${randomUUID().slice(0, 8)}/retry`);
  expect(unknown).toMatchObject({ status: 404, body: { code: 'NotFound' } });
  expect((await call('GET', `/v1/sagas/${id}/retry`)).status).toBe(405);
});
