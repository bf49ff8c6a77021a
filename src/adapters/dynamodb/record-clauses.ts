/**
 * The condition clauses and common updates of the records store's single-request path: "absent
 * or a tombstone", If-Match and If-None-Match, a `require` clause as a condition on the stored
 * field, a patch's size bound, the stamp that never goes down, and what every write advances. They must
 * agree with the pure transitions of `src/core/records.ts` (the integration tests check both).
 */
import { isNumeric } from '../../core/decimal';
import type { FieldRequire, PatchBody } from '../../core/types';
import { NUMBER_BYTES_MAX, valueSize } from '../../core/size';
import { OP_ATTR, storedName, vvAttr } from './codec';
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
  return n;
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
    .set(`${e.name(OP_ATTR)} = ${e.value(S(op))}`);
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
