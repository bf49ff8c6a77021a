/**
 * The API's operational metrics, on the real handler and DynamoDB Local: what a recording sink
 * receives per request, that metrics add no DynamoDB request, and the EMF lines the real
 * Powertools Metrics writes (one metric stream per dimension set).
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { type ApiHandler, createApiHandler } from '../../src/api/app';
import type { MetricsSink, MetricUnitValue, SingleMetric } from '../../src/api/metrics';
import { wireApi } from '../../src/api/wiring';
import { lambdaContext, toProxyEvent } from '../../src/local/server';
import { type CallOptions, testApi, testTables, uniqueNs } from './harness';

interface Emitted {
  readonly name: string;
  readonly dimensions: Record<string, string>;
  readonly value: number;
}

/** A sink that keeps what it is given: single metrics when added, the rest when published. */
class RecordingSink implements MetricsSink {
  public published: Emitted[] = [];
  private stored: Emitted[] = [];

  public addMetric(name: string, _unit: MetricUnitValue, value: number): void {
    this.stored.push({ name, dimensions: {}, value });
  }

  public singleMetric(): SingleMetric {
    const dimensions: Record<string, string> = {};
    return {
      addDimension: (name, value) => (dimensions[name] = value),
      addMetric: (name, _unit, value) => this.published.push({ name, dimensions: { ...dimensions }, value }),
    };
  }

  public hasStoredMetrics(): boolean {
    return this.stored.length > 0;
  }

  public publishStoredMetrics(): void {
    this.published.push(...this.stored);
    this.stored = [];
  }

  /** What was published since the last call. */
  public take(): Emitted[] {
    const out = this.published;
    this.published = [];
    return out;
  }
}

const base = testApi();
afterAll(() => base.close());

function meteredHandler(metrics: MetricsSink): ApiHandler {
  const deps = wireApi({
    client: base.client,
    env: { ...testTables(), VESTA_REPLICA: 'local' },
    workflows: base.workflows,
  });
  return createApiHandler({ ...deps, metrics });
}

