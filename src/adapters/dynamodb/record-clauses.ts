/**
 * The condition clauses of the records store's single-request path: "absent or a tombstone",
 * a `require` clause as a condition on the stored field, and a patch's size bound. They must
 * agree with the pure transitions of `src/core/records.ts` (the integration tests check both).
 */
import { isNumeric } from '../../core/decimal';
import type { FieldRequire, PatchBody } from '../../core/types';
import { NUMBER_BYTES_MAX, valueSize } from '../../core/size';
import { storedName } from './codec';
import type { RecordState } from '../../core/record-view';
import { BOOL, type Expr, N, S, attributeExists, attributeNotExists } from './expressions';

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
