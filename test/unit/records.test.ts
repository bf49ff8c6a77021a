import {
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  TypeMismatchError,
  type ValidationError,
} from '../../src/core/errors';
import { etagOf, parseEtag } from '../../src/core/etag';
import { toView } from '../../src/core/record-view';
import { MAX_SIBLINGS, type WriteEnv, applyDelete, applyPatch, applyPut } from '../../src/core/records';
import { parseBody, patchBody, putBody, txnBody } from '../../src/core/wire';
import { fieldsSize, MAX_RECORD_BYTES } from '../../src/core/size';

const env = (mode: WriteEnv['mode'] = 'reject'): WriteEnv => ({
  replica: 'local',
  now: '2026-11-22T10:00:00.000Z',
  mode,
});
const ifMatch = (s: Parameters<typeof etagOf>[0]) => ({ ifMatch: { any: false as const, ctx: parseEtag(etagOf(s)) } });

describe('record transitions', () => {
  test('rev and the ETag keep growing across delete and re-create', () => {
    const a = applyPut(undefined, 'n', 'k', { x: 1 }, {}, env()).state;
    const d = applyDelete(a, {}, env());
    const b = applyPut(d, 'n', 'k', { x: 1 }, {}, env());
    expect([a.rev, d.rev, b.state.rev]).toEqual([1, 2, 3]);
    expect(b.created).toBe(true);
    expect(etagOf(b.state)).not.toBe(etagOf(a));
    expect(toView(d)).toBeNull();
  });

  test('a stale If-Match in reject mode fails with the current record', () => {
    const a = applyPut(undefined, 'n', 'k', { x: 1 }, {}, env()).state;
    const b = applyPut(a, 'n', 'k', { x: 2 }, {}, env()).state;
    let err: unknown;
    try {
      applyPut(b, 'n', 'k', { x: 3 }, ifMatch(a), env());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PreconditionFailedError);
    expect((err as PreconditionFailedError).current).toMatchObject({ fields: { x: 2 }, rev: 2 });
    expect((err as PreconditionFailedError).currentEtag).toBe(etagOf(b));
  });

  test('in siblings mode a write without context keeps the value it has not seen', () => {
    const a = applyPut(undefined, 'n', 'k', { v: 'a' }, {}, env('siblings')).state;
    const b = applyPut(a, 'n', 'k', { v: 'b' }, {}, env('siblings')).state;
    expect(b.siblings.map((s) => s.fields.v)).toEqual(['a', 'b']);
    const resolved = applyPut(b, 'n', 'k', { v: 'ab' }, ifMatch(b), env('siblings')).state;
    expect(resolved.siblings.map((s) => s.fields.v)).toEqual(['ab']);
  });

  test('in siblings mode an older context replaces only what it saw', () => {
    const a = applyPut(undefined, 'n', 'k', { v: 'a' }, {}, env('siblings')).state;
    const b = applyPut(a, 'n', 'k', { v: 'b' }, {}, env('siblings')).state;
    const c = applyPut(b, 'n', 'k', { v: 'c' }, ifMatch(a), env('siblings')).state;
    expect(c.siblings.map((s) => s.fields.v)).toEqual(['b', 'c']);
  });

  test('the sibling cap refuses the write that would pass it', () => {
    let s = applyPut(undefined, 'n', 'k', { i: 0 }, {}, env('siblings')).state;
    for (let i = 1; i < MAX_SIBLINGS; i++) s = applyPut(s, 'n', 'k', { i }, {}, env('siblings')).state;
    expect(s.siblings).toHaveLength(MAX_SIBLINGS);
    expect(() => applyPut(s, 'n', 'k', { i: 99 }, {}, env('siblings'))).toThrow(ConflictError);
  });

  test('PATCH on a record with siblings is a conflict', () => {
    const a = applyPut(undefined, 'n', 'k', { v: 'a' }, {}, env('siblings')).state;
    const b = applyPut(a, 'n', 'k', { v: 'b' }, {}, env('siblings')).state;
    expect(() => applyPatch(b, 'n', 'k', { set: { x: 1 } }, {}, env('siblings'))).toThrow(ConflictError);
  });

  test('PATCH applies set, remove and increment together and creates an absent record', () => {
    const t = applyPatch(undefined, 'n', 'k', { set: { s: 'x' }, increment: { n: 2 } }, {}, env());
    expect(t.created).toBe(true);
    const u = applyPatch(t.state, 'n', 'k', { remove: ['s'], increment: { n: -1, m: 1 } }, {}, env());
    expect(u.state.siblings[0].fields).toEqual({ n: 1, m: 1 });
  });

  test('PATCH require clauses report the failing indexes and write nothing', () => {
    const a = applyPut(undefined, 'n', 'k', { qty: 1, s: 'b' }, {}, env()).state;
    const clauses = [
      { field: 'qty', op: '>=' as const, value: 1 },
      { field: 'qty', op: '>' as const, value: 1 },
      { field: 'missing', op: '!=' as const, value: 1 },
      { field: 's', op: '<' as const, value: 'c' },
      { field: 's', op: '<' as const, value: 5 },
    ];
    try {
      applyPatch(a, 'n', 'k', { set: { z: 1 }, require: clauses }, {}, env());
      throw new Error('expected a failure');
    } catch (e) {
      expect((e as PreconditionFailedError).failed).toEqual([1, 2, 4]);
    }
  });

  test('increment of a non-number is a type mismatch naming the field', () => {
    const a = applyPut(undefined, 'n', 'k', { s: 'x' }, {}, env()).state;
    expect(() => applyPatch(a, 'n', 'k', { increment: { s: 1 } }, {}, env())).toThrow(TypeMismatchError);
  });

  test('DELETE of an absent record is not found', () => {
    expect(() => applyDelete(undefined, {}, env())).toThrow(NotFoundError);
  });

  test('a record over 350 KiB is refused', () => {
    const big = 'x'.repeat(MAX_RECORD_BYTES);
    expect(fieldsSize({ big })).toBeGreaterThan(MAX_RECORD_BYTES);
    expect(() => applyPut(undefined, 'n', 'k', { big }, {}, env())).toThrow(PayloadTooLargeError);
  });
});

