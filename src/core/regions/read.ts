/**
 * What a read of a key returns in a deployment of several Regions (docs/regions.md): every
 * Region's item of the key joined (`merge.ts`), settled in the conflict mode of the newest item.
 * Reads, listings and snapshot exports all make a record this way. Pure functions, no I/O.
 */
import type { RecordState } from '../record-view';
import type { ConflictMode } from '../wire/records';
import { type RegionalState, joinAll, settle } from './merge';

/** One Region's item of a key, decoded: the Region that owns it, the mode of its last write, its state. */
export interface RegionalItem {
  readonly region: string;
  readonly mode: ConflictMode;
  readonly state: RegionalState;
  /** The stored `due` bound of the item's field expiries (`codec.ts`), when it has one. */
  readonly due?: number;
}

/**
 * The conflict mode reads settle in: the newest item's (by write time, then Region id), the same
 * in every Region; `reject` when there is no item. Never throws.
 */
export function modeOf(items: readonly RegionalItem[]): ConflictMode {
  const newest = [...items].sort((a, b) =>
    a.state.updatedAt !== b.state.updatedAt
      ? a.state.updatedAt < b.state.updatedAt
        ? -1
        : 1
      : a.region < b.region
        ? -1
        : 1,
  );
  return newest[newest.length - 1]?.mode ?? 'reject';
}

/**
 * The record a key's items read as: joined, settled in the mode of the newest item (counter
 * values computed, siblings kept in `siblings` mode, one winner in `reject` mode), before due
 * fields and leases are applied. `undefined` when there is no item; a record with no value left
 * is `deleted`. Never throws.
 */
export function readOf(items: readonly RegionalItem[]): RecordState | undefined {
  const joined = joinAll(items.map((i) => i.state));
  return joined ? settle(joined, modeOf(items)).state : undefined;
}
