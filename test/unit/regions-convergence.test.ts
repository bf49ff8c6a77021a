/**
 * Records across Regions, on the pure rules (`src/core/regions`), as properties over generated
 * histories: writers in every Region (blind PUTs, PUTs with the ETag they read, PATCHes that set,
 * increments, deletes), replication that delivers any version of a Region's item late, out of
 * turn or not at all until the partitions heal (last writer wins per item, as global tables).
 * After healing:
 * - every Region reads every key the same: values, `rev`, `vv`, ETag;
 * - every acknowledged value is in that state, or was replaced by a write whose context had seen
 *   it (what the contract lets a write replace, not what the code did), or, in `reject` mode, was
 *   named as a loser by the write that replaced it (published as a `conflict` change);
 * - a counter changed only by increments equals the sum of every acknowledged increment.
 * And the join is commutative, associative and idempotent on the items such histories leave.
 */
import fc from 'fast-check';
import { Decimal, type Numeric, numberFromText, numericText } from '../../src/core/decimal';
import { etagOf } from '../../src/core/etag';
import { toView } from '../../src/core/record-view';
import { join, joinAll, revOf, settle } from '../../src/core/regions/merge';
import { Regions, dotId } from './regions-model';

const REGIONS = ['ap-south-1', 'eu-west-1', 'us-east-1'];
const KEYS = ['a', 'b', 'c'];
const COUNTER = 'hits';
const RUNS = Number(process.env.VESTA_REGION_RUNS ?? 300);

type Step =
  | { t: 'put'; r: number; k: number; v: number; ifMatch: boolean }
  | { t: 'set'; r: number; k: number; v: number }
  | { t: 'inc'; r: number; by: Numeric }
  | { t: 'incMixed'; r: number; k: number; by: number }
  | { t: 'del'; r: number; k: number }
  | { t: 'deliver'; from: number; to: number; k: number; pick: number };

const region = fc.nat(REGIONS.length - 1);
const keyIx = fc.nat(KEYS.length - 1);
const amount = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom<Numeric>(numberFromText('0.1'), numberFromText('-0.3'), numberFromText('12345678901234567890.5')),
);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant('put' as const), r: region, k: keyIx, v: fc.nat(99), ifMatch: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('set' as const), r: region, k: keyIx, v: fc.nat(99) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('inc' as const), r: region, by: amount }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('incMixed' as const),
      r: region,
      k: keyIx,
      by: fc.integer({ min: -5, max: 5 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('del' as const), r: region, k: keyIx }) },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('deliver' as const),
      from: region,
      to: region,
      k: fc.nat(KEYS.length),
      pick: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
);
const history = fc.record({
  mode: fc.constantFrom('siblings' as const, 'reject' as const),
  steps: fc.array(step, { minLength: 5, maxLength: 60, size: 'max' }),
});

const keyName = (k: number) => (k === KEYS.length ? COUNTER : KEYS[k]);

function run(mode: 'siblings' | 'reject', steps: readonly Step[]): Regions {
  const w = new Regions(REGIONS, mode);
  for (const s of steps) {
    if (s.t === 'deliver') w.deliver(REGIONS[s.from], REGIONS[s.to], keyName(s.k), s.pick);
    else if (s.t === 'put')
      w.write(REGIONS[s.r], KEYS[s.k], { op: 'put', fields: { v: s.v, by: REGIONS[s.r] } }, s.ifMatch);
    else if (s.t === 'set') w.write(REGIONS[s.r], KEYS[s.k], { op: 'patch', patch: { set: { s: s.v } } });
    else if (s.t === 'inc') w.write(REGIONS[s.r], COUNTER, { op: 'patch', patch: { increment: { n: s.by } } });
    else if (s.t === 'incMixed')
      w.write(REGIONS[s.r], KEYS[s.k], { op: 'patch', patch: { set: { m: s.by }, increment: { n: s.by } } });
    else w.write(REGIONS[s.r], KEYS[s.k], { op: 'delete' });
  }
  w.heal([...KEYS, COUNTER]);
  return w;
}

/** What a client can tell about a record in one Region: its view, ETag and `rev`. */
function observed(w: Regions, r: string, key: string) {
  const s = w.read(r, key);
  if (!s) return null;
  return { view: JSON.parse(JSON.stringify(toView(s.state))), etag: etagOf(s.state), rev: s.state.rev, vv: s.state.vv };
}

test('after healing, every Region reads every key the same, and rev is the sum of vv', () => {
  fc.assert(
    fc.property(history, ({ mode, steps }) => {
      const w = run(mode, steps);
      for (const key of [...KEYS, COUNTER]) {
        const first = observed(w, REGIONS[0], key);
        for (const r of REGIONS.slice(1)) expect({ key, r, got: observed(w, r, key) }).toEqual({ key, r, got: first });
        if (first) expect(first.rev).toBe(revOf(first.vv));
      }
    }),
    { numRuns: RUNS, seed: 20 },
  );
});

