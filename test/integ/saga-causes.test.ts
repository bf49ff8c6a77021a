/**
 * Sagas that explain themselves, through the real handler, the real ASL files on the local runner
 * and the real saga-step handler on DynamoDB Local: a step whose `require` does not hold records
 * which clause, field, operator, expected and actual value in its `error` and in the execution's
 * history; and an id posted again with another definition is `409 SagaIdReused`, starting nothing.
 */
import { type TestApi, testApi, uniqueNs } from './harness';

let api: TestApi;
beforeAll(() => {
  api = testApi();
});
afterAll(() => api.close());

const put = (ns: string, key: string, fields: Record<string, unknown>) =>
  api.call('PUT', `/v1/ns/${ns}/keys/${key}`, { body: { fields } });
const putText = (ns: string, key: string, fieldsText: string) =>
  api.call('PUT', `/v1/ns/${ns}/keys/${key}`, {
    body: `{"fields": ${fieldsText}}`,
    headers: { 'content-type': 'application/json' },
  });
const postText = (text: string) =>
  api.call('POST', '/v1/sagas', { body: text, headers: { 'content-type': 'application/json' } });

async function run(text: string) {
  const started = await postText(text);
  expect(started.status).toBe(202);
  await api.workflows.settled();
  const saga = (await api.call('GET', `/v1/sagas/${started.body.id}`)).body;
  const outcome = await api.workflows.outcome(started.body.executionArn)!;
  return { saga, outcome };
}

