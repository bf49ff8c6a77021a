/**
 * One record across Regions (docs/regions.md): each Region writes only its own item of a key, and a
 * read joins every Region's item. The join is the dotted-version-vector join of `vv.ts` (`sync`):
 * a value survives when every item that has seen it still holds it, so a value is dropped only by
 * a write that saw it; values no write has seen together stay side by side. Counter totals join
 * by their larger entries (`counters.ts`). The join is commutative, associative and idempotent, so
 * every Region that holds the same items reads the same record, whatever order they came in.
 *
 * In `reject` mode the values that remain concurrent settle on one winner, the same everywhere: the
 * newest write time, then the writing Region's id, then its counter. The others are losers, to be
 * published as `conflict` changes by their own Region. Pure functions, no I/O.
 */
import type { ConflictMode } from '../wire/records';
import type { RecordState, Sibling } from '../record-view';
import { copyMap } from '../values';
import { type VersionVector, merge, sync } from '../vv';
import { type Contributions, counterFields, counterValue, hasUnseen, joinContributions, unseenSum } from './counters';

/** A value as a Region stores it: its fields' bases and the counter totals it had seen. */
export interface RegionalSibling extends Sibling {
  readonly seen?: Contributions;
}

/**
 * A record as one Region's item holds it (or as the join of several): its values with their bases,
 * every Region's counter totals it knows (`counters`), and the totals a delete had seen (`floor`),
 * which no longer count once the record has no value.
 */
export interface RegionalState extends Omit<RecordState, 'siblings'> {
  readonly siblings: readonly RegionalSibling[];
  readonly counters?: Contributions;
  readonly floor?: Contributions;
  /**
   * Only on the item a write stores, never joined: in `reject` mode, the losers that write
   * replaced (their values as they read), to be published as `conflict` changes.
   */
  readonly buried?: readonly Sibling[];
}

/** The sum of a version vector's entries: `rev` across Regions. */
export function revOf(vv: VersionVector): number {
  return Object.values(vv).reduce((n, x) => n + x, 0);
}

const later = (a: string, b: string) => (a > b ? a : b);

/** The join of two Regions' items of one key. */
export function join(a: RegionalState, b: RegionalState): RegionalState {
  const values = sync(a, b);
  const vv = merge(a.vv, b.vv);
  const newer = a.updatedAt >= b.updatedAt ? a : b;
  const counters = joinContributions(a.counters, b.counters);
  const floor = joinContributions(a.floor, b.floor);
  return {
    namespace: a.namespace,
    key: a.key,
    // One incarnation for the record everywhere: the least, whichever Region's item came first.
    inc: [a.inc, b.inc].sort()[0],
    rev: revOf(vv),
    vv,
    siblings: sortValues(values.siblings),
    deleted: values.siblings.length === 0,
    updatedAt: later(a.updatedAt, b.updatedAt),
    ...(newer.lease !== undefined ? { lease: newer.lease } : {}),
    ...(counterFields(counters).length > 0 ? { counters } : {}),
    ...(counterFields(floor).length > 0 ? { floor } : {}),
  };
}

/** Every Region's item of a key joined; undefined when there is none. */
export function joinAll(items: readonly RegionalState[]): RegionalState | undefined {
  if (items.length === 0) return undefined;
  return items.reduce((acc, x) => join(acc, x));
}

/** Values in one order everywhere: by write time, then Region, then counter. */
function sortValues<T extends Sibling>(values: readonly T[]): T[] {
  return [...values].sort((x, y) => rank(x, y));
}

function rank(x: Sibling, y: Sibling): number {
  if (x.at !== y.at) return x.at < y.at ? -1 : 1;
  if (x.dot.replica !== y.dot.replica) return x.dot.replica < y.dot.replica ? -1 : 1;
  return x.dot.counter - y.dot.counter;
}

/** A value's fields as reads see them: each counter field its base plus the increments it has not seen. */
export function valueRead(s: RegionalSibling, counters: Contributions | undefined): Sibling {
  const fields = copyMap(s.fields);
  for (const f of counterFields(counters)) {
    const v = counterValue(Object.hasOwn(fields, f) ? fields[f] : undefined, counters, s.seen, f);
    if (v === undefined) delete fields[f];
    else fields[f] = v;
  }
  return { fields, dot: s.dot, at: s.at, ...(s.expires ? { expires: s.expires } : {}) };
}

export interface Settled {
  /** The record as reads see it (counter values computed; one value in `reject` mode). */
  readonly state: RecordState;
  /** In `reject` mode, the concurrent values that lost to the winner (with their values as written). */
  readonly losers: readonly Sibling[];
}

/**
 * The record a joined state reads as. With no value left, the increments a delete had not seen
 * make a value of their own (the counter fields alone). It carries the empty dot, which every
 * write's context covers, so any write replaces it.
 */
export function settle(joined: RegionalState, mode: ConflictMode): Settled {
  const { counters, floor, siblings, buried: _buried, ...rest } = joined;
  if (siblings.length === 0) {
    const left = counterFields(counters).filter((f) => hasUnseen(counters, floor, f));
    if (left.length === 0) return { state: { ...rest, siblings: [], deleted: true }, losers: [] };
    const fields = Object.create(null) as Record<string, ReturnType<typeof unseenSum>>;
    for (const f of left) fields[f] = unseenSum(counters, floor, f);
    const value: Sibling = { fields, dot: { replica: '', counter: 0 }, at: joined.updatedAt };
    return { state: { ...rest, siblings: [value], deleted: false }, losers: [] };
  }
  const values = siblings.map((s) => valueRead(s, counters));
  if (mode === 'siblings' || values.length === 1)
    return { state: { ...rest, siblings: values, deleted: false }, losers: [] };
  const winner = values[values.length - 1];
  return { state: { ...rest, siblings: [winner], deleted: false }, losers: values.slice(0, -1) };
}
