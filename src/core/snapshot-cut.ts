/**
 * Point-in-time snapshots: what makes every record of a snapshot exactly as it stood at its cut.
 *
 * Every write stamps its record with the time of the write (`updatedAt`, the item's `at`), and a
 * record's stamps never go down: a write whose stamp is older than the stored one commits with the
 * stored stamp instead (and a transaction takes the newest stamp of all its keys for all of them),
 * so on every key stamp order is commit order, and all keys of a transaction carry one stamp.
 *
 * A snapshot's cut `C` is chosen `CUT_LEAD_MS` ahead and registered before it comes; the export
 * starts reading only once every write stamped at or before `C` has committed or failed: where
 * the writers run in the exporter's process (the local stack), `WritesInFlight` knows exactly;
 * elsewhere it waits `settle`, the longest a write can take (the functions' timeouts). Then:
 * - a record read with a stamp at or before `C` is as it stood at `C`;
 * - for a record read with a later stamp, the change publisher has kept its pre-image: the stored
 *   item the first write after `C` replaced (or "none": the key did not exist at `C`). The publisher
 *   sees every write's old and new image on the table's stream, in commit order per key, and keeps
 *   an old image exactly when the old stamp is at or before `C` and the new one after it.
 *
 * Since a transaction's keys share one stamp, it is wholly in or wholly out.
 */

import type { RecordState } from './record-view';

/** How far ahead of its registration a cut is set (the publisher must know a cut before it comes). */
export const CUT_LEAD_MS = 500;
/** How long the publisher may keep the list of open cuts before reading it again (below `CUT_LEAD_MS`). */
export const CUTS_CACHE_MS = 200;
/** Pre-images and open cuts are kept this long (a snapshot runs far shorter). */
export const CUT_KEEP_SECONDS = 2 * 24 * 3600;
/**
 * Default wait after the cut for writes stamped before it to commit, when no `WritesInFlight`
 * knows them: the longest a write can take from its stamp (a read, then a write, each up to three
 * attempts of 5 s; the API's and saga steps' functions time out at 29 and 30 s) and a margin.
 */
export const DEFAULT_SETTLE_MS = 33_000;
/** How long an export waits for the publisher to keep a pre-image it needs. */
export const DEFAULT_PRE_IMAGE_WAIT_MS = 5 * 60 * 1000;

/** A snapshot cut the publisher keeps pre-images for. */
export interface OpenCut {
  readonly snapshotId: string;
  /** ISO time. */
  readonly cut: string;
}

/** Stamps are ISO times of one length, so text order is time order. */
export function atOrBefore(stamp: string, cut: string): boolean {
  return stamp <= cut;
}

/**
 * Whether a write from `oldAt` to `newAt` (`undefined`: no item before / after) is the first after
 * `cut` on its key, so its old image (or "none") is the key's state at the cut.
 */
export function firstAfterCut(oldAt: string | undefined, newAt: string | undefined, cut: string): boolean {
  if (oldAt === undefined && newAt === undefined) return false;
  const oldBefore = oldAt === undefined || atOrBefore(oldAt, cut);
  const newAfter = newAt === undefined || !atOrBefore(newAt, cut);
  return oldBefore && newAfter;
}

/** The stamp a write commits with: its own, or the stored one when that is newer. */
export function stampAfter(own: string, stored: readonly (string | undefined)[]): string {
  let s = own;
  for (const t of stored) if (t !== undefined && t > s) s = t;
  return s;
}

/** A transition committed over `stored`: stamped no earlier than it. */
export function stampedAfter<T extends { readonly state: RecordState }>(t: T, stored: RecordState | undefined): T {
  if (!stored || t.state.updatedAt >= stored.updatedAt) return t;
  return { ...t, state: { ...t.state, updatedAt: stored.updatedAt } };
}

/**
 * The record writes of this process that have not ended, by stamp: a write begins when it takes
 * its stamp and ends when its last request is answered (or fails). `quiet(cut)` resolves once no
 * write stamped at or before `cut` is left; called after the cut has come, every later write
 * has a later stamp.
 */
export class WritesInFlight {
  private readonly open = new Map<number, string>();
  private next = 0;
  private waiters: { cut: string; resolve: () => void }[] = [];

  /** Registers a write stamped `stamp`; returns its end (call it once, whatever the outcome). */
  public begin(stamp: string): () => void {
    const id = this.next++;
    this.open.set(id, stamp);
    return () => {
      if (!this.open.delete(id)) return;
      this.waiters = this.waiters.filter((w) => {
        if (this.before(w.cut)) return true;
        w.resolve();
        return false;
      });
    };
  }

  /** Whether some write stamped at or before `cut` has not ended. */
  private before(cut: string): boolean {
    for (const stamp of this.open.values()) if (atOrBefore(stamp, cut)) return true;
    return false;
  }

  /** Resolves once every write stamped at or before `cut` has ended. */
  public quiet(cut: string): Promise<void> {
    if (!this.before(cut)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ cut, resolve }));
  }

  /** Writes not ended (for tests). */
  public get size(): number {
    return this.open.size;
  }
}