test('every acknowledged value is kept, replaced by a write that had seen it, or published as a conflict', () => {
  fc.assert(
    fc.property(history, ({ mode, steps }) => {
      const w = run(mode, steps);
      // One more write of every key, once everything has replicated: it replaces whatever losers
      // are left, and names them (a loser no write replaces stays stored, and unpublished).
      if (mode === 'reject') {
        for (const k of KEYS) w.write(REGIONS[0], k, { op: 'put', fields: { v: 'last' } });
        w.heal(KEYS);
      }
      const replaced = new Set(w.acked.flatMap((a) => a.replaced.map((d) => `${a.key}|${d}`)));
      for (const key of KEYS) {
        const final = new Set((w.read(REGIONS[0], key)?.state.siblings ?? []).map(dotId));
        for (const a of w.acked.filter((x) => x.key === key && x.dot)) {
          const where = final.has(a.dot!)
            ? 'kept'
            : replaced.has(`${key}|${a.dot}`)
              ? 'replaced'
              : w.published.has(`${key}|${a.dot}`)
                ? 'conflict'
                : 'lost';
          expect({ write: a, where }).not.toEqual({ write: a, where: 'lost' });
        }
      }
      if (mode === 'siblings') expect(w.published.size).toBe(0);
      // A conflict names a value some write made, and never one that reads still show. (It may
      // also have been replaced by a write of its own Region that had not seen the winner yet.)
      const made = new Set(w.acked.filter((a) => a.dot).map((a) => `${a.key}|${a.dot}`));
      for (const d of w.published) {
        expect({ d, made: made.has(d) }).toEqual({ d, made: true });
        const [key, dot] = d.split('|');
        expect({ d, shown: (w.read(REGIONS[0], key)?.state.siblings ?? []).some((x) => dotId(x) === dot) }).toEqual({
          d,
          shown: false,
        });
      }
    }),
    { numRuns: RUNS, seed: 21 },
  );
});

test('a counter changed only by increments equals the sum of every acknowledged increment, exactly', () => {
  fc.assert(
    fc.property(history, ({ mode, steps }) => {
      const w = run(mode, steps);
      const sum = w.incrementsOf(COUNTER, 'n');
      for (const r of REGIONS) {
        const s = w.read(r, COUNTER);
        const acks = w.acked.filter((a) => a.key === COUNTER).length;
        if (acks === 0) {
          expect(s).toBeUndefined();
          continue;
        }
        const v = s!.state.siblings[0]?.fields.n;
        // The exact decimal text: no double rounding anywhere.
        expect({ r, n: v === undefined ? '0' : numericText(v as Numeric) }).toEqual({ r, n: numericText(sum) });
      }
    }),
    { numRuns: RUNS, seed: 22 },
  );
});

test('increments made concurrently with a set are counted on top of it', () => {
  const w = new Regions(REGIONS, 'reject');
  const [ap, eu, us] = REGIONS;
  w.write(ap, 'k', { op: 'put', fields: { n: 10 } });
  w.heal(['k']);
  w.write(eu, 'k', { op: 'patch', patch: { increment: { n: 5 } } });
  w.write(us, 'k', { op: 'patch', patch: { increment: { n: 7 } } });
  w.deliver(us, ap, 'k');
  w.write(ap, 'k', { op: 'patch', patch: { set: { n: 100 } } }); // saw us's 7, not eu's 5
  w.heal(['k']);
  for (const r of REGIONS) expect(w.read(r, 'k')!.state.siblings[0].fields.n).toBe(105);
  expect(w.read(ap, 'k')!.state.rev).toBe(4);
});

test('concurrent PUTs in two Regions: siblings, or one winner everywhere and the other a loser', () => {
  for (const mode of ['siblings', 'reject'] as const) {
    const w = new Regions(REGIONS, mode);
    w.write('eu-west-1', 'k', { op: 'put', fields: { v: 'eu' } });
    w.write('us-east-1', 'k', { op: 'put', fields: { v: 'us' } });
    w.heal(['k']);
    const values = REGIONS.map((r) => w.read(r, 'k')!.state.siblings.map((s) => s.fields.v));
    if (mode === 'siblings') expect(values).toEqual(REGIONS.map(() => ['eu', 'us']));
    else {
      expect(values).toEqual(REGIONS.map(() => ['us']));
      expect([...w.losers]).toEqual(['eu-west-1:1']);
      w.write('ap-south-1', 'k', { op: 'put', fields: { v: 'ap' } });
      expect([...w.published]).toEqual(['k|eu-west-1:1']);
    }
  }
});

