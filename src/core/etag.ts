/**
 * ETags are opaque causal contexts: the record's incarnation, `rev` and version vector. The ETag
 * of a version is a function of that version alone, so a write returns the same ETag a later GET
 * of it returns; `(inc, rev)` never repeats for a key, so no ETag is ever reused.
 */
import type { RecordState } from './record-view';
import type { VersionVector } from './vv';

export interface CausalContext {
  readonly inc: string;
  readonly rev: number;
  readonly vv: VersionVector;
}

/** Strong ETag (quoted) for a record state. */
export function etagOf(state: Pick<RecordState, 'inc' | 'rev' | 'vv'>): string {
  const vv = Object.keys(state.vv)
    .sort()
    .map((r) => [r, state.vv[r]]);
  return `"${Buffer.from(JSON.stringify([state.inc, state.rev, vv])).toString('base64url')}"`;
}

/** Parses an ETag; `undefined` when it is not one of ours (it then matches nothing). Never throws. */
export function parseEtag(etag: string): CausalContext | undefined {
  const raw = etag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 3) return undefined;
    const [inc, rev, pairs] = parsed as [unknown, unknown, unknown];
    if (typeof inc !== 'string' || !Number.isSafeInteger(rev) || (rev as number) < 1 || !Array.isArray(pairs)) {
      return undefined;
    }
    const vv: Record<string, number> = {};
    for (const p of pairs) {
      if (!Array.isArray(p) || typeof p[0] !== 'string' || !Number.isSafeInteger(p[1])) return undefined;
      vv[p[0]] = p[1];
    }
    return { inc, rev: rev as number, vv };
  } catch {
    return undefined;
  }
}

/** Whether a parsed ETag names exactly this version of the record. */
export function sameVersion(ctx: CausalContext, state: Pick<RecordState, 'inc' | 'rev'>): boolean {
  return ctx.inc === state.inc && ctx.rev === state.rev;
}
