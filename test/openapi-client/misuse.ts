/**
 * Calls the generated types must refuse: each line after `@ts-expect-error` is a mistake, and the
 * type check fails on an unused directive, so every mistake here must really be a type error.
 * Type-checked by test/unit/openapi-typed-client.test.ts; never run.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

type Schemas = components['schemas'];

export async function misuse(baseUrl: string, ns: string): Promise<void> {
  const client = createClient<paths>({ baseUrl });
  const path = { ns, key: 'cart/42' };

  // A misspelt PATCH member.
  // @ts-expect-error `incremnt` is not a PATCH member
  await client.PATCH('/v1/ns/{ns}/keys/{key}', { params: { path }, body: { incremnt: { qty: 1 } } });

  // An increment that is not a number.
  // @ts-expect-error `increment` amounts are numbers
  await client.PATCH('/v1/ns/{ns}/keys/{key}', { params: { path }, body: { increment: { qty: '1' } } });

  // A require clause with an op the contract does not have.
  await client.PATCH('/v1/ns/{ns}/keys/{key}', {
    params: { path },
    // @ts-expect-error `=~` is not a require op
    body: { require: [{ field: 'q', op: '=~', value: 1 }] },
  });

  // A comparison without its value.
  // @ts-expect-error `>=` needs a `value`
  await client.PATCH('/v1/ns/{ns}/keys/{key}', { params: { path }, body: { require: [{ field: 'qty', op: '>=' }] } });

  // A PATCH that only requires: it needs at least one of `set`, `remove`, `increment`.
  // @ts-expect-error nothing to apply
  await client.PATCH('/v1/ns/{ns}/keys/{key}', { params: { path }, body: { require: [{ field: 'q', op: 'exists' }] } });

  // A transaction op of a type that does not exist.
  await client.POST('/v1/ns/{ns}/txn', {
    params: { path: { ns } },
    // @ts-expect-error `upsert` is not a transaction op
    body: { ops: [{ op: 'upsert', key: 'a', fields: {} }] },
  });

  // A transaction `put` without its required `fields`.
  // @ts-expect-error a `put` op needs `fields`
  await client.POST('/v1/ns/{ns}/txn', { params: { path: { ns } }, body: { ops: [{ op: 'put', key: 'a' }] } });

  // A transaction require entry that mixes an ETag with a field comparison.
  // @ts-expect-error an entry is an ETag, an existence test or a field comparison, not two
  const mixed: Schemas['TxnRequire'] = { key: 'a', etag: '"x"', field: 'qty', op: '>', value: 0 };

  // A PUT without its required body member.
  // @ts-expect-error a PUT body needs `fields`
  await client.PUT('/v1/ns/{ns}/keys/{key}', { params: { path }, body: {} });

  // A number where a string is required.
  // @ts-expect-error a lease id is a string
  await client.POST('/v1/ns/{ns}/locks/{name}', { params: { path: { ns, name: 'l' } }, body: { leaseId: 17 } });

  // A saga action of a type that does not exist.
  await client.POST('/v1/sagas', {
    body: {
      namespace: ns,
      // @ts-expect-error `increment` is not a saga action op
      steps: [{ name: 's', action: { op: 'increment', key: 'a' } }],
    },
  });

  // A lease without its TTL.
  // @ts-expect-error `ttlSeconds` is required
  await client.POST('/v1/leases', { body: {} });

  // `current` of a 412 is the record or null, never a number.
  const failed = await client.PATCH('/v1/ns/{ns}/keys/{key}', { params: { path }, body: { set: { a: 1 } } });
  if (failed.error?.code === 'PreconditionFailed') {
    // @ts-expect-error `current` is a record or null
    const n: number = failed.error.current;
    void n;
  }

  // A path the document does not have.
  // @ts-expect-error there is no `/v1/ns/{ns}/records/{key}`
  await client.GET('/v1/ns/{ns}/records/{key}', { params: { path } });

  void mixed;
}
