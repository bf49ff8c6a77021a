/**
 * The condition clauses and common updates of the records store's single-request path: "absent
 * or a tombstone", If-Match and If-None-Match, a `require` clause as a condition on the stored
 * field, a patch's size bound, the stamp that never goes down, and what every write advances. They must
 * agree with the pure transitions of `src/core/records.ts` (the integration tests check both).
 */
import { isNumeric } from '../../core/decimal';
import { dueAfter } from '../../core/field-expiry';
import type { FieldRequire, PatchBody } from '../../core/types';
import { NUMBER_BYTES_MAX, expirySize, valueSize } from '../../core/size';
import { OP_ATTR, fieldExpiryShard, storedName, vvAttr } from './codec';
import type { ChangeKind } from '../../core/changes';
import type { Preconditions, WriteEnv } from '../../core/records';
import type { RecordState } from '../../core/record-view';
import { BOOL, type Expr, N, S, attributeExists, attributeNotExists, ifNotExists } from './expressions';

/** The record is absent, or a tombstone. Never throws. */
export function absentClause(e: Expr): string {
  return `${attributeNotExists(e.name('rev'))} OR ${e.name('tomb')} = ${e.value(BOOL(true))}`;
}

/** The record is exactly `s` as read (same incarnation and rev), or absent when `s` is. Never throws. */
export function unchangedClause(e: Expr, s: Pick<RecordState, 'inc' | 'rev'> | undefined): string {
  return s
    ? `${e.name('inc')} = ${e.value(S(s.inc))} AND ${e.name('rev')} = ${e.value(N(s.rev))}`
    : attributeNotExists(e.name('rev'));
}

/** A require clause as a condition on `f.<field>`; undefined when only the slow path can judge it. */
export function requireClause(e: Expr, r: FieldRequire): string | undefined {
  const p = `${e.name('f')}.${e.name(storedName(r.field))}`;
  if (r.op === 'exists') return attributeExists(p);
  if (r.op === 'absent') return attributeNotExists(p);
  const v = r.value;
  if (!isNumeric(v) && typeof v !== 'string' && typeof v !== 'boolean') return undefined;
  const av = isNumeric(v) ? N(v) : typeof v === 'string' ? S(v) : BOOL(v);
  const op = r.op === '==' ? '=' : r.op === '!=' ? '<>' : r.op;
  return `${attributeExists(p)} AND ${p} ${op} ${e.value(av)}`;
}

/** Most bytes a patch can add to a record, so the fast path keeps `sz` an upper bound. */
export function patchGrowth(patch: PatchBody): number {
  const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
  let n = 0;
  for (const [k, v] of Object.entries(patch.set ?? {})) n += utf8(k) + valueSize(v);
  for (const k of Object.keys(patch.increment ?? {})) n += utf8(k) + NUMBER_BYTES_MAX;
  for (const k of Object.keys(patch.expire ?? {})) n += expirySize(k);
  return n;
}

/**
 * Nothing of the record is due at the write's time (`due`, a lower bound of its earliest field
 * expiry, is later), so the single-request path's clauses and updates, which read stored fields
 * as they are, agree with what reads see. A record with a due field takes the conflict path,
 * which sees it through `visibleAt`. Never throws.
 */
export function nothingDue(e: Expr, env: WriteEnv): void {
  const due = e.name('due');
  e.require(`${attributeNotExists(due)} OR ${due} > ${e.value(N(Date.parse(env.now)))}`);
}

/**
 * Sets the `byFieldExpiry` attributes of a write whose earliest new expiry is `earliest`: exactly
 * (`exact`, a write that replaces every value) or as a lower bound kept from before (a PATCH: the
 * stored bound is kept when it is earlier, and a write that would lower it takes the conflict
 * path, which computes it). Without `earliest`, an exact write removes them. Never throws.
 */
export function dueBound(e: Expr, ns: string, key: string, earliest: number | undefined, exact: boolean): void {
  if (earliest === undefined) {
    if (exact) e.remove(e.name('due')).remove(e.name('xshard'));
    return;
  }
  const due = e.name('due');
  const shard = e.name('xshard');
  const v = e.value(N(earliest));
  if (exact) e.set(`${due} = ${v}`);
  else {
    e.require(`${attributeNotExists(due)} OR ${due} <= ${v}`);
    e.set(`${due} = ${ifNotExists(due, v)}`);
  }
  e.set(`${shard} = ${e.value(S(fieldExpiryShard(ns, key)))}`);
}

