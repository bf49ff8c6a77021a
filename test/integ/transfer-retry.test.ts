/**
 * `POST /v1/sagas/{id}/retry` for the built-in transfer saga, on the real API handler, the local
 * ASL runner and DynamoDB Local. Faults are injected into the DynamoDB client on one transfer's
 * credit and on its refund (the compensation of the debit; see `transfer-kit.ts`): the credit
 * fails after its retries, the refund too, and the transfer waits COMPENSATION_FAILED with its
 * amount in flight. Once the fault is removed, a retry refunds the debit exactly once and the
 * transfer ends COMPENSATED; the credit is never applied. A retry of a compensated transfer is
 * `409 SagaNotRetryable` and changes nothing; of two retries sent at once, one is accepted; a
 * runner that forgot where the execution failed redrives it from `AwaitRetry`.
 * When the credit took effect although its Task failed (its answer lost on the last attempt) and
 * the credit's undo then fails, a retry undoes the credit and then the debit, each once.
 * Outcomes are read through the API (saga and records), never from the execution's status.
 */
import type { StepHandler } from '../../src/local/workflows';
import { type TestApi, testApi, uniqueNs } from './harness';
import { CREDIT_CALLS, REFUND_CALLS, type Transfer, TransferFaults, transferKit } from './transfer-kit';

/**
 * Transfers whose Credit Task fails on every call, the last one after its write committed (the
 * function's answer lost): the credit took effect although the Task failed. Counts the calls.
 */
const lateCredits = new Map<string, number>();
const answerLost = () =>
  Object.assign(new Error("injected: the function's answer was lost"), { name: 'Lambda.ServiceException' });
const loseCreditAnswers =
  (step: StepHandler): StepHandler =>
  async (input) => {
    const { sagaId, action } = input as { sagaId: string; action: string };
    const calls = action === 'credit' ? lateCredits.get(sagaId) : undefined;
    if (calls === undefined) return step(input);
    lateCredits.set(sagaId, calls + 1);
    if (calls + 1 < CREDIT_CALLS) throw answerLost();
    await step(input);
    throw answerLost();
  };

let api: TestApi;
let faults: TransferFaults;
beforeAll(() => {
  api = testApi({ wrapStep: loseCreditAnswers });
  faults = new TransferFaults(api);
});
afterAll(() => api.close());

const KEYS = ['acct/a', 'acct/b'];
const TOTAL = 120;

/** acct/a (100) pays acct/b (20) 30; the credit and then the refund fail on every attempt. */
async function stuckTransfer() {
  const ns = uniqueNs('xretry');
  const kit = transferKit(api, ns);
  const t: Transfer = { id: `xfer-${ns}`, from: 'acct/a', to: 'acct/b', amount: 30 };
  await kit.open({ 'acct/a': 100, 'acct/b': 20 });
  faults.fail(t.id, 'credit');
  faults.fail(t.id, 'refund');
  const before = { ...faults.injected };
  await kit.start(t);
  await api.workflows.settled();

  const s = await kit.saga(t.id);
  expect(s).toMatchObject({
    status: 'COMPENSATION_FAILED',
    finishedAt: expect.any(String),
    steps: [
      // The refund (the debit's compensation) failed after its retries: it needs a person.
      { name: 'debit', status: 'COMPENSATION_FAILED', error: { error: 'Vesta.Transient' } },
      // The credit failed after its retries and wrote nothing.
      { name: 'credit', status: 'FAILED', error: { error: 'Vesta.Transient' } },
    ],
  });
  expect(s.steps[0].error!.cause).toMatch(/unavailable/i);
  expect(s.steps[1].error!.cause).toMatch(/unavailable/i);
  expect(faults.injected).toMatchObject({ credit: before.credit + CREDIT_CALLS, refund: before.refund + REFUND_CALLS });
  // Debited once (put, debit), never credited, not refunded yet: 30 in flight, 90 held.
  expect(await kit.account('acct/a')).toEqual({ balance: 70, rev: 2 });
  expect(await kit.account('acct/b')).toEqual({ balance: 20, rev: 1 });
  expect(await kit.expectMoneyKept(KEYS, [t], TOTAL)).toMatchObject({ held: 90, flying: 30 });
  return { kit, t };
}

