/**
 * The field sweeper's decision for one record (`src/core/field-sweep.ts`): write, fix the bound,
 * or leave it.
 */
import { lagSeconds, sweepPlan } from '../../src/core/field-sweep';
import type { RecordState, Sibling } from '../../src/core/record-view';

const T = Date.parse('2030-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function record(siblings: Sibling[], over: Partial<RecordState> = {}): RecordState {
  return {
    namespace: 'ns',
    key: 'k',
    inc: 'i',
    rev: 3,
    vv: { a: 3 },
    siblings,
    deleted: false,
    updatedAt: iso(T),
    ...over,
  };
}
const value = (fields: Sibling['fields'], expires?: Sibling['expires']): Sibling => ({
  fields,
  ...(expires ? { expires } : {}),
  dot: { replica: 'a', counter: 3 },
  at: iso(T),
});

test('a due field: the write drops it, with the next rev and the replica bumped', () => {
  const s = record([value({ x: 1, y: 2 }, { y: T + 1000 })]);
  const plan = sweepPlan(s, T + 1000, T + 2000, 'b', iso(T + 2000));
  expect(plan).toMatchObject({ kind: 'write', expired: ['y'] });
  if (plan.kind !== 'write') throw new Error('a write');
  expect(plan.state).toMatchObject({ rev: 4, vv: { a: 3, b: 1 }, updatedAt: iso(T + 2000), deleted: false });
  expect(plan.state.siblings).toEqual([{ fields: { x: 1 }, dot: { replica: 'b', counter: 1 }, at: iso(T + 2000) }]);
});

test("the write's stamp never goes below the stored one", () => {
  const s = record([value({ y: 2 }, { y: T })], { updatedAt: iso(T + 60000) });
  const plan = sweepPlan(s, T, T + 1000, 'a', iso(T + 1000));
  expect(plan).toMatchObject({ kind: 'write', state: { deleted: true, updatedAt: iso(T + 60000) } });
});

test('nothing due under an early bound: move the bound to the earliest expiry', () => {
  const s = record([value({ x: 1 }, { x: T + 90000 })]);
  expect(sweepPlan(s, T, T + 1000, 'a', iso(T + 1000))).toEqual({ kind: 'bound', due: T + 90000 });
});

test('no expiry left, or a tombstone, under a bound: remove it; an exact bound: nothing to do', () => {
  expect(sweepPlan(record([value({ x: 1 })]), T, T + 1000, 'a', iso(T))).toEqual({ kind: 'bound', due: undefined });
  expect(sweepPlan(record([], { deleted: true }), T, T + 1000, 'a', iso(T))).toEqual({
    kind: 'bound',
    due: undefined,
  });
  const s = record([value({ x: 1 }, { x: T + 5000 })]);
  expect(sweepPlan(s, T + 5000, T + 1000, 'a', iso(T))).toEqual({ kind: 'none' });
  expect(sweepPlan(record([value({ x: 1 })]), undefined, T, 'a', iso(T))).toEqual({ kind: 'none' });
});

test('siblings: each value loses only its own due field, and keeps its dot', () => {
  const s = record([
    value({ x: 1, a: 1 }, { a: T }),
    { ...value({ y: 2, b: 2 }, { b: T + 9000 }), dot: { replica: 'c', counter: 1 } },
  ]);
  const plan = sweepPlan(s, T, T + 1000, 'a', iso(T + 1000));
  if (plan.kind !== 'write') throw new Error('a write');
  expect(plan.expired).toEqual(['a']);
  expect(plan.state.siblings.map((v) => [v.fields, v.dot.replica])).toEqual([
    [{ x: 1 }, 'a'],
    [{ y: 2, b: 2 }, 'c'],
  ]);
});

test('lag: whole seconds from the oldest due time removed, 0 without one or when ahead', () => {
  expect(lagSeconds(T + 61400, T)).toBe(61);
  expect(lagSeconds(T, undefined)).toBe(0);
  expect(lagSeconds(T, T + 5000)).toBe(0);
});
