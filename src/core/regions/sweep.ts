/**
 * The field sweeper across Regions (docs/regions.md): each Region's sweeper finds its own items
 * with a due bound through the `byFieldExpiry` index, reads the key's items of every Region, and
 * decides here, on the joined record, what to do. Pure functions, no I/O.
 *
 * - **What is due:** the fields due now of the values reads show (the joined record settled in its
 *   mode: every value in `siblings` mode, the winner in `reject` mode), as stored.
 * - **Which Region sweeps:** the Region that wrote the newest of the values with a due field (the
 *   order every Region sorts values in: write time, Region, counter). That Region's own item holds
 *   that value (a value survives the join only while its writer's item holds it), so its index
 *   entry is due no later than the field. Every Region that holds the same items picks the same
 *   one, so in a healthy deployment a removal is written once. A Region that is not the one leaves
 *   the record alone while something is due, unless a due field of a value its own item holds has
 *   waited past the take-over delay (the sweeping Region is down, or cut off): then it sweeps too.
 * - **The removal** is an ordinary write of this Region's own item (`expireFieldsWrite`): every
 *   value with a due field is written again without it under a NEW dot of this Region (each such
 *   value its own), with a context that covers everything read, so the join drops the old copies
 *   that other Regions' items still hold. A value's dot is never kept for changed contents.
 * - **The bound:** with nothing due, a Region moves its own item's `due` to the earliest expiry of
 *   the values its item holds that reads still show (or removes it), without a write of its own.
 *   Copies of values that a later write replaced stay in its item until its next write.
 *
 * **Partitions.** Two Regions that do not see each other's items may each judge itself the one
 * (each sees its own newest value), or take over after the delay, and both sweep. Both removals are
 * values of their own: in `reject` mode the join settles one winner, which reads exactly like the
 * other (the same fields less the same due ones, when both swept the same value), and the other is
 * published as a `conflict` change; in `siblings` mode both stay, as two siblings with equal fields,
 * until a write with the ETag of a read replaces them. No field and no increment is lost either way.
 */
import { isDue } from '../field-expiry';
import type { Expiries } from '../record-view';
import type { Fields } from '../values';
import { copyMap, newMap } from '../values';
import type { WriteEnv } from '../records';
import type { ConflictMode } from '../wire/records';
import { counterFields } from './counters';
import { type RegionalSibling, type RegionalState, join, revOf, settle, valueRead } from './merge';

/** How long a due field waits for the sweeping Region before another Region holding it sweeps it too. */
export const SWEEP_TAKEOVER_MS = 15 * 60 * 1000;

const sameDot = (a: RegionalSibling, b: RegionalSibling) =>
  a.dot.replica === b.dot.replica && a.dot.counter === b.dot.counter;

const hasDue = (s: RegionalSibling, nowMs: number) =>
  Object.keys(s.expires ?? {}).some((f) => isDue(s.expires![f], nowMs));

/**
 * The values reads show of `joined` settled in `mode`, as stored (bases and `seen`), in the order
 * of the join; not the value a delete's unseen increments make (it has no dot and no expiry).
 * Never throws.
 */
export function shownValues(joined: RegionalState, mode: ConflictMode): RegionalSibling[] {
  const shown = settle(joined, mode).state.siblings;
  return joined.siblings.filter((s) => shown.some((v) => sameDot(v, s)));
}

/** Names of the fields due at `nowMs` of the values reads show, each once. Never throws. */
export function dueShown(joined: RegionalState, mode: ConflictMode, nowMs: number): string[] {
  const out = new Set<string>();
  for (const s of shownValues(joined, mode)) {
    for (const f of Object.keys(s.expires ?? {})) if (isDue(s.expires![f], nowMs)) out.add(f);
  }
  return [...out];
}

/** The earliest due time (epoch ms) of the fields due at `nowMs` of the shown values; undefined when none. Never throws. */
export function oldestDueShown(joined: RegionalState, mode: ConflictMode, nowMs: number): number | undefined {
  let min: number | undefined;
  for (const s of shownValues(joined, mode)) {
    for (const f of Object.keys(s.expires ?? {})) {
      const d = s.expires![f];
      if (isDue(d, nowMs)) min = Math.min(min ?? d, d);
    }
  }
  return min;
}

/**
 * The Region that sweeps `joined` at `nowMs`: the writer of the newest shown value with a field
 * due; undefined when nothing shown is due. Never throws.
 */
export function sweepingRegion(joined: RegionalState, mode: ConflictMode, nowMs: number): string | undefined {
  const due = shownValues(joined, mode).filter((s) => hasDue(s, nowMs));
  return due.length > 0 ? due[due.length - 1].dot.replica : undefined;
}

export type RegionalSweepPlan =
  /** Write the removal (`expireFieldsWrite`) as this Region's own item. */
  | { readonly kind: 'write' }
  /** Something is due, and `region` sweeps it: leave the record alone (the next run looks again). */
  | { readonly kind: 'wait'; readonly region: string }
  /** Set this Region's own item's bound to `due`, or remove it (and its index entry) when undefined. */
  | { readonly kind: 'bound'; readonly due: number | undefined }
  /** Nothing to do. */
  | { readonly kind: 'none' };

