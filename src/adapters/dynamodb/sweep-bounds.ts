/**
 * What the field sweepers of one Region and of several share (`field-sweeper.ts`,
 * `regional-sweeper.ts`): how often one record is tried, what sweeping it did, and the update
 * that moves a record's `due` bound without a new `rev`.
 */
import type { Expr } from './expressions';
import { N, S } from './expressions';
import { fieldExpiryShard } from './codec';

/** Reads and writes of one record before it is left to the next run (each lost race re-reads it). */
export const SWEEP_RACE_ATTEMPTS = 3;

/** What sweeping one record did. */
export interface RecordSweep {
  /** Items read (one per try; in several Regions, each Region's item of the key found). */
  readonly reads: number;
  /** The fields the write removed; empty when it wrote none. */
  readonly removed: readonly string[];
  /** The earliest due time among them, when it removed some. */
  readonly oldestDue?: number;
}

/**
 * The update that moves a record's `due` bound to `due` (and keeps its index partition), or
 * removes the bound and the index entry when `due` is undefined; `e` already holds the condition.
 * Neither `rev` nor `op` changes, so the change publisher sees no change.
 */
export function boundUpdate(
  e: Expr,
  ns: string,
  key: string,
  due: number | undefined,
): ReturnType<Expr['updateParams']> {
  if (due === undefined) e.remove(e.name('due')).remove(e.name('xshard'));
  else
    e.set(`${e.name('due')} = ${e.value(N(due))}`).set(
      `${e.name('xshard')} = ${e.value(S(fieldExpiryShard(ns, key)))}`,
    );
  return e.updateParams();
}
