/**
 * Several Regions in memory, on the pure rules of `src/core/regions`: each Region holds, per key,
 * its copy of every Region's item; a write reads the join of its copies, applies the transition and
 * replaces its own item; replication copies a version of one Region's item to another Region, last
 * writer wins per item (an older version than the one held is dropped), in any order, late or
 * never until the end. What it records lets the checks say where every acknowledged write went.
 */
import type { Numeric } from '../../src/core/decimal';
import { addNumeric } from '../../src/core/decimal';
import type { ConflictError, PreconditionFailedError } from '../../src/core/errors';
import type { RecordState, Sibling } from '../../src/core/record-view';
import { type RegionalState, type Settled, joinAll, settle } from '../../src/core/regions/merge';
import { type RegionalOp, writeRegional } from '../../src/core/regions/writes';
import type { ConflictMode } from '../../src/core/wire/records';
import { covers } from '../../src/core/vv';

export const dotId = (s: Pick<Sibling, 'dot'>) => `${s.dot.replica}:${s.dot.counter}`;

/** A write a Region acknowledged. */
export interface Acked {
  readonly region: string;
  readonly key: string;
  /** The dot of the value it made; undefined for a delete or an increment. */
  readonly dot?: string;
  /** Dots of the values it read and replaced (it saw them as the record's values). */
  readonly replaced: readonly string[];
  readonly increment?: { readonly field: string; readonly by: Numeric };
}

export class Regions {
  /** region → key → region of the item → versions held (the newest last). */
  private readonly held = new Map<string, Map<string, Map<string, RegionalState>>>();
  /** Every version of every Region's own item, in order: `${region}\u0000${key}` → versions. */
  public readonly versions = new Map<string, RegionalState[]>();
  public readonly acked: Acked[] = [];
  /** Dots of the values settled as losers, wherever that was seen. */
  public readonly losers = new Set<string>();
  /** `key|dot` of the losers writes replaced and named (`buried`): the `conflict` changes published. */
  public readonly published = new Set<string>();
  public now = Date.parse('2026-01-01T00:00:00Z');

  public constructor(
    public readonly ids: readonly string[],
    public readonly mode: ConflictMode,
  ) {
    for (const r of ids) this.held.set(r, new Map());
  }

  private copies(region: string, key: string): Map<string, RegionalState> {
    const byKey = this.held.get(region)!;
    if (!byKey.has(key)) byKey.set(key, new Map());
    return byKey.get(key)!;
  }

  /** The record as `region` reads it now. */
  public read(region: string, key: string): Settled | undefined {
    const joined = joinAll([...this.copies(region, key).values()]);
    if (!joined) return undefined;
    const s = settle(joined, this.mode);
    for (const l of s.losers) this.losers.add(dotId(l));
    return s;
  }

  /** One write in `region`; returns the error name when it is refused. */
  public write(region: string, key: string, op: RegionalOp, ifMatch = false): string | undefined {
    this.now += 1;
    const copies = this.copies(region, key);
    const joined = joinAll([...copies.values()]);
    const seen = joined ? this.read(region, key) : undefined;
    const visible: RecordState | undefined = seen?.state;
    const pre = ifMatch && visible && !visible.deleted ? { ifMatch: { any: false as const, ctx: ctxOf(visible) } } : {};
    try {
      const w = writeRegional('ns', key, joined, visible, op, pre, {
        replica: region,
        now: new Date(this.now).toISOString(),
        mode: this.mode,
      });
      copies.set(region, w.item);
      for (const l of w.item.buried ?? []) this.published.add(`${key}|${dotId(l)}`);
      const id = `${region}\u0000${key}`;
      this.versions.set(id, [...(this.versions.get(id) ?? []), w.item]);
      const incOnly = op.op === 'patch' && !op.patch.set && !op.patch.remove && !op.patch.expire && !op.patch.persist;
      const made = op.op === 'delete' || incOnly ? undefined : w.item.siblings[w.item.siblings.length - 1];
      // What the write meant to replace, by the contract, not by what the code did: a PUT in
      // `siblings` mode the values its ETag had seen (none without one); any other write the
      // record's values it read.
      const ctx = this.mode === 'siblings' && op.op === 'put' ? (pre.ifMatch?.ctx.vv ?? {}) : (visible?.vv ?? {});
      const replaced = (visible?.siblings ?? []).filter((s) => covers(ctx, s.dot)).map(dotId);
      const inc = op.op === 'patch' ? Object.entries(op.patch.increment ?? {})[0] : undefined;
      this.acked.push({
        region,
        key,
        dot: made ? dotId(made) : undefined,
        replaced,
        ...(inc ? { increment: { field: inc[0], by: inc[1] } } : {}),
      });
      return undefined;
    } catch (e) {
      return (e as PreconditionFailedError | ConflictError).name;
    }
  }

  /**
   * Copies `from`'s item of `key` to `to`: the version `pick` (0..1) of the way from the one `to`
   * holds to the newest; an older version than the one held is never applied (last writer wins).
   */
  public deliver(from: string, to: string, key: string, pick = 1): void {
    if (from === to) return;
    const versions = this.versions.get(`${from}\u0000${key}`) ?? [];
    if (versions.length === 0) return;
    const have = this.copies(to, key).get(from);
    const at = have ? versions.indexOf(have) : -1;
    const i = Math.min(versions.length - 1, at + 1 + Math.floor(pick * (versions.length - 1 - at)));
    if (i > at) this.copies(to, key).set(from, versions[i]);
  }

  /** Every link delivers everything: the partitions have healed and replication caught up. */
  public heal(keys: readonly string[]): void {
    for (const k of keys) for (const a of this.ids) for (const b of this.ids) this.deliver(a, b, k);
  }

  /** The sum of the acknowledged increments of `field` of `key`. */
  public incrementsOf(key: string, field: string): Numeric {
    return this.acked
      .filter((a) => a.key === key && a.increment?.field === field)
      .reduce<Numeric>((n, a) => addNumeric(n, a.increment!.by), 0);
  }
}

function ctxOf(s: RecordState) {
  return { inc: s.inc, rev: s.rev, vv: s.vv };
}
