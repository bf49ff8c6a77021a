import fc from 'fast-check';
import {
  type Dot,
  type VersionVector,
  compare,
  concurrent,
  covers,
  descends,
  merge,
  sync,
  write,
} from '../../src/core/vv';

const replica = fc.constantFrom('eu-west-1', 'us-east-1', 'ap-south-1', 'local');
const vvArb: fc.Arbitrary<VersionVector> = fc.dictionary(replica, fc.integer({ min: 1, max: 20 }), { maxKeys: 4 });
const norm = (v: VersionVector) => merge(v, {});

describe('version vector algebra', () => {
  test('merge is commutative', () => {
    fc.assert(fc.property(vvArb, vvArb, (a, b) => expect(merge(a, b)).toEqual(merge(b, a))));
  });

  test('merge is associative', () => {
    fc.assert(
      fc.property(vvArb, vvArb, vvArb, (a, b, c) => expect(merge(merge(a, b), c)).toEqual(merge(a, merge(b, c)))),
    );
  });

  test('merge is idempotent', () => {
    fc.assert(fc.property(vvArb, (a) => expect(merge(a, a)).toEqual(norm(a))));
  });

  test('merge is the least upper bound: it descends both inputs', () => {
    fc.assert(
      fc.property(vvArb, vvArb, (a, b) => {
        const m = merge(a, b);
        expect(descends(m, a) && descends(m, b)).toBe(true);
      }),
    );
  });

  test('descends is reflexive', () => {
    fc.assert(fc.property(vvArb, (a) => expect(descends(a, a)).toBe(true)));
  });

  test('descends is antisymmetric', () => {
    fc.assert(
      fc.property(vvArb, vvArb, (a, b) => {
        if (descends(a, b) && descends(b, a)) expect(norm(a)).toEqual(norm(b));
      }),
    );
  });

  test('descends is transitive', () => {
    fc.assert(
      fc.property(vvArb, vvArb, vvArb, (a, b, c) => {
        const ab = merge(a, b);
        const abc = merge(ab, c);
        expect(descends(abc, ab) && descends(ab, a) && descends(abc, a)).toBe(true);
        if (descends(a, b) && descends(b, c)) expect(descends(a, c)).toBe(true);
      }),
    );
  });

  test('compare agrees with descends and concurrent is symmetric', () => {
    fc.assert(
      fc.property(vvArb, vvArb, (a, b) => {
        const o = compare(a, b);
        expect(o === 'after' || o === 'equal').toBe(descends(a, b));
        expect(o === 'before' || o === 'equal').toBe(descends(b, a));
        expect(concurrent(a, b)).toBe(concurrent(b, a));
      }),
    );
  });
});

interface V {
  readonly dot: Dot;
  readonly id: number;
}

/** A random history of writes at random replicas with contexts taken from earlier states. */
const historyArb = fc.array(fc.record({ replica, ctxFrom: fc.nat(), seen: fc.boolean() }), {
  minLength: 1,
  maxLength: 25,
});

describe('dotted version vector writes', () => {
  test('a write keeps exactly the siblings its context has not seen, adds itself, and never resurrects one', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        let siblings: V[] = [];
        let vv: VersionVector = {};
        const contexts: VersionVector[] = [{}];
        const gone = new Set<string>();
        history.forEach((step, id) => {
          const ctx = step.seen ? contexts[step.ctxFrom % contexts.length] : {};
          const out = write(siblings, vv, ctx, step.replica, (dot) => ({ dot, id }));
          const key = (d: Dot) => `${d.replica}:${d.counter}`;
          for (const s of siblings) {
            const kept = out.siblings.some((t) => t.id === s.id);
            expect(kept).toBe(!covers(ctx, s.dot));
            if (!kept) gone.add(key(s.dot));
          }
          expect(out.siblings[out.siblings.length - 1].id).toBe(id);
          for (const s of out.siblings) expect(gone.has(key(s.dot))).toBe(false);
          expect(descends(out.vv, vv) && descends(out.vv, ctx)).toBe(true);
          expect(covers(out.vv, out.dot)).toBe(true);
          expect(covers(vv, out.dot)).toBe(false);
          siblings = [...out.siblings];
          vv = out.vv;
          contexts.push(vv);
        });
      }),
    );
  });

  test('a write with the current vector as context replaces every sibling', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        let siblings: V[] = [];
        let vv: VersionVector = {};
        history.forEach((step, id) => {
          const out = write(siblings, vv, step.seen ? vv : {}, step.replica, (dot) => ({ dot, id }));
          siblings = [...out.siblings];
          vv = out.vv;
        });
        const final = write(siblings, vv, vv, 'local', (dot) => ({ dot, id: -1 }));
        expect(final.siblings.map((s) => s.id)).toEqual([-1]);
      }),
    );
  });

  test('sync of two replicas keeps a sibling only if both hold it or the other has not seen it', () => {
    fc.assert(
      fc.property(historyArb, historyArb, (h1, h2) => {
        // Each side writes at its own replicas, so dots are unique, as they are across Regions.
        const run = (h: typeof h1, base: { siblings: V[]; vv: VersionVector }, offset: number) => {
          let { siblings, vv } = base;
          h.forEach((step, i) => {
            const at = `${offset}-${step.replica}`;
            const out = write(siblings, vv, step.seen ? vv : {}, at, (dot) => ({ dot, id: offset + i }));
            siblings = [...out.siblings];
            vv = out.vv;
          });
          return { siblings, vv };
        };
        const shared = run(h1.slice(0, 3), { siblings: [], vv: {} }, 5000);
        const a = run(h1, shared, 0);
        const b = run(h2, shared, 1000);
        const s = sync(a, b);
        expect(descends(s.vv, a.vv) && descends(s.vv, b.vv)).toBe(true);
        for (const x of [...a.siblings, ...b.siblings]) {
          const inBoth = a.siblings.some((y) => y.id === x.id) && b.siblings.some((y) => y.id === x.id);
          const fromA = a.siblings.includes(x);
          const unseenByOther = !covers(fromA ? b.vv : a.vv, x.dot);
          expect(s.siblings.some((y) => y.id === x.id)).toBe(inBoth || unseenByOther);
        }
      }),
    );
  });
});
