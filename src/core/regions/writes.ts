/**
 * A write in one Region of a multi-Region deployment: the record is read as every Region's items
 * join (`merge.ts`), the write's rules are the same pure transitions as in one Region
 * (`records.ts`), and what is stored is the Region's own item only: everything the write saw, less
 * what it replaced, plus its new value. Replication can then only ever replace an older copy of
 * this Region's item with a newer one that has seen everything the older one had.
 *
 * Increments are never values: they add to the Region's own counter totals, so concurrent
 * increments in different Regions all count and never conflict. A PATCH that only increments
 * makes no new value (it moves the Region's version-vector entry, so `rev` still counts it); one
 * that also sets, removes or changes expiries makes a new value holding each incremented field as
 * it was before (its base), and the increment goes to the totals on top of it.
 * Pure functions, no I/O.
 */
import { type Preconditions, type WriteEnv, applyDelete, applyPatch, applyPut } from '../records';
import type { RecordState } from '../record-view';
import type { Fields, PatchBody } from '../types';
import { type Numeric, isNumeric, numberProblem, numericText } from '../decimal';
import { OutOfRangeError } from '../errors';
import { isDue } from '../field-expiry';
import { copyMap, newMap } from '../values';
import { contribute } from './counters';
import { expireFieldsWrite } from './sweep';
import { type RegionalSibling, type RegionalState, join, revOf, settle } from './merge';

export type RegionalOp =
  | { readonly op: 'put'; readonly fields: Fields; readonly expire?: Readonly<Record<string, number>> }
  | { readonly op: 'patch'; readonly patch: PatchBody }
  | { readonly op: 'delete' }
  /** The field sweeper's removal of the fields due at `nowMs` (`sweep.ts`): no preconditions. */
  | { readonly op: 'expire-fields'; readonly nowMs: number };

export interface RegionalWrite {
  /** The Region's own item after the write: the one item to store. */
  readonly item: RegionalState;
  /** The joined record after the write (join of what was read and the new item). */
  readonly joined: RegionalState;
  /** True when the key had no live value before. */
  readonly created: boolean;
  /** Of an `expire-fields` write, the fields it removed. */
  readonly expired?: readonly string[];
}

const sameDot = (a: RegionalSibling, b: RegionalSibling) =>
  a.dot.replica === b.dot.replica && a.dot.counter === b.dot.counter;

/** Only increments: no set, remove, expire or persist. */
function incrementsOnly(p: PatchBody): boolean {
  return (
    Object.keys(p.set ?? {}).length === 0 &&
    (p.remove ?? []).length === 0 &&
    Object.keys(p.expire ?? {}).length === 0 &&
    (p.persist ?? []).length === 0
  );
}

/**
 * A PATCH that increments and does nothing else: it makes no value and replaces none. (One that
 * does nothing at all, such as `{"persist": []}`, writes a value like any other write.)
 */
const keepsValues = (op: RegionalOp) =>
  op.op === 'patch' && Object.keys(op.patch.increment ?? {}).length > 0 && incrementsOnly(op.patch);

/**
 * Whether `op` increments a field that is due at `nowMs` in a value of `joined`. Such a field is
 * absent for the increment, as in one Region: the increment makes a value in which it counts from
 * nothing, rather than adding to totals under a value that hides the field (and whose sweep
 * would then take the increment with it).
 */
const incrementsDue = (op: RegionalOp, joined: RegionalState | undefined, nowMs: number) =>
  op.op === 'patch' &&
  Object.keys(op.patch.increment ?? {}).some((f) => joined?.siblings.some((s) => isDue(s.expires?.[f], nowMs)));

/**
 * Applies `op` to key `key` of namespace `ns` in Region `env.replica`. `joined` is every Region's item of the key joined (undefined
 * when there is none); `visible` is that record as this Region's reads see it (settled, with due
 * fields and expired leases applied; the joined record settled when not given). Throws what the transitions throw (412, 409, 413, 422...);
 * nothing is to be stored then. An `expire-fields` op (`expireFieldsWrite`, in `env.mode`) throws
 * an `Error` when nothing of `joined` is due at its time: the sweeper writes it only after its plan
 * found something due.
 */