/** Adds the next rev, version-vector entry, dot and write time; sets the tombstone flag and the kind of write. */
export function advance(e: Expr, env: WriteEnv, op: ChangeKind): void {
  const tomb = op === 'delete' || op === 'expire';
  const vr = e.name(vvAttr(env.replica));
  const zero = e.value(N(0));
  const one = e.value(N(1));
  const rev = e.name('rev');
  e.set(`${rev} = ${ifNotExists(rev, zero)} + ${one}`)
    .set(`${vr} = ${ifNotExists(vr, zero)} + ${one}`)
    .set(`${e.name('dn')} = ${ifNotExists(vr, zero)} + ${one}`)
    .set(`${e.name('dr')} = ${e.value(S(env.replica))}`)
    .set(`${e.name('at')} = ${e.value(S(env.now))}`)
    .set(`${e.name('tomb')} = ${e.value(BOOL(tomb))}`)
    .set(`${e.name(OP_ATTR)} = ${e.value(S(op))}`)
    .remove(e.name('xf'));
}

/**
 * A single-request write commits only over an older (or equal) stamp; over a newer one (a
 * write of a clock ahead, or one that overtook this), the conflict path commits with that stamp
 * instead. So a record's stamps never go down (`src/core/snapshot-cut.ts`).
 */
export function stampNotBefore(e: Expr, env: WriteEnv): void {
  const at = e.name('at');
  e.require(`${attributeNotExists(at)} OR ${at} <= ${e.value(S(env.now))}`);
}

/** Expresses If-Match / If-None-Match as conditions; false when only the slow path can decide. */
export function preconditionClauses(e: Expr, pre: Preconditions): boolean {
  if (pre.ifNoneMatch) e.require(absentClause(e));
  const m = pre.ifMatch;
  if (!m) return true;
  if (!m.any && !m.ctx) return false;
  e.require(`${e.name('tomb')} = ${e.value(BOOL(false))}`);
  if (!m.any)
    e.require(`${e.name('inc')} = ${e.value(S(m.ctx!.inc))} AND ${e.name('rev')} = ${e.value(N(m.ctx!.rev))}`);
  return true;
}

/**
 * The `fx` updates of a single-request PATCH: setting or removing a field clears its expiry,
 * `persist` drops it, `expire` sets it (`increment` keeps it), and the `due` bound. False when only
 * the conflict path can decide: an `expire` or `persist` of a field the patch removes (412).
 * A field named in `expire` or `persist` that the patch neither sets nor increments must exist.
 */
export function expiryUpdates(e: Expr, ns: string, key: string, patch: PatchBody, env: WriteEnv): boolean {
  const expire = patch.expire ?? {};
  const persist = patch.persist ?? [];
  const named = [...Object.keys(expire), ...persist];
  const removed = new Set(patch.remove ?? []);
  if (named.some((n) => removed.has(n))) return false;
  const set = patch.set ?? {};
  const written = (n: string) => Object.hasOwn(set, n) || Object.hasOwn(patch.increment ?? {}, n);
  const f = e.name('f');
  const member = (n: string) => `${e.name('fx')}.${e.name(storedName(n))}`;
  let touched = false;
  // Each name once: one path may not appear twice in an expression (`persist` may repeat a name).
  for (const n of new Set(named)) if (!written(n)) e.require(attributeExists(`${f}.${e.name(storedName(n))}`));
  for (const n of new Set([...Object.keys(set), ...removed, ...persist])) {
    if (Object.hasOwn(expire, n)) continue;
    e.remove(member(n));
    touched = true;
  }
  let earliest: number | undefined;
  for (const [n, secs] of Object.entries(expire)) {
    const due = dueAfter(env.now, secs);
    e.set(`${member(n)} = ${e.value(N(due))}`);
    earliest = earliest === undefined ? due : Math.min(earliest, due);
    touched = true;
  }
  // An item written before field expiry existed has no `fx` map to update: the conflict path writes one.
  if (touched) e.require(attributeExists(e.name('fx')));
  dueBound(e, ns, key, earliest, false);
  return true;
}
