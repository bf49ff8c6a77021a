/**
 * Version vectors and dots, in the dotted-version-vector form of Riak 2.0 (Almeida et al.,
 * "Scalable and Accurate Causality Tracking for Eventually Consistent Stores"). Pure functions,
 * no I/O. A replica is the writing Region, or `local`.
 */

/** Replica id to the number of writes it has issued. Missing entries count as 0. */
export type VersionVector = Readonly<Record<string, number>>;

/** The identity of one written value: the replica that wrote it and its counter there. */
export interface Dot {
  readonly replica: string;
  readonly counter: number;
}

export type Ordering = 'equal' | 'before' | 'after' | 'concurrent';

function entry(vv: VersionVector, replica: string): number {
  return Object.hasOwn(vv, replica) ? vv[replica] : 0;
}

function replicas(a: VersionVector, b: VersionVector): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])];
}

/** True when `a` has seen everything `b` has (`a >= b` entry by entry). */
export function descends(a: VersionVector, b: VersionVector): boolean {
  return replicas(a, b).every((r) => entry(a, r) >= entry(b, r));
}

/** Entry-wise maximum: the least vector that descends both. */
export function merge(a: VersionVector, b: VersionVector): VersionVector {
  const out: Record<string, number> = {};
  for (const r of replicas(a, b).sort()) {
    const n = Math.max(entry(a, r), entry(b, r));
    if (n > 0) out[r] = n;
  }
  return out;
}

export function compare(a: VersionVector, b: VersionVector): Ordering {
  const ab = descends(a, b);
  const ba = descends(b, a);
  if (ab && ba) return 'equal';
  if (ab) return 'after';
  if (ba) return 'before';
  return 'concurrent';
}

export function concurrent(a: VersionVector, b: VersionVector): boolean {
  return compare(a, b) === 'concurrent';
}

/** True when the causal context `ctx` has seen the value identified by `dot`. */
export function covers(ctx: VersionVector, dot: Dot): boolean {
  return entry(ctx, dot.replica) >= dot.counter;
}

/** A value: its dot plus whatever it carries. */
export interface Dotted {
  readonly dot: Dot;
}

export interface WriteOutcome<T extends Dotted> {
  /** The siblings after the write, the new value last. */
  readonly siblings: readonly T[];
  readonly vv: VersionVector;
  readonly dot: Dot;
}

/**
 * A write at `replica` with causal context `ctx` over stored `siblings` and stored vector `vv`:
 * siblings covered by `ctx` are replaced, the others are concurrent and stay; the new value gets
 * the dot `(replica, vv[replica] + 1)`; the stored vector becomes `merge(vv, ctx)` with `replica`
 * advanced. Never fails.
 */
export function write<T extends Dotted>(
  siblings: readonly T[],
  vv: VersionVector,
  ctx: VersionVector,
  replica: string,
  make: (dot: Dot) => T,
): WriteOutcome<T> {
  const base = merge(vv, ctx);
  const dot: Dot = { replica, counter: entry(base, replica) + 1 };
  const kept = siblings.filter((s) => !covers(ctx, s.dot));
  return { siblings: [...kept, make(dot)], vv: { ...base, [replica]: dot.counter }, dot };
}

/**
 * Reconciles two replicas' states of one key (anti-entropy): a sibling survives when the other
 * side either holds it too or has not seen it. Used when several replicas write one key.
 */
export function sync<T extends Dotted>(
  a: { siblings: readonly T[]; vv: VersionVector },
  b: { siblings: readonly T[]; vv: VersionVector },
): { siblings: T[]; vv: VersionVector } {
  const same = (x: Dot, y: Dot) => x.replica === y.replica && x.counter === y.counter;
  const keepA = a.siblings.filter((s) => b.siblings.some((t) => same(s.dot, t.dot)) || !covers(b.vv, s.dot));
  const keepB = b.siblings.filter((s) => !a.siblings.some((t) => same(s.dot, t.dot)) && !covers(a.vv, s.dot));
  return { siblings: [...keepA, ...keepB], vv: merge(a.vv, b.vv) };
}

/** `vv` with replica `r`'s counter one higher (a change of `r` that makes no new value of its own). */
export function bump(vv: VersionVector, r: string): VersionVector {
  return { ...vv, [r]: (vv[r] ?? 0) + 1 };
}
