/**
 * A snapshot record restored in one Region of a deployment of several Regions (docs/regions.md):
 * the decision is the single-Region one (`restorePlan` on the record as reads see it), and what is
 * stored is the Region's own item only, made by an ordinary PUT (`writeRegional`) of the snapshot's
 * values whose context covers everything read. So the restored values replace every version the
 * restore read (in `siblings` mode too: no sibling of what it read), and concurrent writes in other
 * Regions that it did not read stay beside it, as for any write. Counter fields are set as bases
 * that have seen the totals read: increments made later, or in other Regions unseen, add on top.
 *
 * What differs from one Region, where a restored record takes the snapshot's version vector: here
 * the vector is the one read plus this Region's own entry (claiming another Region's writes not
 * read would drop them when the items join), so `rev` stays the sum of `vv`. This Region's entry
 * moves far enough that `rev` is at least the one `restorePlan` plans, so a later `newer` restore
 * of the same snapshot skips the record, as in one Region. Each restored value gets a new dot of
 * this Region and the write's time. Pure functions, no I/O.
 */
import type { Preconditions, WriteEnv } from '../records';
import { type RecordState, isLive } from '../record-view';
import { type RestoreMode, restorePlan } from '../snapshots';
import { type RegionalSibling, type RegionalState, join, revOf, settle } from './merge';
import { type RegionalWrite, writeRegional } from './writes';

/**
 * What Region `env.replica` stores to restore snapshot record `snap` (as `keptAt` leaves it: its
 * due fields gone, the others with their due instants) in `mode`, given every Region's item of the
 * key joined (`joined`, undefined when there is none) and the record as reads see it (`visible`;
 * the joined record settled when not given): `undefined` when the record is to be skipped (`restorePlan`: it is newer, or present in mode
 * `missing`, or of a lease). Throws what `writeRegional` throws for a PUT (`OutOfRangeError` 422
 * for a counter past DynamoDB's range, `PayloadTooLargeError` 413); nothing is to be stored then.
 */
export function restoreRegional(
  joined: RegionalState | undefined,
  visible: RecordState | undefined,
  snap: RecordState,
  mode: RestoreMode,
  env: WriteEnv,
): RegionalWrite | undefined {
  visible ??= joined ? settle(joined, env.mode).state : undefined;
  const planned = restorePlan(visible, snap, mode, env.replica);
  if (!planned) return undefined;
  const values = snap.siblings;
  // The context of everything read: in `siblings` mode a PUT without it would keep what it read.
  const pre: Preconditions = isLive(visible)
    ? { ifMatch: { any: false, ctx: { inc: visible.inc, rev: visible.rev, vv: visible.vv } } }
    : {};
  const w = writeRegional(
    snap.namespace,
    snap.key,
    joined,
    visible,
    { op: 'put', fields: values[values.length - 1].fields },
    pre,
    env,
  );
  const made = w.item.siblings[w.item.siblings.length - 1];
  // Empty: the context covers every value read (kept should one ever not be covered).
  const kept = w.item.siblings.slice(0, -1);
  const self = env.replica;
  // This Region's entry: one dot per restored value, and `rev` no lower than planned.
  let top = made.dot.counter + values.length - 1;
  top += Math.max(0, planned.rev - revOf({ ...w.item.vv, [self]: top }));
  const vv = { ...w.item.vv, [self]: top };
  const { expires: _none, ...base } = made;
  const restored: RegionalSibling[] = values.map((s, i) => ({
    ...base,
    fields: s.fields,
    dot: { replica: self, counter: top - values.length + 1 + i },
    ...(s.expires && Object.keys(s.expires).length > 0 ? { expires: s.expires } : {}),
  }));
  const item: RegionalState = { ...w.item, vv, rev: revOf(vv), siblings: [...kept, ...restored], deleted: false };
  return { item, joined: joined ? join(joined, item) : item, created: w.created };
}
