/**
 * The record as stored (`RecordState`) and as the API shows it (`RecordView`, whose schema is in
 * `wire/record-views.ts`).
 */
import type { Fields } from './values';
import type { Dot, VersionVector } from './vv';
import type { RecordView } from './wire/record-views';

export type { RecordView, SiblingsRecordView, SingleRecordView } from './wire/record-views';
export type { Fields, JsonValue } from './values';

/** Field name to its due time (epoch milliseconds), a null-prototype map (`field-expiry.ts`). */
export type Expiries = Readonly<Record<string, number>>;

export interface Sibling {
  readonly fields: Fields;
  /** Due times of the fields that expire; absent when none does. */
  readonly expires?: Expiries;
  readonly dot: Dot;
  /** ISO-8601 time the value was written. */
  readonly at: string;
}

/**
 * One key's stored state. A deleted key keeps a tombstone (no siblings, `deleted: true`) so that
 * `rev` keeps growing across delete and re-create and no ETag is ever reused.
 */
export interface RecordState {
  readonly namespace: string;
  readonly key: string;
  /** Incarnation: random, fixed when the item is first created; part of every ETag. */
  readonly inc: string;
  readonly rev: number;
  readonly vv: VersionVector;
  /** Live values: one, or several concurrent ones in `siblings` mode; empty when deleted. */
  readonly siblings: readonly Sibling[];
  readonly deleted: boolean;
  /** ISO-8601 time of the last write (the delete, for a tombstone). */
  readonly updatedAt: string;
  /** The lease the record belongs to, if any; the record is gone once that lease expires. */
  readonly lease?: string;
}

/** The state as reads must see it once its lease has expired: gone, but `rev` and `vv` kept. */
export function expired(state: RecordState): RecordState {
  return { ...state, siblings: [], deleted: true, lease: undefined };
}

export function isLive(state: RecordState | undefined): state is RecordState {
  return state !== undefined && !state.deleted && state.siblings.length > 0;
}

export function hasSiblings(state: RecordState): boolean {
  return state.siblings.length > 1;
}

/** Keeps only the named fields (all when `only` is undefined). */
export function pickFields(fields: Fields, only?: readonly string[]): Fields {
  if (!only) return fields;
  // A null-prototype map, as everywhere in the domain (values.ts' helpers depend on this file).
  const out: Fields = Object.create(null) as Fields;
  for (const f of only) if (Object.hasOwn(fields, f)) out[f] = fields[f];
  return out;
}

/** Expiries as the API shows them (field to ISO time), of the fields in `only` if given; undefined when none. */
export function expiriesView(
  expires: Expiries | undefined,
  only?: readonly string[],
): Record<string, string> | undefined {
  if (!expires) return undefined;
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const f of only ?? Object.keys(expires)) {
    if (Object.hasOwn(expires, f)) out[f] = new Date(expires[f]).toISOString();
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** `fields` and, when some of them expire, `expires`, of one value (only the fields in `only` if given). */
export function valueView(s: Sibling, only?: readonly string[]): { fields: Fields; expires?: Record<string, string> } {
  const expires = expiriesView(s.expires, only);
  return { fields: pickFields(s.fields, only), ...(expires ? { expires } : {}) };
}

/** The API's view of a live record; `null` for an absent or deleted one. */
export function toView(state: RecordState | undefined, only?: readonly string[]): RecordView | null {
  if (!isLive(state)) return null;
  if (hasSiblings(state)) {
    return {
      namespace: state.namespace,
      key: state.key,
      rev: state.rev,
      vv: state.vv,
      siblings: state.siblings.map((s) => ({ ...valueView(s, only), updatedAt: s.at })),
    };
  }
  const s = state.siblings[0];
  return {
    namespace: state.namespace,
    key: state.key,
    ...valueView(s, only),
    rev: state.rev,
    vv: state.vv,
    lease: state.lease !== undefined ? true : null,
    updatedAt: state.updatedAt,
  };
}
