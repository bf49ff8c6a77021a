/**
 * The field sweeper's decision for one record it found through the `byFieldExpiry` index: remove
 * the fields due by now as one committed `expire-fields` write (`sweptState`), or, when nothing is
 * due (the stored `due` is only a lower bound: a PATCH that refreshed a field keeps the earlier
 * one), move the bound to the record's true earliest expiry without a write of its own (no `rev`,
 * no change), or leave the record alone. Pure: no I/O here.
 */
import { earliestDue, sweptState } from './field-expiry';
import type { RecordState } from './record-view';
import { stampedAfter } from './snapshot-cut';

export type SweepPlan =
  /** Commit `state` (one more `rev`) in place of the record as read; `expired` names what went. */
  | { readonly kind: 'write'; readonly state: RecordState; readonly expired: readonly string[] }
  /** Set the stored bound to `due`, or remove it (and the index entry) when `due` is undefined. */
  | { readonly kind: 'bound'; readonly due: number | undefined }
  /** The record is as it should be: nothing to do. */
  | { readonly kind: 'none' };

/**
 * What to do with `state` (as stored, with bound `storedDue`) at `nowMs`, for replica `replica`
 * at `nowIso`. The write's stamp never goes below the stored one (`stampedAfter`), like every
 * other write's. Never throws.
 */
export function sweepPlan(
  state: RecordState,
  storedDue: number | undefined,
  nowMs: number,
  replica: string,
  nowIso: string,
): SweepPlan {
  const swept = sweptState(state, nowMs, replica, nowIso);
  if (swept) {
    const { state: next } = stampedAfter({ state: swept.state }, state);
    return { kind: 'write', state: next, expired: swept.expired };
  }
  const due = state.deleted ? undefined : earliestDue(state);
  return due === storedDue ? { kind: 'none' } : { kind: 'bound', due };
}

/** Whole seconds from `oldestDue` (epoch ms) to `nowMs`; 0 when nothing was removed or it is ahead. */
export function lagSeconds(nowMs: number, oldestDue: number | undefined): number {
  return oldestDue === undefined ? 0 : Math.max(0, Math.round((nowMs - oldestDue) / 1000));
}