describe('a failed require explains itself', () => {
  test('in the step error and in the execution history: clause, key, field, operator, expected, actual', async () => {
    const ns = uniqueNs('sagacause');
    await put(ns, 'acct/a', { balance: 100 });
    await put(ns, 'acct/b', { balance: 5, frozen: true });
    const { saga, outcome } = await run(
      JSON.stringify({
        namespace: ns,
        steps: [
          {
            name: 'debit-a',
            action: { op: 'patch', key: 'acct/a', increment: { balance: -30 } },
            compensation: { op: 'patch', key: 'acct/a', increment: { balance: 30 } },
          },
          {
            name: 'credit-b',
            action: {
              op: 'patch',
              key: 'acct/b',
              increment: { balance: 30 },
              require: [
                { field: 'balance', op: '>=', value: 0 },
                { field: 'frozen', op: 'absent' },
              ],
            },
          },
        ],
      }),
    );
    const cause =
      'PreconditionFailed: require[1] did not hold: field "frozen" of key "acct/b" must be absent but is true';
    expect(saga.status).toBe('COMPENSATED');
    expect(saga.steps[1]).toEqual({
      name: 'credit-b',
      status: 'FAILED',
      error: { error: 'Vesta.StepFailed', cause },
      attempts: 1,
    });
    expect(outcome.failures[0]).toEqual({ state: 'ApplyStep', error: 'Vesta.StepFailed', cause });
    // The execution ends in the Fail state Compensated, its cause naming the step, why, and what was undone.
    expect(outcome).toMatchObject({
      status: 'FAILED',
      error: 'Vesta.SagaCompensated',
      cause: `step 1 (credit-b) failed: ${cause}; undone: step 0 (debit-a). Saga ${saga.id} is COMPENSATED.`,
    });
    expect(outcome.failures.slice(1)).toEqual([{ state: 'Compensated', error: outcome.error, cause: outcome.cause }]);
    // The history a person reads: each Task on a step names it, right after its state is entered.
    const onSteps = outcome.history.flatMap((e, i) =>
      e.type === 'TaskScheduled' && (e.parameters as { step?: string }).step
        ? [`${outcome.history[i - 1].type} ${e.state} ${(e.parameters as { step: string }).step}`]
        : [],
    );
    expect(onSteps).toEqual([
      'StateEntered ApplyStep debit-a',
      'StateEntered ApplyStep credit-b',
      'StateEntered RecordStepFailed credit-b',
      'StateEntered CompensateStep debit-a',
    ]);
    expect(outcome.history.at(-1)).toEqual({ type: 'ExecutionFailed', error: outcome.error, cause: outcome.cause });
  });

  test('exact decimals, as stored and as sent; the saga stops at the first failed step', async () => {
    const ns = uniqueNs('sagacause');
    await putText(ns, 'acct/a', '{"balance": 30.000000000000000000000000000000000001}');
    const { saga, outcome } = await run(
      `{"namespace": "${ns}", "steps": [
        {"name": "big", "action": {"op": "patch", "key": "acct/a", "set": {"x": 1},
          "require": [{"field": "balance", "op": ">", "value": 30.000000000000000000000000000000000001}]}},
        {"name": "never", "action": {"op": "patch", "key": "acct/a", "set": {"y": 1},
          "require": [{"field": "limit", "op": "<", "value": 1}]}}]}`,
    );
    const cause =
      'PreconditionFailed: require[0] did not hold: field "balance" of key "acct/a" must be > 30.000000000000000000000000000000000001 but is 30.000000000000000000000000000000000001';
    expect(saga.steps.map((s: { error: unknown }) => s.error)).toEqual([{ error: 'Vesta.StepFailed', cause }, null]);
    expect(outcome.failures[0]).toEqual({ state: 'ApplyStep', error: 'Vesta.StepFailed', cause });
    expect(outcome.cause).toBe(`step 0 (big) failed: ${cause}; nothing to undo. Saga ${saga.id} is COMPENSATED.`);
  });

  test('a transfer without enough in the source: the Debit failure names the balance found', async () => {
    const ns = uniqueNs('xfercause');
    await put(ns, 'acct/a', { balance: 10 });
    const { saga, outcome } = await run(
      JSON.stringify({
        type: 'transfer',
        input: { namespace: ns, from: 'acct/a', to: 'acct/b', field: 'balance', amount: 30 },
      }),
    );
    const cause =
      'PreconditionFailed: require[0] did not hold: field "balance" of key "acct/a" must be >= 30 but is 10';
    expect(saga.steps[0]).toMatchObject({
      name: 'debit',
      status: 'FAILED',
      error: { error: 'Vesta.StepFailed', cause },
    });
    expect(outcome.failures).toEqual([
      { state: 'Debit', error: 'Vesta.StepFailed', cause },
      {
        state: 'TransferCompensated',
        error: 'Vesta.SagaCompensated',
        cause: `step 0 (debit) failed: ${cause}; nothing to undo. Saga ${saga.id} is COMPENSATED.`,
      },
    ]);
  });

  test('a transfer from an absent account: the record is absent', async () => {
    const ns = uniqueNs('xfercause');
    const { saga } = await run(
      JSON.stringify({
        type: 'transfer',
        input: { namespace: ns, from: 'acct/none', to: 'acct/b', field: 'balance', amount: 1 },
      }),
    );
    expect(saga.steps[0].error).toEqual({
      error: 'Vesta.StepFailed',
      cause:
        'PreconditionFailed: require[0] did not hold: field "balance" of key "acct/none" must be >= 1 but key "acct/none" is absent',
    });
  });
});

