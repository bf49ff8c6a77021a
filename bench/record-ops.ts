/**
 * The record operations both sides run, shared by the handler bench (records.bench.ts), the HTTP
 * bench (http.bench.ts) and the scaling table (scaling.bench.ts): each Vesta operation through a
 * `Call` (the handler with the proxy events the local gateway builds, or HTTP to the local stack),
 * and the hand-written DynamoDB request an application would send for the same effect on a copy
 * of the same item.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { ApiHandler } from '../src/api/app';
import { type Item, keyOf, marshallFields } from '../src/adapters/dynamodb/codec';
import { type Call, expectStatus, gateway } from './gateway';
import type { Step } from './lib';

export const NS = 'bench';

/** A record of a few hundred bytes, the same on both sides. */
export const FIELDS = {
  name: 'benchmark record',
  count: 0,
  n: 0,
  active: true,
  tags: ['alpha', 'beta', 'gamma'],
  address: { city: 'Lisbon', zip: '1000-001', lines: ['Rua Augusta 1', '2nd floor'] },
  note: 'x'.repeat(200),
};

/** The records API of namespace `ns`, through `call`. */
export function recordsOf(call: Call, ns = NS) {
  return (method: string, key: string, body?: unknown, extra: Record<string, string> = {}) =>
    call(method, `/v1/ns/${ns}/keys/${encodeURIComponent(key)}`, body, extra);
}

/** The records API of namespace NS, through the handler. */
export function records(handler: ApiHandler) {
  return recordsOf(gateway(handler));
}

export type Records = ReturnType<typeof recordsOf>;

const expect = expectStatus;

export interface Op {
  readonly name: string;
  /** What the raw side sends, for the results file. */
  readonly baseline: string;
  readonly vesta: Step;
  readonly raw: Step;
}

/** Names of the operations `operations` returns. */
export const HANDLER_OPS = ['get', 'put', 'patch If-Match', 'increment', 'patch expire'] as const;
export type OpName = (typeof HANDLER_OPS)[number] | 'put If-Match';

/**
 * The operations named (by default the five of the handler bench), on namespace `ns` of `call`'s
 * records table `table`; each keeps the state it chains on (ETag, rev) in its closures.
 */