/** The transfer compensated: the refund applied once, the credit never; nothing in flight. */
async function expectRefundedOnce(kit: ReturnType<typeof transferKit>, t: Transfer) {
  expect(await kit.saga(t.id)).toMatchObject({
    status: 'COMPENSATED',
    finishedAt: expect.any(String),
    steps: [
      { name: 'debit', status: 'COMPENSATED', error: null },
      { name: 'credit', status: 'FAILED', error: { error: 'Vesta.Transient' } },
    ],
  });
  // a: put, debit, refund (rev 3: refunded once). b: only its put.
  expect(await kit.account('acct/a')).toEqual({ balance: 100, rev: 3 });
  expect(await kit.account('acct/b')).toEqual({ balance: 20, rev: 1 });
  expect(await kit.expectMoneyKept(KEYS, [t], TOTAL)).toMatchObject({ held: 120, flying: 0 });
}

test('a transfer whose credit and refund fail waits COMPENSATION_FAILED; once fixed, a retry refunds it exactly once', async () => {
  const { kit, t } = await stuckTransfer();

  // Retried while the store still refuses the refund: accepted, then COMPENSATION_FAILED again.
  const refundsBefore = faults.injected.refund;
  const early = await kit.retry(t.id);
  expect(early.status).toBe(202);
  expect(early.body).toMatchObject({ id: t.id, status: 'RUNNING', finishedAt: null });
  await api.workflows.settled();
  expect(await kit.saga(t.id)).toMatchObject({
    status: 'COMPENSATION_FAILED',
    finishedAt: expect.any(String),
    steps: [{ status: 'COMPENSATION_FAILED' }, { status: 'FAILED' }],
  });
  expect(faults.injected.refund).toBe(refundsBefore + REFUND_CALLS);
  expect(await kit.account('acct/a')).toEqual({ balance: 70, rev: 2 });
  expect(await kit.expectMoneyKept(KEYS, [t], TOTAL)).toMatchObject({ held: 90, flying: 30 });

  // The cause is fixed (the store takes the refund again), then a person retries.
  faults.heal(t.id, 'refund');
  const retried = await kit.retry(t.id);
  expect(retried.status).toBe(202);
  expect(retried.headers.location).toBe(`/v1/sagas/${t.id}`);
  expect(retried.body).toMatchObject({ id: t.id, status: 'RUNNING', finishedAt: null });
  await api.workflows.settled();
  await expectRefundedOnce(kit, t);

  // Compensated: nothing left to retry. A second retry is 409 and changes nothing.
  const again = await kit.retry(t.id);
  expect(again.status).toBe(409);
  expect(again.headers['content-type']).toBe('application/problem+json');
  expect(again.body).toMatchObject({ status: 409, code: 'Conflict', reason: 'SagaNotRetryable' });
  expect(again.body.detail).toMatch(/COMPENSATED/);
  await api.workflows.settled();
  await expectRefundedOnce(kit, t);
  faults.heal(t.id, 'credit');
});

test('two retries of a stuck transfer sent at once: one 202, one 409, the debit refunded once', async () => {
  const { kit, t } = await stuckTransfer();
  faults.heal(t.id, 'refund');
  const answers = await Promise.all([kit.retry(t.id), kit.retry(t.id)]);
  expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
  expect(answers.find((a) => a.status === 409)!.body).toMatchObject({ code: 'Conflict', reason: 'SagaNotRetryable' });
  await api.workflows.settled();
  await expectRefundedOnce(kit, t);
  faults.heal(t.id, 'credit');
});

