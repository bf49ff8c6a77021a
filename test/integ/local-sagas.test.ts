/**
 * The local stack runs sagas on the same ASL and step handler, and after a restart it starts
 * again the sagas a previous run left RUNNING; steps that already took effect are not applied
 * again.
 */
import { randomUUID } from 'node:crypto';
import { wireSagaStep } from '../../src/api/wiring';
import { parseSagaBody } from '../../src/core/sagas';
import { createSagaStepHandler } from '../../src/sagas/step-handler';
import { startLocalStack } from '../../src/local/stack';
import { endpoint } from './harness';

const prefix = `vesta-resume-${randomUUID().slice(0, 8)}`;

async function call(url: string, method: string, path: string, body?: unknown) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

test('a saga left RUNNING with one step applied is finished after a restart, that step not applied again', async () => {
  const first = await startLocalStack({
    port: 0,
    dynamoEndpoint: endpoint(),
    tablePrefix: prefix,
    leaseJobsSeconds: 0,
  });
  const def = parseSagaBody({
    id: 'interrupted',
    namespace: 'bank',
    steps: [
      {
        name: 'debit',
        action: { op: 'patch', key: 'a', increment: { balance: -30 } },
        compensation: { op: 'patch', key: 'a', increment: { balance: 30 } },
      },
      { name: 'credit', action: { op: 'patch', key: 'b', increment: { balance: 30 } } },
    ],
  });
  try {
    expect((await call(first.url, 'PUT', '/v1/ns/bank/keys/a', { fields: { balance: 100 } })).status).toBe(201);
    expect((await call(first.url, 'PUT', '/v1/ns/bank/keys/b', { fields: { balance: 0 } })).status).toBe(201);
    // What a process that died mid-saga leaves: the saga RUNNING, its first step applied.
    const deps = wireSagaStep({ client: first.client, env: first.tables });
    await deps.sagas.create(def, first.workflows.executionArn('saga', def.id));
    await createSagaStepHandler(deps)({ sagaId: def.id, action: 'apply', index: 0 });
  } finally {
    await first.stop();
  }

  const second = await startLocalStack({
    port: 0,
    dynamoEndpoint: endpoint(),
    tablePrefix: prefix,
    leaseJobsSeconds: 0,
  });
  try {
    await second.workflows.settled();
    const saga = await call(second.url, 'GET', '/v1/sagas/interrupted');
    expect(saga.body).toMatchObject({
      status: 'SUCCEEDED',
      steps: [
        { status: 'DONE', attempts: 2 },
        { status: 'DONE', attempts: 1 },
      ],
    });
    expect((await call(second.url, 'GET', '/v1/ns/bank/keys/a')).body).toMatchObject({
      fields: { balance: 70 },
      rev: 2,
    });
    expect((await call(second.url, 'GET', '/v1/ns/bank/keys/b')).body).toMatchObject({
      fields: { balance: 30 },
      rev: 2,
    });
  } finally {
    await second.stop();
  }
});
