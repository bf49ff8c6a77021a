/**
 * The DynamoDB actions each function's code really sends, recorded on DynamoDB Local while each
 * runs its work (every function with a client of its own), against what its role allows in the
 * synthesized stack: the code never needs an action its role lacks, and the role holds no
 * DynamoDB action the code does not send. So trimming a grant too far, or a code change that
 * needs a new one, fails here before it fails in AWS.
 */
import { WritesInFlight } from '../../src/core/snapshot-cut';
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore } from '../../src/adapters/blob/fs-blob-store';
import { keyOf } from '../../src/adapters/dynamodb/codec';
import { TABLE_DEFS, physicalTableName } from '../../src/adapters/dynamodb/table-defs';
import { ensureTables } from '../../src/local/bootstrap-tables';
import { LocalEventBus } from '../../src/adapters/events/local-bus';
import { createApiHandler } from '../../src/api/app';
import {
  wireApi,
  wireChangePublisher,
  wireFieldSweeper,
  wireLeaseJobs,
  wireSagaStep,
  wireSnapshotWorker,
} from '../../src/api/wiring';
import { publishBatch } from '../../src/events/publisher';
import { localClient } from '../../src/local/dynamodb-local';
import { LocalExecutions } from '../../src/local/executions';
import { lambdaContext, toProxyEvent } from '../../src/local/server';
import { LocalWorkflows, type StepHandler } from '../../src/local/workflows';
import { createSagaStepHandler } from '../../src/sagas/step-handler';
import { createExportHandler, createRestoreHandler, createScheduleHandler } from '../../src/snapshots/worker';
import { list, logicalIdOf, roleStatements } from '../infra/policies';
import { type Synthesized, synthesize } from '../infra/synth';
import { endpoint, uniqueNs } from './harness';

jest.setTimeout(300_000);

type Fn = 'api' | 'saga-step' | 'export' | 'restore' | 'schedule' | 'reaper' | 'renewer' | 'sweeper' | 'publisher';

// Tables of its own: its field sweeper and lease reaper run with clocks ahead, and would otherwise
// sweep the fields and reap the leases other test files are using at the same time. No publisher
// runs here: a whole-store snapshot fails soon when a write it has no pre-image of lands meanwhile.
const IAM_TABLE_PREFIX = 'vesta-iam-test';
const env: Record<string, string> = {
  ...Object.fromEntries(TABLE_DEFS.map((d) => [d.envVar, physicalTableName(IAM_TABLE_PREFIX, d)])),
  VESTA_SNAPSHOT_PRE_IMAGE_WAIT_MS: '5000',
};
const tableIds = new Map(TABLE_DEFS.map((d) => [env[d.envVar], d.id]));

/** `dynamodb:<action> <table>[/index/<name>]` for every part of every request a client sends. */
class ActionRecorder {
  public readonly used = new Set<string>();
  /** Fail the next request of this command on this table with this error name (once). */
  public failNext?: { command: string; table: string; error: string };

  public attach(client: DynamoDBClient): DynamoDBClient {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName);
        const input = args.input as Record<string, any>;
        this.record(command, input);
        const f = this.failNext;
        if (f && f.command === command && tableIds.get(input.TableName) === f.table) {
          this.failNext = undefined;
          throw Object.assign(new Error(f.error), { name: f.error });
        }
        return next(args);
      },
      { step: 'initialize', name: 'recordActions' },
    );
    return client;
  }

  private add(action: string, table: string, index?: string): void {
    this.used.add(`dynamodb:${action} ${tableIds.get(table) ?? table}${index ? `/index/${index}` : ''}`);
  }

  private record(command: string, input: Record<string, any>): void {
    const action = command.replace(/Command$/, '');
    if (action === 'BatchGetItem' || action === 'BatchWriteItem')
      for (const t of Object.keys(input.RequestItems ?? {})) this.add(action, t);
    else if (action === 'TransactWriteItems') {
      const parts: Record<string, string> = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'ConditionCheckItem',
      };
      for (const item of input.TransactItems ?? [])
        for (const [k, v] of Object.entries(item)) this.add(parts[k], (v as { TableName: string }).TableName);
    } else if (action === 'TransactGetItems')
      for (const item of input.TransactItems ?? []) this.add('GetItem', item.Get.TableName);
    else this.add(action, input.TableName, input.IndexName);
  }
}