test('the join is commutative, associative and idempotent on the items histories leave', () => {
  fc.assert(
    fc.property(history, fc.nat(), ({ mode, steps }, pick) => {
      const w = run(mode, steps);
      const all = [...w.versions.entries()].filter(([id]) => id.endsWith(`\u0000${KEYS[pick % KEYS.length]}`));
      if (all.length === 0) return;
      // Any version of each Region's item: replicas may hold old ones.
      const items = all.map(([, vs]) => vs[pick % vs.length]);
      const [a, b, c] = [items[0], items[1 % items.length], items[2 % items.length]];
      const same = (x: ReturnType<typeof join>, y: ReturnType<typeof join>) =>
        expect(JSON.stringify(settle(x, mode))).toBe(JSON.stringify(settle(y, mode)));
      same(join(a, b), join(b, a));
      same(join(join(a, b), c), join(a, join(b, c)));
      same(join(a, a), joinAll([a])!);
    }),
    { numRuns: RUNS, seed: 23 },
  );
});

test('decimal increments stay exact across Regions', () => {
  const w = new Regions(REGIONS, 'siblings');
  for (const [i, r] of REGIONS.entries())
    w.write(r, 'd', { op: 'patch', patch: { increment: { n: numberFromText(i ? '0.1' : '0.2') } } });
  w.heal(['d']);
  const n = w.read('eu-west-1', 'd')!.state.siblings[0].fields.n;
  expect(n).toBe(0.4);
  w.write('us-east-1', 'd', { op: 'patch', patch: { increment: { n: numberFromText('1e-30') } } });
  w.heal(['d']);
  const m = w.read('ap-south-1', 'd')!.state.siblings[0].fields.n;
  expect(m).toBeInstanceOf(Decimal);
  expect(numericText(m as Numeric)).toBe('0.400000000000000000000000000001');
});

test('the generated histories do make concurrent writes: siblings, losers and counters in many of them', () => {
  const seen = { histories: 0, siblings: 0, losers: 0, counters: 0 };
  fc.assert(
    fc.property(history, ({ mode, steps }) => {
      const w = run(mode, steps);
      seen.histories += 1;
      if (mode === 'reject' && w.losers.size > 0) seen.losers += 1;
      if (mode === 'siblings' && KEYS.some((k) => (w.read(REGIONS[0], k)?.state.siblings.length ?? 0) > 1))
        seen.siblings += 1;
      if (w.acked.some((a) => a.key === COUNTER)) seen.counters += 1;
    }),
    { numRuns: RUNS, seed: 20 },
  );
  console.log(
    `regions: ${seen.histories} histories of up to 60 steps in 3 Regions; ${seen.siblings} end with siblings, ${seen.losers} settled losers, ${seen.counters} incremented the counter`,
  );
  expect(seen.siblings).toBeGreaterThan(RUNS / 20);
  expect(seen.losers).toBeGreaterThan(RUNS / 20);
  expect(seen.counters).toBeGreaterThan(RUNS / 4);
});

test('an increment by 0 makes the field exist, as in one Region; a delete that saw it removes it', () => {
  const w = new Regions(REGIONS, 'siblings');
  w.write('eu-west-1', 'z', { op: 'patch', patch: { increment: { n: 0 } } });
  w.heal(['z']);
  for (const r of REGIONS) expect(w.read(r, 'z')!.state.siblings.map((s) => s.fields)).toEqual([{ n: 0 }]);
  w.write('us-east-1', 'z', { op: 'delete' });
  w.heal(['z']);
  for (const r of REGIONS) expect(w.read(r, 'z')!.state.deleted).toBe(true);
});

test('a PATCH that changes nothing (`{"persist": []}`) writes a value, as in one Region: it creates the record', () => {
  const w = new Regions(REGIONS, 'reject');
  expect(w.write('eu-west-1', 'e', { op: 'patch', patch: { persist: [] } })).toBeUndefined();
  expect(w.read('eu-west-1', 'e')!.state).toMatchObject({ deleted: false, rev: 1 });
  expect(w.read('eu-west-1', 'e')!.state.siblings.map((s) => s.fields)).toEqual([{}]);
});

test('increments of two Regions past what DynamoDB holds read exactly; a write that would store that value is 422', () => {
  const w = new Regions(REGIONS, 'reject');
  const big = numberFromText('9e125');
  w.write('eu-west-1', 'x', { op: 'patch', patch: { increment: { n: big } } });
  w.write('us-east-1', 'x', { op: 'patch', patch: { increment: { n: big } } });
  w.heal(['x']);
  expect(numericText(w.read('ap-south-1', 'x')!.state.siblings[0].fields.n as Numeric)).toBe('1.8e+126');
  // A PATCH that sets another field keeps n as its base: refused, nothing written.
  expect(w.write('ap-south-1', 'x', { op: 'patch', patch: { set: { s: 1 } } })).toBe('OutOfRangeError');
  // Bringing it back in range by an increment is fine, and so is a PUT that replaces it.
  expect(w.write('ap-south-1', 'x', { op: 'patch', patch: { increment: { n: numberFromText('-9e125') } } })).toBe(
    undefined,
  );
  expect(w.write('ap-south-1', 'x', { op: 'patch', patch: { set: { s: 1 } } })).toBe(undefined);
});