describe('the same id with another definition: 409 SagaIdReused, nothing started', () => {
  const steps = (by: number) => [
    {
      name: 'bump',
      action: { op: 'patch', key: 'k', increment: { n: by }, require: [{ field: 'n', op: '>=', value: 0 }] },
      compensation: { op: 'patch', key: 'k', increment: { n: -by } },
    },
  ];

  /** Everything observable of a saga and its executions, to compare before and after. */
  async function observe(id: string, ns: string) {
    const executions = (await api.workflows.settled()).map((o) => o.executionArn).sort();
    const saga = (await api.call('GET', `/v1/sagas/${id}`)).body;
    const record = (await api.call('GET', `/v1/ns/${ns}/keys/k`)).body;
    return { executions, saga, record };
  }

  test('other steps, another namespace, another type: each 409, the saga and its record unchanged', async () => {
    const ns = uniqueNs('reuse');
    const id = `reuse-${ns}`;
    await put(ns, 'k', { n: 0 });
    const first = await api.call('POST', '/v1/sagas', { body: { id, namespace: ns, steps: steps(1) } });
    expect(first.status).toBe(202);
    const before = await observe(id, ns);
    expect(before.saga.status).toBe('SUCCEEDED');

    const others = [
      { id, namespace: ns, steps: steps(2) },
      { id, namespace: uniqueNs('reuse'), steps: steps(1) },
      { id, namespace: ns, steps: [...steps(1), { ...steps(1)[0], name: 'again' }] },
      { id, namespace: ns, steps: [{ ...steps(1)[0], name: 'renamed' }] },
      { id, namespace: ns, steps: [{ ...steps(1)[0], compensation: undefined }] },
      { id, type: 'transfer', input: { namespace: ns, from: 'k', to: 'j', field: 'n', amount: 1 } },
    ];
    for (const body of others) {
      const r = await api.call('POST', '/v1/sagas', { body });
      expect(r.status).toBe(409);
      expect(r.headers['content-type']).toBe('application/problem+json');
      expect(r.body).toEqual({
        type: 'urn:vesta:problem:Conflict',
        title: 'Conflict',
        status: 409,
        code: 'Conflict',
        reason: 'SagaIdReused',
        detail: `saga "${id}" already exists with another definition; nothing was started (use another id, or read it with GET /v1/sagas/${id})`,
      });
    }
    expect(await observe(id, ns)).toEqual(before);
    expect(api.workflows.outcome(api.workflows.executionArn('transfer', id))).toBeUndefined();
  });

  test('the same definition written differently is the same saga: 200 as it stands', async () => {
    const ns = uniqueNs('reuse');
    const id = `same-${ns}`;
    await put(ns, 'k', { n: 0 });
    const first = await api.call('POST', '/v1/sagas', { body: { id, namespace: ns, steps: steps(1) } });
    expect(first.status).toBe(202);
    const before = await observe(id, ns);
    // Members in another order, numbers written otherwise (1.0, 1e0, -10e-1, 0.0), an empty require.
    const again = `{"steps": [{"compensation": {"increment": {"n": -10e-1}, "key": "k", "op": "patch"},
      "action": {"require": [{"value": 0.0, "op": ">=", "field": "n"}], "increment": {"n": 1.0}, "key": "k", "op": "patch"},
      "name": "bump"}], "namespace": "${ns}", "id": "${id}"}`;
    const r = await postText(again);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(before.saga);
    const withEmptyRequire = {
      id,
      namespace: ns,
      steps: [{ ...steps(1)[0], compensation: { ...steps(1)[0].compensation, require: [] } }],
    };
    expect((await api.call('POST', '/v1/sagas', { body: withEmptyRequire })).status).toBe(200);
    expect(await observe(id, ns)).toEqual(before);
  });

  test('a transfer: the same input (however written) is 200, another amount or account 409', async () => {
    const ns = uniqueNs('reuse');
    const id = `xfer-${ns}`;
    await put(ns, 'acct/a', { balance: 100 });
    const input = { namespace: ns, from: 'acct/a', to: 'acct/b', field: 'balance', amount: 30 };
    const first = await api.call('POST', '/v1/sagas', { body: { id, type: 'transfer', input } });
    expect(first.status).toBe(202);
    await api.workflows.settled();
    const same = await postText(
      `{"input": {"amount": 3e1, "field": "balance", "to": "acct/b", "from": "acct/a", "namespace": "${ns}"}, "type": "transfer", "id": "${id}"}`,
    );
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ id, type: 'transfer', status: 'SUCCEEDED' });
    for (const other of [{ amount: 31 }, { to: 'acct/c' }, { field: 'other' }]) {
      const r = await api.call('POST', '/v1/sagas', { body: { id, type: 'transfer', input: { ...input, ...other } } });
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ code: 'Conflict', reason: 'SagaIdReused' });
    }
    expect((await api.call('GET', `/v1/ns/${ns}/keys/acct/a`)).body.fields).toEqual({ balance: 70 });
    expect((await api.call('GET', `/v1/ns/${ns}/keys/acct/b`)).body.fields).toEqual({ balance: 30 });
  });
});