const recorders = Object.fromEntries(
  (['api', 'saga-step', 'export', 'restore', 'schedule', 'reaper', 'renewer', 'sweeper', 'publisher'] as Fn[]).map(
    (f) => [f, new ActionRecorder()],
  ),
) as Record<Fn, ActionRecorder>;
const clients: DynamoDBClient[] = [];
const clientOf = (f: Fn) => {
  const c = recorders[f].attach(localClient(endpoint()));
  clients.push(c);
  return c;
};

let blobDir: string;
let s: Synthesized;
let call: (
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<{ status: number; body: any }>;
let workflows: LocalWorkflows;
const executions = new LocalExecutions();
/** The record writes of these functions (one process), as the local stack shares them. */
const inFlight = new WritesInFlight();

beforeAll(async () => {
  const admin = localClient(endpoint());
  await ensureTables(admin, IAM_TABLE_PREFIX);
  admin.destroy();
});

beforeAll(() => {
  s = synthesize({ stage: 'dev' });
  blobDir = mkdtempSync(join(tmpdir(), 'vesta-iam-'));
  const blobs = new FsBlobStore(blobDir);
  workflows = new LocalWorkflows({
    step: createSagaStepHandler(wireSagaStep({ client: clientOf('saga-step'), env, inFlight })) as StepHandler,
    export: createExportHandler(wireSnapshotWorker({ client: clientOf('export'), env, blobs, inFlight })),
    restore: createRestoreHandler(wireSnapshotWorker({ client: clientOf('restore'), env, blobs, inFlight })),
    executions,
    retryIntervalMs: 0,
  });
  const handler = createApiHandler(wireApi({ client: clientOf('api'), env, workflows, inFlight }));
  call = async (method, path, body, headers = {}) => {
    const raw = body === undefined ? '' : JSON.stringify(body);
    const h = {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    };
    const event = toProxyEvent(method, path, h, Buffer.from(raw), '127.0.0.1');
    const out = await handler(event, lambdaContext(event.requestContext.requestId));
    return { status: out.statusCode, body: out.body ? JSON.parse(out.body) : undefined };
  };
});
afterAll(() => {
  for (const c of clients) c.destroy();
  rmSync(blobDir, { recursive: true, force: true });
  s.dispose();
});

/** What a function's role allows on DynamoDB tables and indexes, in the recorder's terms. */
function allowed(f: Fn): Set<string> {
  const st = s.stack;
  const fn = {
    api: st.api.function,
    'saga-step': st.sagas.stepFunction,
    export: st.snapshots.exportFunction,
    restore: st.snapshots.restoreFunction,
    schedule: st.snapshots.scheduleFunction,
    reaper: st.leases.reaper,
    renewer: st.leases.renewer,
    sweeper: st.fieldSweeper.function,
    publisher: st.changeEvents.publisher,
  }[f];
  const tables = new Map(Object.entries(st.tables.tables).map(([id, t]) => [logicalIdOf(st, t), id]));
  const label = (r: any): string | undefined => {
    if (r['Fn::GetAtt']?.[1] === 'Arn') return tables.get(r['Fn::GetAtt'][0]);
    const parts = r['Fn::Join']?.[1];
    if (parts?.length === 2 && parts[0]['Fn::GetAtt']?.[1] === 'Arn')
      return `${tables.get(parts[0]['Fn::GetAtt'][0])}${parts[1]}`;
    return undefined; // a stream, read by the event source mapping, not by the code
  };
  const out = new Set<string>();
  for (const statement of roleStatements(s.template, logicalIdOf(st, fn.role as never)).statements) {
    for (const a of list(statement.Action).filter((x) => x.startsWith('dynamodb:'))) {
      for (const r of list(statement.Resource)) {
        const l = label(r);
        if (l) out.add(`${a} ${l}`);
      }
    }
  }
  return out;
}

/**
 * Granted but not sent in this run, on purpose. Powertools idempotency reads an existing record
 * with GetItem only when a failed conditional put does not return it; DynamoDB always returns it
 * (ReturnValuesOnConditionCheckFailure), but the library documents GetItem as required and a
 * missing one would turn that fallback into a 500.
 */
const GRANTED_FOR_A_FALLBACK: Partial<Record<Fn, string[]>> = { api: ['dynamodb:GetItem idempotency'] };

/**
 * Tables whose grants this run does not exercise: the dead-letter table is written only when an
 * item fails for itself, listed, replayed and discarded through the dead-letter routes, all of
 * which the dead-letter suites drive (test/integ/dead-letters-*.test.ts). What this run sends
 * there is still checked against the role.
 */
const EXERCISED_ELSEWHERE = new Set(['deadletters']);

const sorted = (set: Set<string>) => [...set].sort();
const ok = (r: { status: number; body: any }, ...statuses: number[]) => {
  if (!statuses.includes(r.status)) throw new Error(`unexpected ${r.status}: ${JSON.stringify(r.body)}`);
  return r;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('every function sends exactly the DynamoDB actions its role allows', async () => {
  const ns = uniqueNs('iam');
  const other = uniqueNs('iam-to');
  // Records, listings, settings, health, changes.
  ok(await call('PUT', `/v1/ns/${ns}`, { conflicts: 'reject' }), 200);
  ok(await call('GET', `/v1/ns/${ns}`), 200);
  ok(await call('PUT', `/v1/ns/${ns}/keys/a`, { fields: { n: 1 } }), 201);
  ok(await call('PATCH', `/v1/ns/${ns}/keys/a`, { increment: { n: 1 } }), 200);
  ok(await call('GET', `/v1/ns/${ns}/keys/a`), 200);
  ok(await call('PUT', `/v1/ns/${ns}/keys/gone`, { fields: {} }), 201);
  ok(await call('DELETE', `/v1/ns/${ns}/keys/gone`), 204);
  ok(await call('GET', `/v1/ns/${ns}/keys?fields=true`), 200);
  ok(
    await call('POST', `/v1/ns/${ns}/txn`, {
      require: [{ key: 'a', exists: true }],
      ops: [{ op: 'put', key: 'b', fields: { n: 5 } }],
    }),
    200,
  );
  ok(await call('GET', '/v1/health'), 200);
  ok(await call('GET', `/v1/ns/${ns}/changes`), 200);
  // Idempotency: kept, replayed, and a throttled answer that is not kept.
  ok(await call('PUT', `/v1/ns/${ns}/keys/i`, { fields: {} }, { 'Idempotency-Key': `${ns}-1` }), 201);
  ok(await call('PUT', `/v1/ns/${ns}/keys/i`, { fields: {} }, { 'Idempotency-Key': `${ns}-1` }), 201);
  recorders.api.failNext = {
    command: 'UpdateItemCommand',
    table: 'records',
    error: 'ProvisionedThroughputExceededException',
  };
  ok(await call('PUT', `/v1/ns/${ns}/keys/j`, { fields: {} }, { 'Idempotency-Key': `${ns}-2` }), 429);
  // Leases and locks: leased and fenced writes, a refused takeover, release, revoke.
  const lease = ok(await call('POST', '/v1/leases', { ttlSeconds: 30 }), 201).body.id;
  const rival = ok(await call('POST', '/v1/leases', { ttlSeconds: 30 }), 201).body.id;
  ok(await call('POST', `/v1/leases/${lease}/keepalive`), 200);
  ok(await call('PUT', `/v1/ns/${ns}/keys/leased`, { fields: { v: 1 } }, { 'X-Lease-Id': lease }), 201);
  const lock = ok(await call('POST', `/v1/ns/${ns}/locks/L`, { leaseId: lease }), 200).body;
  ok(await call('POST', `/v1/ns/${ns}/locks/L`, { leaseId: rival }), 409);
  ok(
    await call('PUT', `/v1/ns/${ns}/keys/fenced`, { fields: {} }, { 'X-Fencing-Token': `L:${lock.fencingToken}` }),
    201,
  );
  ok(await call('GET', `/v1/leases/${lease}`), 200);
  expect(ok(await call('GET', `/v1/ns/${ns}/locks`), 200).body.items).toHaveLength(1);
  ok(await call('DELETE', `/v1/ns/${ns}/locks/L`, undefined, { 'X-Lease-Id': lease }), 204);
  ok(await call('DELETE', `/v1/leases/${lease}`), 204);
  // Sagas: one that completes, one whose second step fails and is compensated.
  const step = (name: string, key: string, by: number, require?: unknown) => ({
    name,
    action: { op: 'patch', key, increment: { n: by }, ...(require ? { require } : {}) },
    compensation: { op: 'patch', key, increment: { n: -by } },
  });
  ok(
    await call('POST', '/v1/sagas', {
      id: `${ns}-ok`,
      namespace: ns,
      steps: [
        step('one', 'a', 1),
        { name: 'two', action: { op: 'delete', key: 'b' } },
        { name: 'three', action: { op: 'delete', key: 'never' } },
      ],
    }),
    202,
  );
  ok(
    await call('POST', '/v1/sagas', {
      id: `${ns}-undo`,
      namespace: ns,
      steps: [step('one', 'a', 1), step('two', 'a', 1, [{ field: 'n', op: '>', value: 1000 }])],
    }),
    202,
  );
  await workflows.settled();
  expect(ok(await call('GET', `/v1/sagas/${ns}-undo`), 200).body.status).toBe('COMPENSATED');
  ok(await call('GET', '/v1/sagas?status=COMPENSATED&limit=5'), 200);
  ok(await call('GET', '/v1/sagas?limit=2'), 200);
  ok(
    await call('POST', '/v1/sagas', {
      id: `${ns}-ok`,
      namespace: ns,
      steps: [
        step('one', 'a', 1),
        { name: 'two', action: { op: 'delete', key: 'b' } },
        { name: 'three', action: { op: 'delete', key: 'never' } },
      ],
    }),
    200,
  );
  // Snapshots: a namespace and the whole store; a restore into a namespace with a newer and a leased record.
  const snap = ok(await call('POST', '/v1/snapshots', { namespace: ns }), 202).body.id;
  await workflows.settled();
  ok(await call('GET', `/v1/snapshots?namespace=${ns}`), 200);
  ok(await call('PUT', `/v1/ns/${other}/keys/a`, { fields: { newer: true } }), 201);
  for (let i = 0; i < 3; i++) ok(await call('PATCH', `/v1/ns/${other}/keys/a`, { increment: { n: 1 } }), 200);
  const keeper = ok(await call('POST', '/v1/leases', { ttlSeconds: 30 }), 201).body.id;
  ok(await call('PUT', `/v1/ns/${other}/keys/b`, { fields: {} }, { 'X-Lease-Id': keeper }), 201);
  const restore = ok(await call('POST', `/v1/snapshots/${snap}/restore`, { namespace: other, mode: 'newer' }), 202).body
    .id;
  ok(await call('GET', `/v1/restores/${restore}`), 200);
  await workflows.settled();
  expect(ok(await call('GET', `/v1/restores/${restore}`), 200).body.status).toBe('COMPLETE');
  ok(await call('POST', '/v1/snapshots', {}), 202);
  await workflows.settled();
  // The schedule function: a scheduled whole-store snapshot and the age report.
  const schedule = createScheduleHandler(
    wireSnapshotWorker({ client: clientOf('schedule'), env, blobs: new FsBlobStore(blobDir), workflows, inFlight }),
    { segments: 2 },
  );
  await schedule({ action: 'scheduledStart' });
  await schedule({ action: 'reportAge' });
  await workflows.settled();
  // The lease jobs: the renewer keeps a running execution's lease, the reaper removes an expired one.
  const arn = workflows.executionArn('saga', `${ns}-running`);
  ok(await call('POST', '/v1/leases', { ttlSeconds: 30, executionArn: arn }), 201);
  executions.record(arn, 'RUNNING');
  expect(
    (await wireLeaseJobs(executions, { client: clientOf('renewer'), env }).renewer.run()).renewed,
  ).toBeGreaterThanOrEqual(1);
  const short = ok(await call('POST', '/v1/leases', { ttlSeconds: 5 }), 201).body.id;
  ok(await call('PUT', `/v1/ns/${ns}/keys/short`, { fields: {} }, { 'X-Lease-Id': short }), 201);
  ok(await call('POST', `/v1/ns/${ns}/locks/S`, { leaseId: short }), 200);
  // Field expiry: a field the sweeper removes, and one refreshed by a PATCH whose early bound it
  // fixes. The sweeper runs an hour ahead, so no local stack's sweeper reaches them first.
  ok(await call('PUT', `/v1/ns/${ns}/keys/expiring`, { fields: { n: 1, gone: 1 }, expire: { gone: 1800 } }), 201);
  ok(await call('PUT', `/v1/ns/${ns}/keys/refreshed`, { fields: { n: 1 }, expire: { n: 1800 } }), 201);
  ok(await call('PATCH', `/v1/ns/${ns}/keys/refreshed`, { expire: { n: 7200 } }), 200);
  const ahead = { now: () => new Date(Date.now() + 3_600_000) };
  const sweep = await wireFieldSweeper({ client: clientOf('sweeper'), env, clock: ahead }).sweeper.run();
  expect(sweep.fieldsRemoved).toBeGreaterThanOrEqual(1);
  await sleep(5500);
  expect(
    (await wireLeaseJobs(executions, { client: clientOf('reaper'), env }).reaper.run()).reaped,
  ).toBeGreaterThanOrEqual(1);
  // The change publisher, with a stream record of a committed write.
  const reader = localClient(endpoint());
  const item = (await reader.send(new GetItemCommand({ TableName: env.VESTA_RECORDS_TABLE, Key: keyOf(ns, 'a') })))
    .Item;
  reader.destroy();
  const publisher = { ...wireChangePublisher({ client: clientOf('publisher'), env, bus: new LocalEventBus() }) };
  await publishBatch([{ eventName: 'MODIFY', dynamodb: { NewImage: item, SequenceNumber: '1' } }], publisher);

  // A snapshot with a record written after its cut: the publisher keeps its pre-image (here: none,
  // it was created after the cut), the export reads it and leaves the record out.
  const late = uniqueNs('iam-late');
  ok(await call('PUT', `/v1/ns/${late}/keys/before`, { fields: { n: 1 } }), 201);
  const lateSnap = ok(await call('POST', '/v1/snapshots', { namespace: late }), 202).body.id;
  let cut: string | undefined;
  while (!cut) {
    cut = ok(await call('GET', `/v1/snapshots/${lateSnap}`), 200).body.cut;
    if (!cut) await sleep(20);
  }
  const after = {
    ...item!,
    ns: { S: late },
    k: { S: 'after' },
    at: { S: new Date(Date.parse(cut) + 1).toISOString() },
  };
  const writer = localClient(endpoint());
  await writer.send(new PutItemCommand({ TableName: env.VESTA_RECORDS_TABLE, Item: after }));
  writer.destroy();
  const keeping = { ...wireChangePublisher({ client: clientOf('publisher'), env, bus: new LocalEventBus() }) };
  const kept = await publishBatch(
    [{ eventName: 'INSERT', dynamodb: { Keys: keyOf(late, 'after'), NewImage: after, SequenceNumber: '2' } }],
    keeping,
  );
  expect(kept.batchItemFailures).toEqual([]);
  await workflows.settled();
  expect(ok(await call('GET', `/v1/snapshots/${lateSnap}`), 200).body).toMatchObject({
    status: 'COMPLETE',
    items: 1,
    cut,
  });

  const report: Record<string, { used: string[]; allowedUnused: string[]; usedNotAllowed: string[] }> = {};
  for (const f of Object.keys(recorders) as Fn[]) {
    const used = recorders[f].used;
    const grant = allowed(f);
    const fallback = new Set(GRANTED_FOR_A_FALLBACK[f] ?? []);
    report[f] = {
      used: sorted(used),
      allowedUnused: sorted(
        new Set(
          [...grant].filter(
            (a) => !used.has(a) && !fallback.has(a) && !EXERCISED_ELSEWHERE.has(a.split(' ')[1].split('/')[0]),
          ),
        ),
      ),
      usedNotAllowed: sorted(new Set([...used].filter((a) => !grant.has(a)))),
    };
  }
  if (process.env.VESTA_PRINT_ACTIONS)
    console.log(JSON.stringify(Object.fromEntries(Object.entries(report).map(([f, r]) => [f, r.used])), null, 1));
  for (const f of Object.keys(report)) {
    expect({ fn: f, usedNotAllowed: report[f].usedNotAllowed }).toEqual({ fn: f, usedNotAllowed: [] });
    expect({ fn: f, allowedUnused: report[f].allowedUnused }).toEqual({ fn: f, allowedUnused: [] });
  }
});
