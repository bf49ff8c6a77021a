/**
 * Fuzzing the records routes of a deployment in two Regions (the regional layout of
 * docs/regions.md) through the real handler on two replicated DynamoDB Locals: generated keys,
 * field names (`__proto__`, `constructor`...), numbers at and past their limits, PATCH and txn
 * bodies, each sent to a generated Region. Every answer is below 500 and every error a problem
 * document; an accepted PUT reads back exactly in its Region; a refused write leaves its record as
 * it was there; and once replication settles both Regions read every key the same.
 */
import fc from 'fast-check';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { RECORDS_TABLE } from '../../../src/adapters/dynamodb/table-defs';
import { createApiHandler } from '../../../src/api/app';
import { wireApi } from '../../../src/api/wiring';
import { invoke } from '../../../src/local/server';
import { ALL_MACHINES } from '../../../src/sagas/state-machines';
import {
  Fuzzer,
  decodedKey,
  exact,
  fieldName,
  keyPath,
  numberText,
  objectText,
  rawKey,
  sameJson,
  valueText,
} from '../fuzz-gen';
import { type Reply, type TestApi, replyOf } from '../harness';
import { Replicator } from './replicator';

jest.setTimeout(300_000);

const REGIONS = ['us-east-1', 'eu-west-1'];
const machines = Object.fromEntries(
  ALL_MACHINES.map(({ def }) => [def.envVar, `arn:aws:states:us-east-1:000000000000:stateMachine:${def.id}`]),
);
const RUNS = Number(process.env.VESTA_REGION_FUZZ_RUNS ?? 150);

let rep: Replicator;
const handlers: ReturnType<typeof createApiHandler>[] = [];
/** The Region the next request goes to (an index into REGIONS). */
let region = 0;

/** The harness's `call`, on the handler of the current Region. */
async function send(method: string, path: string, opts: { body?: string; headers?: Record<string, string> } = {}) {
  return replyOf(await invoke(handlers[region], method, path, opts.headers ?? {}, Buffer.from(opts.body ?? '')));
}

const fuzz = new Fuzzer({ call: send } as unknown as TestApi);
const call = (method: string, path: string, body?: string) => fuzz.call(method, path, body);
const ns = `rfz-${process.pid % 10_000}`;
const touched = new Set<string>();

beforeAll(async () => {
  rep = await Replicator.start({ regions: REGIONS, jitterMs: 5, seed: 3 });
  const table = rep.tables[RECORDS_TABLE.envVar];
  for (const r of REGIONS) {
    await rep.region(r).client.send(new PutItemCommand({ TableName: table, Item: { ns: { S: 'warm' }, k: { S: r } } }));
    const env = { ...rep.tables, ...machines, VESTA_REPLICA: r, VESTA_REGIONS: REGIONS.join(',') };
    handlers.push(createApiHandler(wireApi({ client: rep.region(r).client, env })));
  }
  await rep.settle();
  // The Regions write apart until the last test heals them: a Region's records change only by its
  // own writes meanwhile (so a refused write can be seen to change nothing), and the same keys
  // written in both meet at the end.
  rep.partition(REGIONS[0], REGIONS[1]);
}, 60_000);

afterAll(async () => {
  await rep?.stop();
  console.log(fuzz.summary('regional records fuzz'));
});

/** The record's ETag and exact fields in the current Region, or the status when it has none. */
async function state(key: string): Promise<{ etag?: string; fields?: unknown; status: number }> {
  const r = await call('GET', `/v1/ns/${ns}/keys/${keyPath(key)}`);
  return r.status === 200
    ? { status: 200, etag: r.headers.etag, fields: (exact(r) as { fields: unknown }).fields }
    : { status: r.status };
}

/** A write in the current Region; when refused, its record there must not have changed. */
async function write(method: string, key: string | undefined, path: string, body?: string): Promise<Reply> {
  if (key !== undefined) touched.add(key);
  const before = key === undefined ? undefined : await state(key);
  const r = await call(method, path, body);
  if (r.status >= 400 && key !== undefined) expect(await state(key)).toEqual(before);
  return r;
}

const inRegion = fc.nat(REGIONS.length - 1);

test('PUT: any body, in any Region, is accepted with its exact values there or refused without writing', async () => {
  await fc.assert(
    fc.asyncProperty(
      inRegion,
      fc.oneof(rawKey, fc.constantFrom('k1', 'k2', 'a/b')),
      objectText(fieldName, valueText(3), 6),
      async (r, raw, fields) => {
        region = r;
        const key = decodedKey(raw);
        const body = `{"fields":${fields}}`;
        const res = await write('PUT', key, `/v1/ns/${ns}/keys/${raw}`, body);
        if (res.status >= 400) return;
        const sent = (exact({ text: body } as Reply) as { fields: unknown }).fields;
        expect(sameJson((exact(res) as { fields: unknown }).fields, sent)).toBe(true);
        expect(sameJson((await state(key!)).fields, sent)).toBe(true);
      },
    ),
    { numRuns: RUNS },
  );
});

