/**
 * Field expiry as pure functions: what reads see at an instant (`visibleAt`), what the sweeper
 * writes (`sweptState`), and the PUT/PATCH transitions' expiry rules, as properties over generated
 * values, due times and instants.
 */
import fc from 'fast-check';
import { PreconditionFailedError } from '../../src/core/errors';
import { dueFields, earliestDue, sweptState, visibleAt } from '../../src/core/field-expiry';
import { type RecordState, type Sibling, isLive, toView } from '../../src/core/record-view';
import { applyPatch, applyPut } from '../../src/core/records';

const T0 = Date.parse('2026-12-01T00:00:00.000Z');
const names = fc.constantFrom('a', 'b', 'c', '__proto__', 'constructor', 'x y');

/** A value: some fields, some of them with a due time within 10 s of T0. */
const sibling = (n: number): fc.Arbitrary<Sibling> =>
  fc
    .uniqueArray(fc.tuple(names, fc.integer(), fc.option(fc.integer({ min: 0, max: 10_000 }))), {
      selector: ([k]) => k,
      maxLength: 4,
    })
    .map((members) => {
      const fields = Object.create(null);
      const expires = Object.create(null);
      for (const [k, v, due] of members) {
        fields[k] = v;
        if (due !== null) expires[k] = T0 + due;
      }
      const at = new Date(T0).toISOString();
      return Object.keys(expires).length
        ? { fields, expires, dot: { replica: 'r', counter: n }, at }
        : { fields, dot: { replica: 'r', counter: n }, at };
    });

const state = fc.integer({ min: 1, max: 3 }).chain((count) =>
  fc.tuple(...Array.from({ length: count }, (_, i) => sibling(i + 1))).map(
    (siblings): RecordState => ({
      namespace: 'ns',
      key: 'k',
      inc: 'inc',
      rev: siblings.length,
      vv: { r: siblings.length },
      siblings,
      deleted: false,
      updatedAt: new Date(T0).toISOString(),
    }),
  ),
);
const instant = fc.integer({ min: -1, max: 10_001 }).map((d) => T0 + d);

test('a field is visible until 1 ms before its due time and gone from it on, in every value', () => {
  fc.assert(
    fc.property(state, instant, (s, now) => {
      const seen = visibleAt(s, now);
      s.siblings.forEach((v) => {
        const after = seen.siblings.find((x) => x.dot.counter === v.dot.counter);
        for (const f of Object.keys(v.fields)) {
          const due = v.expires?.[f];
          const shown = after !== undefined && Object.hasOwn(after.fields, f);
          expect(shown).toBe(due === undefined || now < due);
        }
      });
    }),
  );
});

test('once gone, a field stays gone; a record with no value left reads as absent, rev and vv kept', () => {
  fc.assert(
    fc.property(state, instant, fc.integer({ min: 0, max: 5_000 }), (s, now, later) => {
      const a = visibleAt(s, now);
      const b = visibleAt(s, now + later);
      for (const v of b.siblings) {
        const before = a.siblings.find((x) => x.dot.counter === v.dot.counter);
        expect(before).toBeDefined();
        for (const f of Object.keys(v.fields)) expect(Object.hasOwn(before!.fields, f)).toBe(true);
      }
      if (b.siblings.length === 0) expect([b.rev, b.vv, b.deleted]).toEqual([s.rev, s.vv, true]);
      const emptied = s.siblings.every((v) => {
        const keys = Object.keys(v.fields);
        return keys.length > 0 && keys.every((f) => v.expires?.[f] !== undefined && v.expires[f] <= now);
      });
      expect(isLive(a)).toBe(!emptied);
    }),
  );
});

test('the sweeper writes what reads already see, as the next rev, and removes exactly the due fields', () => {
  fc.assert(
    fc.property(state, instant, (s, now) => {
      const out = sweptState(s, now, 'r', new Date(now).toISOString());
      const due = dueFields(s, now);
      if (due.length === 0) {
        expect(out).toBeUndefined();
        return;
      }
      expect(out!.expired.sort()).toEqual([...due].sort());
      expect(out!.state.rev).toBe(s.rev + 1);
      expect(out!.state.vv.r).toBe(s.vv.r + 1);
      const seen = visibleAt(s, now);
      expect(out!.state.siblings.map((v) => v.fields)).toEqual(seen.siblings.map((v) => v.fields));
      expect(dueFields(out!.state, now)).toEqual([]);
      const e = earliestDue(out!.state);
      if (e !== undefined) expect(e).toBeGreaterThan(now);
    }),
  );
});

test('PUT and PATCH: set clears an expiry, increment keeps it, persist drops it, expire sets it', () => {
  const env = { replica: 'r', now: new Date(T0).toISOString(), mode: 'reject' as const };
  const put = applyPut(undefined, 'ns', 'k', { a: 1, b: 2, c: 3 }, {}, env, { a: 10, b: 10, c: 10 }).state;
  expect(put.siblings[0].expires).toEqual({ a: T0 + 10_000, b: T0 + 10_000, c: T0 + 10_000 });
  const later = { ...env, now: new Date(T0 + 1_000).toISOString() };
  const p = applyPatch(put, 'ns', 'k', { set: { a: 5 }, increment: { b: 1 }, persist: ['c'] }, {}, later).state;
  expect(p.siblings[0].expires).toEqual({ b: T0 + 10_000 });
  const q = applyPatch(p, 'ns', 'k', { expire: { a: 1 } }, {}, later).state;
  expect(q.siblings[0].expires).toEqual({ a: T0 + 2_000, b: T0 + 10_000 });
  expect(toView(q)).toMatchObject({
    expires: { a: new Date(T0 + 2_000).toISOString(), b: new Date(T0 + 10_000).toISOString() },
  });
  expect(() => applyPatch(q, 'ns', 'k', { remove: ['a'], expire: { a: 5 } }, {}, later)).toThrow(
    PreconditionFailedError,
  );
  expect(() => applyPut(q, 'ns', 'k', { x: 1 }, {}, later, { y: 5 })).toThrow(/will not have/);
});
