/**
 * Counters across Regions, as a PN-counter (Shapiro et al., "A comprehensive study of Convergent
 * and Commutative Replicated Data Types", 2011): every Region keeps, per counter field, the running
 * totals of its own positive (`p`) and negative (`n`) increments. Only that Region adds to them, so
 * each total only grows, and two Regions' knowledge of them joins by the larger of each.
 *
 * A value written by an ordinary write (a `set`, a PUT) holds the field's value at that write and
 * `seen`, the contributions it had seen then. Its value now is that base plus every contribution it
 * has not seen: increments made concurrently with the write, or after it, all count on top.
 * Pure functions, no I/O.
 */
import { type Numeric, addNumeric, compareNumeric, isNumeric, negateNumeric } from '../decimal';
import { newMap } from '../values';
import type { JsonValue } from '../values';

/** One Region's running totals of one field: positive increments, and the size of negative ones. */
export interface PN {
  readonly p: Numeric;
  readonly n: Numeric;
}

/** Field name to Region to that Region's totals. Null-prototype maps. */
export type Contributions = Readonly<Record<string, Readonly<Record<string, PN>>>>;

const ZERO: PN = { p: 0, n: 0 };

const bigger = (a: Numeric, b: Numeric) => (compareNumeric(a, b) >= 0 ? a : b);

function pnOf(c: Contributions | undefined, f: string, region: string): PN {
  if (!c || !Object.hasOwn(c, f) || !Object.hasOwn(c[f], region)) return ZERO;
  return c[f][region];
}

/** The join: for every field and Region, the larger of each total. Commutative, associative, idempotent. */
export function joinContributions(a: Contributions | undefined, b: Contributions | undefined): Contributions {
  const out = newMap<Record<string, PN>>();
  for (const side of [a, b]) {
    for (const f of Object.keys(side ?? {})) {
      if (!Object.hasOwn(out, f)) out[f] = newMap<PN>();
      const into = out[f];
      for (const r of Object.keys((side as Contributions)[f])) {
        const x = pnOf(out, f, r);
        const y = pnOf(side, f, r);
        into[r] = { p: bigger(x.p, y.p), n: bigger(x.n, y.n) };
      }
    }
  }
  return out;
}

/** `c` with Region `region`'s totals of field `f` moved by `by` (to `p` when positive, `n` when negative). */
export function contribute(c: Contributions | undefined, f: string, region: string, by: Numeric): Contributions {
  const out = joinContributions(c, undefined);
  const into = Object.hasOwn(out, f) ? (out[f] as Record<string, PN>) : newMap<PN>();
  const cur = pnOf(out, f, region);
  const negative = compareNumeric(by, 0) < 0;
  into[region] = negative
    ? { p: cur.p, n: addNumeric(cur.n, negateNumeric(by)) }
    : { p: addNumeric(cur.p, by), n: cur.n };
  (out as Record<string, Record<string, PN>>)[f] = into;
  return out;
}

/** The fields with any contribution. */
export function counterFields(c: Contributions | undefined): string[] {
  return Object.keys(c ?? {});
}

/**
 * What the increments of field `f` in `c` add on top of a value that had seen `seen`: the sum over
 * Regions of (p − seen.p) − (n − seen.n). Zero when it has seen them all.
 */
export function unseenSum(c: Contributions | undefined, seen: Contributions | undefined, f: string): Numeric {
  let sum: Numeric = 0;
  if (!c || !Object.hasOwn(c, f)) return sum;
  for (const r of Object.keys(c[f])) {
    const now = pnOf(c, f, r);
    const then = pnOf(seen, f, r);
    sum = addNumeric(sum, addNumeric(now.p, negateNumeric(then.p)));
    sum = addNumeric(sum, negateNumeric(addNumeric(now.n, negateNumeric(then.n))));
  }
  return sum;
}

/**
 * Whether `c` holds an increment of `f` that `seen` has not seen (even ones that cancel out, and an
 * increment by 0, which like anywhere else makes the field exist).
 */
export function hasUnseen(c: Contributions | undefined, seen: Contributions | undefined, f: string): boolean {
  if (!c || !Object.hasOwn(c, f)) return false;
  return Object.keys(c[f]).some((r) => {
    if (!seen || !Object.hasOwn(seen, f) || !Object.hasOwn(seen[f], r)) return true;
    const now = pnOf(c, f, r);
    const then = pnOf(seen, f, r);
    return compareNumeric(now.p, then.p) > 0 || compareNumeric(now.n, then.n) > 0;
  });
}

/**
 * Field `f` of a value with base `base` (undefined when the value has no such field) that had seen
 * `seen`: the base plus the unseen increments; undefined when it had no such field and none is
 * unseen. A base that is not a number is kept as it is: an increment made concurrently with a write
 * that turned the field into something else (a string, a map) stays in the totals but does not
 * show in that value. The API refuses an increment of a field that is not a number where it is
 * made; only such a race across Regions gets here.
 */
export function counterValue(
  base: JsonValue | undefined,
  c: Contributions | undefined,
  seen: Contributions | undefined,
  f: string,
): JsonValue | undefined {
  if (!hasUnseen(c, seen, f)) return base;
  if (base === undefined) return unseenSum(c, seen, f);
  return isNumeric(base) ? addNumeric(base, unseenSum(c, seen, f)) : base;
}