describe('request bodies', () => {
  const fails = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return e as ValidationError;
    }
    throw new Error('expected a ValidationError');
  };

  test('an unknown member is named in the error', () => {
    expect(fails(() => parseBody(putBody, { fields: {}, extra: 1 })).field).toBe('body.extra');
  });

  test('a require op outside the list is refused with its path', () => {
    expect(
      fails(() => parseBody(patchBody, { set: { a: 1 }, require: [{ field: 'a', op: '~', value: 1 }] })).field,
    ).toBe('body.require[0].op');
  });

  test('exists takes no value and comparisons need one', () => {
    expect(
      fails(() => parseBody(patchBody, { set: { a: 1 }, require: [{ field: 'a', op: 'exists', value: 1 }] })).field,
    ).toBe('body.require[0].value');
    expect(fails(() => parseBody(patchBody, { set: { a: 1 }, require: [{ field: 'a', op: '==' }] })).field).toBe(
      'body.require[0].value',
    );
  });

  test('a patch needs an operation and may not touch a field twice', () => {
    expect(fails(() => parseBody(patchBody, { require: [] })).message).toMatch(/at least one/);
    expect(fails(() => parseBody(patchBody, { set: { a: 1 }, increment: { a: 1 } })).field).toBe('body.increment.a');
  });

  test('a transaction may not name a key in two ops', () => {
    const e = fails(() =>
      parseBody(txnBody, {
        ops: [
          { op: 'delete', key: 'a' },
          { op: 'put', key: 'a', fields: {} },
        ],
      }),
    );
    expect(e.field).toBe('body.ops[1].key');
  });

  test('numbers DynamoDB cannot store are refused', () => {
    expect(fails(() => parseBody(putBody, { fields: { n: 1e300 } })).field).toBe('body.fields.n');
  });
});