test('retried through a runner that never saw the execution (a restarted local stack): the retry still refunds the debit once', async () => {
  const { kit, t } = await stuckTransfer();
  faults.heal(t.id, 'refund');
  faults.heal(t.id, 'credit');
  const restarted = testApi();
  try {
    const r = await restarted.call('POST', `/v1/sagas/${t.id}/retry`);
    expect(r.status).toBe(202);
    await restarted.workflows.settled();
    await expectRefundedOnce(kit, t);
    expect((await restarted.call('POST', `/v1/sagas/${t.id}/retry`)).status).toBe(409);
  } finally {
    restarted.close();
  }
});

/**
 * acct/a (100) pays acct/b (20) 30; the credit takes effect although its Task failed (see
 * `loseCreditAnswers`), so the refund must undo the credit first, and that undo fails on every
 * attempt: the money has moved (nothing in flight) and the transfer waits COMPENSATION_FAILED.
 */
async function stuckLateCredit() {
  const ns = uniqueNs('xlate');
  const kit = transferKit(api, ns);
  const t: Transfer = { id: `xfer-${ns}`, from: 'acct/a', to: 'acct/b', amount: 30 };
  await kit.open({ 'acct/a': 100, 'acct/b': 20 });
  lateCredits.set(t.id, 0);
  faults.fail(t.id, 'creditUndo');
  const before = faults.injected.creditUndo;
  await kit.start(t);
  await api.workflows.settled();
  expect(lateCredits.get(t.id)).toBe(CREDIT_CALLS);
  expect(faults.injected.creditUndo).toBe(before + REFUND_CALLS);
  expect(await kit.saga(t.id)).toMatchObject({ status: 'COMPENSATION_FAILED', finishedAt: expect.any(String) });
  expect(await kit.account('acct/a')).toEqual({ balance: 70, rev: 2 });
  expect(await kit.account('acct/b')).toEqual({ balance: 50, rev: 2 });
  expect(await kit.expectMoneyKept(KEYS, [t], TOTAL)).toMatchObject({ held: 120, flying: 0 });
  return { kit, t };
}

test('a credit that took effect although its Task failed, whose undo fails: a retry undoes the credit, then the debit, each once', async () => {
  const { kit, t } = await stuckLateCredit();
  faults.heal(t.id, 'creditUndo');
  const answers = await Promise.all([kit.retry(t.id), kit.retry(t.id)]);
  expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
  await api.workflows.settled();
  const compensated = async () => {
    expect(await kit.saga(t.id)).toMatchObject({
      status: 'COMPENSATED',
      steps: [
        { name: 'debit', status: 'COMPENSATED', error: null },
        { name: 'credit', status: 'COMPENSATED', error: null },
      ],
    });
    // a: put, debit, refund. b: put, credit, the credit's undo. Each once.
    expect(await kit.account('acct/a')).toEqual({ balance: 100, rev: 3 });
    expect(await kit.account('acct/b')).toEqual({ balance: 20, rev: 3 });
    expect(await kit.expectMoneyKept(KEYS, [t], TOTAL)).toMatchObject({ held: 120, flying: 0 });
  };
  await compensated();
  expect((await kit.retry(t.id)).body).toMatchObject({ status: 409, reason: 'SagaNotRetryable' });
  await api.workflows.settled();
  await compensated();
});

// `refund` undoes the credit first when it had taken effect; when that undo fails, the saga log
// must name the credit (docs/openapi.yaml, GET /v1/sagas/{id}: COMPENSATION_FAILED is the step
// whose undo failed, its `error` says why), not the debit, whose undo was never tried: otherwise
// the person fixing the cause is sent to the wrong record.
test('while it waits, the saga log names the step whose undo failed: the credit, not the debit', async () => {
  const { kit, t } = await stuckLateCredit();
  try {
    expect((await kit.saga(t.id)).steps).toMatchObject([
      { name: 'debit', status: 'DONE', error: null },
      { name: 'credit', status: 'COMPENSATION_FAILED', error: { error: 'Vesta.Transient' } },
    ]);
  } finally {
    // Leave no saga waiting for a person.
    faults.heal(t.id, 'creditUndo');
    await kit.retry(t.id);
    await api.workflows.settled();
  }
});