/**
 * What Region `self` does with a key at `nowMs`: `joined` is every Region's item joined, `own` its
 * own item (with its stored bound `storedDue`), `mode` the record's conflict mode. A take-over
 * (`takeoverMs` after a due time) makes `self` sweep a value its item holds though another Region
 * is the one. Never throws.
 */
export function regionalSweepPlan(
  joined: RegionalState | undefined,
  own: RegionalState | undefined,
  storedDue: number | undefined,
  mode: ConflictMode,
  self: string,
  nowMs: number,
  takeoverMs = SWEEP_TAKEOVER_MS,
): RegionalSweepPlan {
  if (!joined || !own) return { kind: 'none' };
  const shown = shownValues(joined, mode);
  const region = sweepingRegion(joined, mode, nowMs);
  if (region === self) return { kind: 'write' };
  const held = own.siblings.filter((s) => shown.some((v) => sameDot(v, s)));
  if (region !== undefined) {
    const overdue = held.some((s) => hasDue(s, nowMs - takeoverMs));
    return overdue ? { kind: 'write' } : { kind: 'wait', region };
  }
  let due: number | undefined;
  for (const s of held)
    for (const f of Object.keys(s.expires ?? {})) due = Math.min(due ?? s.expires![f], s.expires![f]);
  return due === storedDue ? { kind: 'none' } : { kind: 'bound', due };
}

/** A swept value: `s` without its due fields, written at `at` under `dot`; undefined when no field is left. */
function swept(s: RegionalSibling, nowMs: number, joined: RegionalState, dot: RegionalSibling['dot'], at: string) {
  const x = s.expires ?? {};
  // A due counter field is gone with its increments so far: the value then counts from the totals
  // read (`seen`), its other counter fields rebased on what they read.
  const counter = counterFields(joined.counters).some((f) => isDue(x[f], nowMs));
  const from = counter ? valueRead(s, joined.counters).fields : s.fields;
  const fields: Fields = newMap();
  const expires: Record<string, number> = newMap<number>();
  for (const f of Object.keys(from)) {
    if (isDue(x[f], nowMs)) continue;
    fields[f] = from[f];
    if (x[f] !== undefined) expires[f] = x[f];
  }
  if (Object.keys(fields).length === 0) return undefined;
  const seen = counter ? joined.counters : s.seen;
  const out: RegionalSibling = { fields: copyMap(fields), dot, at, ...(seen ? { seen } : {}) };
  return Object.keys(expires).length > 0 ? { ...out, expires: expires as Expiries } : out;
}

export interface ExpireFieldsWrite {
  /** This Region's own item after the removal: the one item to store. */
  readonly item: RegionalState;
  /** The joined record after it. */
  readonly joined: RegionalState;
  /** The fields removed, each once. */
  readonly expired: readonly string[];
}

/**
 * The removal of the fields due at `nowMs` from `joined` in `mode`, as the own item of Region
 * `env.replica` stamped `env.now`: each shown value with a due field gets a new dot of this Region
 * (the vector's entry moves once per such value, so `rev` stays the sum of `vv`) and loses its due
 * fields, and goes when none is left; the other shown values stay as they are; in `reject` mode the
 * losers read are replaced and named (`buried`), as every write there does. A record left with no
 * value is a tombstone whose increments so far no longer count (as after a delete). Undefined when
 * nothing shown is due. Never throws.
 */
export function expireFieldsWrite(
  joined: RegionalState,
  mode: ConflictMode,
  nowMs: number,
  env: Pick<WriteEnv, 'replica' | 'now'>,
): ExpireFieldsWrite | undefined {
  const expired = dueShown(joined, mode, nowMs);
  if (expired.length === 0) return undefined;
  let vv = joined.vv;
  const values: RegionalSibling[] = [];
  for (const s of shownValues(joined, mode)) {
    if (!hasDue(s, nowMs)) {
      values.push(s);
      continue;
    }
    vv = { ...vv, [env.replica]: (vv[env.replica] ?? 0) + 1 };
    const v = swept(s, nowMs, joined, { replica: env.replica, counter: vv[env.replica] }, env.now);
    if (v) values.push(v);
  }
  const buried = mode === 'reject' ? settle(joined, 'reject').losers : [];
  const floor = values.length === 0 ? joined.counters : joined.floor;
  const item: RegionalState = {
    namespace: joined.namespace,
    key: joined.key,
    inc: joined.inc,
    rev: revOf(vv),
    vv,
    siblings: values,
    deleted: values.length === 0,
    updatedAt: env.now,
    ...(joined.lease !== undefined ? { lease: joined.lease } : {}),
    ...(joined.counters && counterFields(joined.counters).length > 0 ? { counters: joined.counters } : {}),
    ...(floor && counterFields(floor).length > 0 ? { floor } : {}),
    ...(buried.length > 0 ? { buried } : {}),
  };
  return { item, joined: join(joined, item), expired };
}