export function writeRegional(
  ns: string,
  key: string,
  joined: RegionalState | undefined,
  visible: RecordState | undefined,
  op: RegionalOp,
  pre: Preconditions,
  env: WriteEnv,
): RegionalWrite {
  if (op.op === 'expire-fields') {
    const w = joined ? expireFieldsWrite(joined, env.mode, op.nowMs, env) : undefined;
    if (!w) throw new Error(`nothing of ${ns}/${key} is due: no expire-fields write`);
    return { item: w.item, joined: w.joined, created: false, expired: w.expired };
  }
  // Never from less than what was read: `rev` and `vv` continue the joined record's.
  visible ??= joined ? settle(joined, env.mode).state : undefined;
  const t =
    op.op === 'put'
      ? applyPut(visible, ns, key, op.fields, pre, env, op.expire)
      : op.op === 'patch'
        ? applyPatch(visible, ns, key, op.patch, pre, env)
        : { state: applyDelete(visible, pre, env), created: false };
  const next = t.state;
  let counters = joined?.counters;
  const increments = op.op === 'patch' ? Object.entries(op.patch.increment ?? {}) : [];
  const keeps = keepsValues(op) && !incrementsDue(op, joined, Date.parse(env.now));
  for (const [f, by] of increments) counters = contribute(counters, f, env.replica, by);

  let siblings: RegionalSibling[];
  let floor = joined?.floor;
  if (op.op === 'delete') {
    siblings = [];
    floor = joined?.counters;
  } else if (keeps) {
    // No new value: the values stay as they were stored, the totals carry the increments.
    siblings = [...(joined?.siblings ?? [])];
  } else {
    const made = next.siblings[next.siblings.length - 1];
    const kept = next.siblings.slice(0, -1).map((s) => joined?.siblings.find((r) => sameDot(r, s)) ?? s);
    const fields = copyMap(made.fields);
    // An incremented field's base is what it was before: the increment is in the totals.
    const before = visible?.siblings[0]?.fields ?? newMap();
    for (const [f] of increments) {
      if (Object.hasOwn(before, f)) fields[f] = before[f];
      else delete fields[f];
    }
    // A counter's value as read (its base and every increment) may be past what DynamoDB holds
    // when Regions' increments met; a value that would store it as its base is refused (422).
    for (const f of Object.keys(joined?.counters ?? {})) {
      const v = Object.hasOwn(fields, f) ? fields[f] : undefined;
      const problem = v !== undefined && isNumeric(v) ? numberProblem(v) : undefined;
      if (problem) {
        throw new OutOfRangeError(
          f,
          `field ${JSON.stringify(f)} holds ${numericText(v as Numeric)}, a number that ${problem}, from increments made in several Regions; set it to a number DynamoDB can hold first`,
        );
      }
    }
    siblings = [...kept, { ...made, fields, ...(joined?.counters ? { seen: joined.counters } : {}) }];
  }
  // In `reject` mode a write that makes a value or deletes replaces every value it read, the
  // losers too: it names them, so that each is published as a `conflict` change.
  const buried = env.mode === 'reject' && joined && !keeps ? settle(joined, 'reject').losers : [];
  const item: RegionalState = {
    namespace: next.namespace,
    key: next.key,
    inc: next.inc,
    rev: revOf(next.vv),
    vv: next.vv,
    siblings,
    deleted: siblings.length === 0,
    updatedAt: next.updatedAt,
    ...(next.lease !== undefined ? { lease: next.lease } : {}),
    ...(counters && Object.keys(counters).length > 0 ? { counters } : {}),
    ...(floor && Object.keys(floor).length > 0 ? { floor } : {}),
    ...(buried.length > 0 ? { buried } : {}),
  };
  // (The join keeps no `buried`; without a joined record there is nothing to bury.)
  return { item, joined: joined ? join(joined, item) : item, created: t.created };
}
