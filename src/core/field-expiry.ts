/**
 * Field expiry (like Redis `HEXPIRE`): a field may carry a due time, and from that instant it is
 * absent for every read, `require`, txn compare and `increment`, whether or not the sweeper has
 * removed it yet. Every read path of the records store sees a state through `visibleAt` with the
 * service clock, so enforcement needs no request of its own; the sweeper (`src/core/field-sweep.ts`)
 * only reclaims what is already invisible, and publishes it as an `expire-fields` change.
 *
 * Each value (each sibling, in `siblings` mode) carries its own expiries, so siblings expire their
 * fields independently. A value that had fields and has none left once its due ones are gone is
 * gone; a record with no value left reads as absent (`404`), keeping `rev` and `vv`.
 */
import { type Expiries, type RecordState, type Sibling, expired } from './record-view';
import { newMap } from './values';
import { type VersionVector, bump } from './vv';

export type { Expiries } from './record-view';

/** The due time of a field that expires `seconds` after a write at `nowIso`. */
export function dueAfter(nowIso: string, seconds: number): number {
  return Date.parse(nowIso) + seconds * 1000;
}

/** Whether a field with due time `due` is gone at `nowMs` (it is, from its due instant on). */
export function isDue(due: number | undefined, nowMs: number): boolean {
  return due !== undefined && due <= nowMs;
}

/**
 * The value as reads see it at `nowMs`: without its due fields; `undefined` when it had fields and
 * every one of them is due. Returns `s` itself when nothing of it is due.
 */
export function siblingAt(s: Sibling, nowMs: number): Sibling | undefined {
  const x = s.expires;
  if (!x || !Object.keys(x).some((f) => isDue(x[f], nowMs))) return s;
  const fields = newMap();
  const expires = newMap<number>();
  for (const f of Object.keys(s.fields)) {
    if (isDue(x[f], nowMs)) continue;
    fields[f] = s.fields[f];
    if (x[f] !== undefined) expires[f] = x[f];
  }
  if (Object.keys(fields).length === 0 && Object.keys(s.fields).length > 0) return undefined;
  return withExpiries({ fields, dot: s.dot, at: s.at }, expires);
}

/** `s` with `expires` set, or without it when the map is empty. */
export function withExpiries(s: Omit<Sibling, 'expires'>, expires: Expiries): Sibling {
  return Object.keys(expires).length > 0 ? { ...s, expires } : { fields: s.fields, dot: s.dot, at: s.at };
}

/**
 * The state as every read sees it at `nowMs`: due fields dropped from each value, values left with
 * nothing dropped, and a record with no value left absent (as `expired` leaves it: `rev` and `vv`
 * kept). Returns `state` itself when nothing of it is due.
 */
export function visibleAt<T extends RecordState | undefined>(state: T, nowMs: number): T {
  if (!state || state.deleted) return state;
  const after: Sibling[] = [];
  let changed = false;
  for (const s of state.siblings) {
    const v = siblingAt(s, nowMs);
    if (v !== s) changed = true;
    if (v) after.push(v);
  }
  if (!changed) return state;
  return (after.length === 0 ? expired(state) : { ...state, siblings: after }) as T;
}

/** Names of the fields of `state` due at `nowMs`, each once, in the order the values hold them. */
export function dueFields(state: RecordState, nowMs: number): string[] {
  const out = new Set<string>();
  for (const s of state.siblings) {
    for (const f of Object.keys(s.expires ?? {})) if (isDue(s.expires![f], nowMs)) out.add(f);
  }
  return [...out];
}

/** The earliest due time of any field of any value of `state`; undefined when none expires. */
export function earliestDue(state: RecordState): number | undefined {
  let min: number | undefined;
  for (const s of state.siblings) {
    for (const f of Object.keys(s.expires ?? {})) {
      const d = s.expires![f];
      if (min === undefined || d < min) min = d;
    }
  }
  return min;
}

/**
 * The sweeper's write: `prev` without the fields due at `nowMs`, as one more committed change of
 * replica `replica` at `nowIso` (next `rev`, the replica's counter bumped; a single value takes the
 * new dot, concurrent values keep theirs). `undefined` when nothing of `prev` is due. A record left
 * with no value becomes a tombstone, like a delete.
 */
export function sweptState(
  prev: RecordState,
  nowMs: number,
  replica: string,
  nowIso: string,
): { state: RecordState; expired: string[] } | undefined {
  if (prev.deleted) return undefined;
  const names = dueFields(prev, nowMs);
  if (names.length === 0) return undefined;
  const seen = visibleAt(prev, nowMs);
  const vv: VersionVector = bump(prev.vv, replica);
  const dot = { replica, counter: vv[replica] };
  const siblings = seen.siblings.length === 1 ? [{ ...seen.siblings[0], dot, at: nowIso }] : seen.siblings;
  const state: RecordState = {
    ...seen,
    rev: prev.rev + 1,
    vv,
    siblings,
    updatedAt: nowIso,
  };
  return { state, expired: names };
}
