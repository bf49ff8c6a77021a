/**
 * What `npm start` prints: at the default level one line per request (method, path, status,
 * milliseconds), one line per execution's end and a summary of the change events, never a line
 * per event; at DEBUG each event too. An unknown LOG_LEVEL stops `npm start` with one line.
 */
import { randomUUID } from 'node:crypto';
import { type LocalLog, type LogLevel, localLog } from '../../src/local/log';
import { type LocalStack, startLocalStack } from '../../src/local/stack';
import { endpoint } from './harness';
import { npmStart } from './npm-start';

async function withStack(level: LogLevel, run: (stack: LocalStack) => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const log: LocalLog = localLog(level, { out: (l) => lines.push(l), err: (l) => lines.push(l) });
  const stack = await startLocalStack({
    port: 0,
    dynamoEndpoint: endpoint(),
    tablePrefix: `vesta-log-${randomUUID().slice(0, 8)}`,
    leaseJobsSeconds: 0,
    resumeSagas: false,
    log,
  });
  try {
    await run(stack);
  } finally {
    // Stopping writes what the change summary has not written yet.
    await stack.stop();
  }
  return lines;
}

const call = (stack: LocalStack, method: string, path: string, body?: unknown) =>
  fetch(`${stack.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => undefined) }));

/** Waits (up to 30 s) until the namespace's change log has `n` changes (the feed published them). */
async function changes(stack: LocalStack, ns: string, n: number): Promise<void> {
  // A page that has changes is answered at once, without waiting: pause between reads.
  for (const end = Date.now() + 30000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    const r = await call(stack, 'GET', `/v1/ns/${ns}/changes?wait=1`);
    if (((r.body as { items?: unknown[] } | undefined)?.items?.length ?? 0) >= n) return;
  }
  throw new Error(`the change feed did not publish ${n} changes of ${ns}`);
}

const REQUEST = /^\d\d:\d\d:\d\d\.\d{3} INFO {2}(GET|PUT|PATCH|POST|DELETE) \/\S+ \d{3} \d+ ms$/;

test('default level: a line per request, a line per execution, a summary of the change events', async () => {
  const ns = `log-${randomUUID().slice(0, 8)}`;
  const lines = await withStack('INFO', async (stack) => {
    for (const k of ['a', 'b', 'c']) await call(stack, 'PUT', `/v1/ns/${ns}/keys/${k}`, { fields: { n: 1 } });
    expect((await call(stack, 'GET', `/v1/ns/${ns}/keys/nope`)).status).toBe(404);
    await call(stack, 'POST', '/v1/sagas', {
      id: `s-${ns}`,
      namespace: ns,
      steps: [{ name: 'one', action: { op: 'patch', key: 'a', increment: { n: 1 } } }],
    });
    await stack.workflows.settled();
    await changes(stack, ns, 4);
  });
  expect(lines.filter((l) => / PUT \/v1\/ns\/log-/.test(l))).toHaveLength(3);
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`INFO {2}PUT /v1/ns/${ns}/keys/a 201 \\d+ ms$`)));
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`INFO {2}GET /v1/ns/${ns}/keys/nope 404 \\d+ ms$`)));
  expect(lines).toContainEqual(expect.stringMatching(/INFO {2}POST \/v1\/sagas 202 \d+ ms$/));
  // Everything else: the saga's execution, and one summary of the four changes; no event line.
  const others = lines.filter((l) => !REQUEST.test(l));
  expect(others).toEqual([
    expect.stringMatching(new RegExp(`INFO {2}saga s-${ns} ended SUCCEEDED at Succeeded$`)),
    expect.stringMatching(new RegExp(`INFO {2}change feed: 4 changes published in \\d+ s namespaces="${ns} 4"$`)),
  ]);
  expect(lines.join('\n')).not.toContain('StateChanged');
});

test('DEBUG shows each change event', async () => {
  const ns = `log-${randomUUID().slice(0, 8)}`;
  const lines = await withStack('DEBUG', async (stack) => {
    await call(stack, 'PUT', `/v1/ns/${ns}/keys/a`, { fields: { n: 1 } });
    await changes(stack, ns, 1);
  });
  const events = lines.filter((l) => / DEBUG vesta\.StateChanged /.test(l));
  expect(events).toHaveLength(1);
  expect(events[0]).toContain(`"namespace":"${ns}"`);
});

test('a background worker that dies is reported and started again; the change feed goes on', async () => {
  const ns = `log-${randomUUID().slice(0, 8)}`;
  const lines = await withStack('INFO', async (stack) => {
    await call(stack, 'PUT', `/v1/ns/${ns}/keys/a`, { fields: { n: 1 } });
    await changes(stack, ns, 1);
    await stack.background!.worker().terminate();
    // The API answers while the worker is down; its change is published once the worker is back.
    expect((await call(stack, 'PUT', `/v1/ns/${ns}/keys/b`, { fields: { n: 2 } })).status).toBe(201);
    await changes(stack, ns, 2);
  });
  expect(lines).toContainEqual(
    expect.stringMatching(/ERROR background worker exited \(code 1\); starting it again inSeconds=1$/),
  );
});

test('an unknown LOG_LEVEL stops npm start with one line naming the levels', async () => {
  const s = await npmStart({ env: { LOG_LEVEL: 'loud' } });
  expect(await s.exited).toBe(2);
  expect(s.output().trim().split('\n')).toEqual([
    'Vesta local stack: LOG_LEVEL must be one of DEBUG, INFO, WARN, ERROR, SILENT (any case). Received: "loud"',
  ]);
});