test('PATCH: generated set/remove/increment/require/expire bodies in any Region never answer 5xx nor half-apply', async () => {
  const clause = fc
    .tuple(fieldName, fc.constantFrom('==', '!=', '<', '>=', 'exists', 'absent'), fc.option(valueText(1)))
    .map(([f, op, v]) => `{"field":${JSON.stringify(f)},"op":"${op}"${v === null ? '' : `,"value":${v}`}}`);
  const part = fc.record(
    {
      set: objectText(fieldName, valueText(2), 4),
      remove: fc.array(fieldName, { maxLength: 3 }).map((xs) => JSON.stringify(xs)),
      increment: objectText(fc.oneof(fieldName, fc.constantFrom('n', '__proto__', 'constructor')), numberText, 3),
      require: fc.array(clause, { maxLength: 2 }).map((xs) => `[${xs.join(',')}]`),
      expire: objectText(fieldName, fc.constantFrom('0', '1', '30', '31536001', '"x"'), 2),
      persist: fc.array(fieldName, { maxLength: 2 }).map((xs) => JSON.stringify(xs)),
    },
    { requiredKeys: [] },
  );
  await fc.assert(
    fc.asyncProperty(inRegion, fc.constantFrom('p1', 'p2', ' ', 'p/3', 'k1'), part, async (r, key, parts) => {
      region = r;
      const body = `{${Object.entries(parts)
        .map(([k, v]) => `"${k}":${v}`)
        .join(',')}}`;
      await write('PATCH', key, `/v1/ns/${ns}/keys/${keyPath(key)}`, body);
    }),
    { numRuns: RUNS },
  );
});

test('txn: generated ops and requires over shared keys, in any Region, never answer 5xx', async () => {
  const op = fc.oneof(
    fc
      .tuple(fc.constantFrom('t1', 't2', 'k1'), objectText(fieldName, valueText(1), 2))
      .map(([k, f]) => `{"op":"put","key":"${k}","fields":${f}}`),
    fc
      .tuple(fc.constantFrom('t1', 't2', 'p1'), objectText(fc.constantFrom('n', '__proto__', 'x'), numberText, 2))
      .map(([k, inc]) => `{"op":"patch","key":"${k}","increment":${inc}}`),
    fc.constantFrom('t1', 't3').map((k) => `{"op":"delete","key":"${k}"}`),
  );
  const req = fc.oneof(
    fc.constantFrom('{"key":"t1","exists":true}', '{"key":"t2","exists":false}', '{"key":"t1","etag":"\\"x\\""}'),
    fc
      .tuple(fc.constantFrom('t1', 't2'), numberText)
      .map(([k, v]) => `{"key":"${k}","field":"n","op":">=","value":${v}}`),
  );
  await fc.assert(
    fc.asyncProperty(
      inRegion,
      fc.array(op, { minLength: 1, maxLength: 3 }),
      fc.array(req, { maxLength: 2 }),
      async (r, ops, reqs) => {
        region = r;
        for (const k of ['t1', 't2', 't3']) touched.add(k);
        await call('POST', `/v1/ns/${ns}/txn`, `{"ops":[${ops.join(',')}],"require":[${reqs.join(',')}]}`);
      },
    ),
    { numRuns: RUNS },
  );
});

test('GET, DELETE and list take any key and query in any Region without 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(inRegion, rawKey, fc.string({ maxLength: 8 }), async (r, raw, q) => {
      region = r;
      await call('GET', `/v1/ns/${ns}/keys/${raw}`);
      await write('DELETE', decodedKey(raw), `/v1/ns/${ns}/keys/${raw}`);
      await call('GET', `/v1/ns/${ns}/keys?prefix=${encodeURIComponent(q)}&limit=3&fields=true`);
    }),
    { numRuns: RUNS },
  );
});

test('once the Regions heal and replication settles, both read every key the fuzz touched the same', async () => {
  rep.healAll();
  await rep.settle();
  for (const key of touched) {
    const seen: Reply[] = [];
    for (const r of REGIONS.keys()) {
      region = r;
      seen.push(await call('GET', `/v1/ns/${ns}/keys/${keyPath(key)}`));
    }
    const [a, b] = seen;
    expect({ key, status: b.status, etag: b.headers.etag }).toEqual({ key, status: a.status, etag: a.headers.etag });
    // The same record, member for member (JSON member order is not part of a record).
    expect({ key, same: sameJson(exact(a), exact(b)) }).toEqual({ key, same: true });
  }
  expect(touched.size).toBeGreaterThan(5);
});