export async function operations(
  call: Records,
  client: DynamoDBClient,
  table: string,
  names: readonly OpName[] = HANDLER_OPS,
  ns = NS,
): Promise<Op[]> {
  const seeded: Record<string, string> = {};
  for (const key of ['get', 'put', 'patch', 'incr', 'putm', 'expire']) {
    const reply = expect(await call('PUT', key, { fields: FIELDS })(), [201], `seed ${key}`);
    seeded[key] = reply.etag ?? '';
    // The raw side works on a copy of the very item Vesta wrote.
    const out = await client.send(new GetItemCommand({ TableName: table, Key: keyOf(ns, key), ConsistentRead: true }));
    await client.send(new PutItemCommand({ TableName: table, Item: { ...out.Item!, k: { S: `raw-${key}` } } }));
  }
  const now = () => ({ S: new Date().toISOString() });
  const update = (key: string, input: Omit<ConstructorParameters<typeof UpdateItemCommand>[0], 'TableName' | 'Key'>) =>
    new UpdateItemCommand({ TableName: table, Key: keyOf(ns, `raw-${key}`), ReturnValues: 'ALL_NEW', ...input });

  let etag = seeded.patch;
  let rev = 1;
  let putEtag = seeded.putm;
  let putRev = 1;
  const all: Op[] = [
    {
      name: 'get',
      baseline: 'GetItem, ConsistentRead',
      vesta: () => {
        const run = call('GET', 'get');
        return async () => void expect(await run(), [200], 'GET');
      },
      raw: () => {
        const cmd = new GetItemCommand({ TableName: table, Key: keyOf(ns, 'raw-get'), ConsistentRead: true });
        return async () => {
          if (!(await client.send(cmd)).Item) throw new Error('raw GetItem: no item');
        };
      },
    },
    {
      name: 'put',
      baseline: 'UpdateItem SET f, rev + 1, at; ReturnValues ALL_NEW',
      vesta: (i) => {
        const run = call('PUT', 'put', { fields: { ...FIELDS, count: i } });
        return async () => void expect(await run(), [200], 'PUT');
      },
      raw: (i) => {
        const cmd = update('put', {
          UpdateExpression: 'SET #f = :f, #rev = if_not_exists(#rev, :0) + :1, #at = :at',
          ExpressionAttributeNames: { '#f': 'f', '#rev': 'rev', '#at': 'at' },
          ExpressionAttributeValues: {
            ':f': marshallFields({ ...FIELDS, count: i }),
            ':0': { N: '0' },
            ':1': { N: '1' },
            ':at': now(),
          },
        });
        return async () => void (await client.send(cmd));
      },
    },
    {
      name: 'patch If-Match',
      baseline: 'UpdateItem SET f.count, rev + 1, at IF rev = :seen; ReturnValues ALL_NEW',
      vesta: (i) => {
        const run = call('PATCH', 'patch', { set: { count: i } }, { 'if-match': etag });
        return async () => {
          etag = expect(await run(), [200], 'PATCH If-Match').etag ?? '';
        };
      },
      raw: (i) => {
        const cmd = update('patch', {
          UpdateExpression: 'SET #f.#c = :c, #rev = #rev + :1, #at = :at',
          ConditionExpression: '#rev = :rev',
          ExpressionAttributeNames: { '#f': 'f', '#c': 'count', '#rev': 'rev', '#at': 'at' },
          ExpressionAttributeValues: {
            ':c': { N: String(i) },
            ':1': { N: '1' },
            ':rev': { N: String(rev) },
            ':at': now(),
          },
        });
        return async () => {
          rev = Number((await client.send(cmd)).Attributes!.rev.N);
        };
      },
    },
    {
      name: 'put If-Match',
      baseline: 'UpdateItem SET f, rev + 1, at IF rev = :seen; ReturnValues ALL_NEW',
      vesta: (i) => {
        const run = call('PUT', 'putm', { fields: { ...FIELDS, count: i } }, { 'if-match': putEtag });
        return async () => {
          putEtag = expect(await run(), [200], 'PUT If-Match').etag ?? '';
        };
      },
      raw: (i) => {
        const cmd = update('putm', {
          UpdateExpression: 'SET #f = :f, #rev = #rev + :1, #at = :at',
          ConditionExpression: '#rev = :rev',
          ExpressionAttributeNames: { '#f': 'f', '#rev': 'rev', '#at': 'at' },
          ExpressionAttributeValues: {
            ':f': marshallFields({ ...FIELDS, count: i }),
            ':1': { N: '1' },
            ':rev': { N: String(putRev) },
            ':at': now(),
          },
        });
        return async () => {
          putRev = Number((await client.send(cmd)).Attributes!.rev.N);
        };
      },
    },
    {
      name: 'increment',
      baseline: 'UpdateItem SET f.n = if_not_exists(f.n, 0) + 1; ReturnValues ALL_NEW',
      vesta: () => {
        const run = call('PATCH', 'incr', { increment: { n: 1 } });
        return async () => void expect(await run(), [200], 'PATCH increment');
      },
      raw: () => {
        const cmd = update('incr', {
          UpdateExpression: 'SET #f.#n = if_not_exists(#f.#n, :0) + :1',
          ExpressionAttributeNames: { '#f': 'f', '#n': 'n' },
          ExpressionAttributeValues: { ':0': { N: '0' }, ':1': { N: '1' } },
        });
        return async () => void (await client.send(cmd));
      },
    },
    {
      // A field with a lifetime (a session token refreshed): Vesta keeps its due time next to it
      // and checks it on every read; the raw side stores the same due time and checks nothing.
      name: 'patch expire',
      baseline: 'UpdateItem SET f.token, fx.token = due; ReturnValues ALL_NEW',
      vesta: (i) => {
        const run = call('PATCH', 'expire', { set: { token: `t${i}` }, expire: { token: 3600 } });
        return async () => void expect(await run(), [200], 'PATCH expire');
      },
      raw: (i) => {
        const cmd = update('expire', {
          UpdateExpression: 'SET #f.#t = :t, #fx.#t = :due',
          ExpressionAttributeNames: { '#f': 'f', '#fx': 'fx', '#t': 'token' },
          ExpressionAttributeValues: { ':t': { S: `t${i}` }, ':due': { N: String(Date.now() + 3_600_000) } },
        });
        return async () => void (await client.send(cmd));
      },
    },
  ];
  return names.map((n) => {
    const op = all.find((o) => o.name === n);
    if (!op) throw new Error(`no operation ${n}`);
    return op;
  });
}

/** Both sides must have done every write: rev after the patches, the counter after the increments. */
export async function checkOutcome(
  client: DynamoDBClient,
  table: string,
  patches: number,
  increments: number,
  ns = NS,
): Promise<void> {
  const item = async (key: string): Promise<Item> =>
    (await client.send(new GetItemCommand({ TableName: table, Key: keyOf(ns, key), ConsistentRead: true }))).Item!;
  const [patched, rawPatched, incr, rawIncr] = await Promise.all(['patch', 'raw-patch', 'incr', 'raw-incr'].map(item));
  const checks: Array<[string, string | undefined, number]> = [
    ['vesta patch rev', patched.rev.N, 1 + patches],
    ['raw patch rev', rawPatched.rev.N, 1 + patches],
    ['vesta counter', incr.f.M?.n.N, increments],
    ['raw counter', rawIncr.f.M?.n.N, increments],
  ];
  for (const [what, got, want] of checks) {
    if (Number(got) !== want) throw new Error(`outcome check: ${what} is ${got}, expected ${want}`);
  }
}