async function call(handler: ApiHandler, method: string, path: string, opts: CallOptions = {}) {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
  let raw = '';
  if (opts.body !== undefined) {
    raw = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const event = toProxyEvent(method, path, headers, Buffer.from(raw), '127.0.0.1');
  const out = await handler(event, lambdaContext(event.requestContext.requestId));
  const etag = Object.entries(out.headers ?? {}).find(([k]) => k.toLowerCase() === 'etag')?.[1];
  return {
    status: out.statusCode,
    body: out.body ? JSON.parse(out.body) : undefined,
    etag: etag === undefined ? undefined : String(etag),
  };
}

const sink = new RecordingSink();
const api = meteredHandler(sink);
const rec = (ns: string, key: string) => `/v1/ns/${ns}/keys/${key}`;
const operations = (es: Emitted[]) => es.filter((e) => e.name === 'Operations').map((e) => e.dimensions.operation);
const conflicts = (es: Emitted[]) => es.filter((e) => e.name === 'Conflicts').map((e) => e.dimensions.kind);
const siblings = (es: Emitted[]) => es.filter((e) => e.name === 'SiblingsCreated').map((e) => e.value);

beforeEach(() => sink.take());

test('each request counts one Operations with its route name as the operation', async () => {
  const ns = uniqueNs();
  expect((await call(api, 'PUT', rec(ns, 'k'), { body: { fields: { n: 1 } } })).status).toBe(201);
  expect(sink.take()).toEqual([{ name: 'Operations', dimensions: { operation: 'putRecord' }, value: 1 }]);
  expect((await call(api, 'GET', rec(ns, 'k'))).status).toBe(200);
  expect(sink.take()).toEqual([{ name: 'Operations', dimensions: { operation: 'getRecord' }, value: 1 }]);
});

test('a request no route answers counts as notFound or methodNotAllowed', async () => {
  expect((await call(api, 'GET', '/v1/nothing/here')).status).toBe(404);
  expect(operations(sink.take())).toEqual(['notFound']);
  expect((await call(api, 'PATCH', '/v1/health')).status).toBe(405);
  expect(operations(sink.take())).toEqual(['methodNotAllowed']);
});

test('an absent record is a getRecord operation and no conflict', async () => {
  expect((await call(api, 'GET', rec(uniqueNs(), 'absent'))).status).toBe(404);
  const out = sink.take();
  expect(operations(out)).toEqual(['getRecord']);
  expect(conflicts(out)).toEqual([]);
});

test('an If-Match that does not hold counts a Conflicts of kind PreconditionFailed', async () => {
  const ns = uniqueNs();
  const first = await call(api, 'PUT', rec(ns, 'k'), { body: { fields: { n: 1 } } });
  await call(api, 'PUT', rec(ns, 'k'), { body: { fields: { n: 2 } } });
  sink.take();
  const stale = await call(api, 'PUT', rec(ns, 'k'), {
    body: { fields: { n: 3 } },
    headers: { 'If-Match': first.etag! },
  });
  expect(stale.status).toBe(412);
  const out = sink.take();
  expect(operations(out)).toEqual(['putRecord']);
  expect(out.filter((e) => e.name === 'Conflicts')).toEqual([
    { name: 'Conflicts', dimensions: { kind: 'PreconditionFailed' }, value: 1 },
  ]);
});

test('a lock held by another lease counts a Conflicts of kind LockHeld', async () => {
  const ns = uniqueNs();
  const a = (await call(api, 'POST', '/v1/leases', { body: { ttlSeconds: 30 } })).body.id;
  const b = (await call(api, 'POST', '/v1/leases', { body: { ttlSeconds: 30 } })).body.id;
  expect((await call(api, 'POST', `/v1/ns/${ns}/locks/leader`, { body: { leaseId: a } })).status).toBe(200);
  sink.take();
  const held = await call(api, 'POST', `/v1/ns/${ns}/locks/leader`, { body: { leaseId: b } });
  expect(held.status).toBe(409);
  const out = sink.take();
  expect(operations(out)).toEqual(['acquireLock']);
  expect(conflicts(out)).toEqual(['LockHeld']);
});

test('a concurrent PUT in siblings mode counts one SiblingsCreated; the PUT that resolves them none', async () => {
  const ns = uniqueNs();
  await call(api, 'PUT', `/v1/ns/${ns}`, { body: { conflicts: 'siblings' } });
  await call(api, 'PUT', rec(ns, 'k'), { body: { fields: { v: 'a' } } });
  expect(siblings(sink.take())).toEqual([]);
  expect((await call(api, 'PUT', rec(ns, 'k'), { body: { fields: { v: 'b' } } })).status).toBe(200);
  expect(siblings(sink.take())).toEqual([1]);
  const both = await call(api, 'GET', rec(ns, 'k'));
  expect(both.status).toBe(300);
  expect(
    (await call(api, 'PUT', rec(ns, 'k'), { body: { fields: { v: 'ab' } }, headers: { 'If-Match': both.etag! } }))
      .status,
  ).toBe(200);
  expect(siblings(sink.take())).toEqual([]);
});

test('metrics add no DynamoDB request', async () => {
  const ns = uniqueNs();
  // Each handler has its own namespace settings cache: warm both.
  await base.call('GET', `/v1/ns/${ns}`);
  await call(api, 'GET', `/v1/ns/${ns}`);
  const plain = await base.requests.count(() => base.call('PUT', rec(ns, 'plain'), { body: { fields: { n: 1 } } }));
  const metered = await base.requests.count(() => call(api, 'PUT', rec(ns, 'metered'), { body: { fields: { n: 1 } } }));
  expect(metered).toBe(plain);
  expect(metered).toBe(1);
});

test('the real Powertools Metrics writes Operations{service,operation} and Conflicts{service,kind} as separate EMF lines', async () => {
  const disabled = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'false'; // read by every Metrics made, single metrics too
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    const powertools = meteredHandler(new Metrics({ namespace: 'Vesta', serviceName: 'vesta' }));
    const ns = uniqueNs();
    await call(powertools, 'PUT', `/v1/ns/${ns}`, { body: { conflicts: 'siblings' } });
    await call(powertools, 'PUT', rec(ns, 'k'), { body: { fields: { v: 'a' } } });
    lines.length = 0;
    expect(
      (await call(powertools, 'PUT', rec(ns, 'k'), { body: { fields: { v: 'b' } }, headers: { 'If-None-Match': '*' } }))
        .status,
    ).toBe(412);
    expect((await call(powertools, 'PUT', rec(ns, 'k'), { body: { fields: { v: 'b' } } })).status).toBe(200);
  } finally {
    spy.mockRestore();
    process.env.POWERTOOLS_METRICS_DISABLED = disabled;
  }
  const emf = lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as any);
  const directives = emf.map((e) => e._aws.CloudWatchMetrics[0]);
  for (const d of directives) expect(d.Namespace).toBe('Vesta');
  const of = (metric: string) =>
    emf.filter((_e, i) => directives[i].Metrics.some((m: { Name: string }) => m.Name === metric));
  const ops = of('Operations');
  expect(ops).toHaveLength(2);
  for (const e of ops) {
    expect(e._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'operation']]);
    expect(e._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'Operations', Unit: 'Count' }]);
    expect(e).toMatchObject({ service: 'vesta', operation: 'putRecord', Operations: 1 });
  }
  const conflict = of('Conflicts');
  expect(conflict).toHaveLength(1);
  expect(conflict[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'kind']]);
  expect(conflict[0]).toMatchObject({ service: 'vesta', kind: 'PreconditionFailed', Conflicts: 1 });
  const created = of('SiblingsCreated');
  expect(created).toHaveLength(1);
  expect(created[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service']]);
  expect(created[0]).toMatchObject({ service: 'vesta', SiblingsCreated: 1 });
});

test('a sink that throws changes no answer', async () => {
  const broken: MetricsSink = {
    addMetric: () => undefined,
    singleMetric: () => {
      throw new RangeError('too many dimensions');
    },
    hasStoredMetrics: () => false,
    publishStoredMetrics: () => undefined,
  };
  const r = await call(meteredHandler(broken), 'PUT', rec(uniqueNs(), 'k'), { body: { fields: { n: 1 } } });
  expect(r.status).toBe(201);
  expect(r.body.fields).toEqual({ n: 1 });
});
