/**
 * Change events: what every committed write looks like to the outside (`vesta.StateChanged` on
 * the event bus, and the items of `GET /v1/ns/{ns}/changes`), their stable ids and the watch
 * cursor. Pure: the stream decoding and the change log live in `src/adapters`.
 *
 * Lifecycle of one change: a write commits a record item with the next `rev` and the kind of
 * write in `op`; the table's stream carries the new image; the publisher turns it into a
 * `Change`, appends it to the namespace's change log (numbered without gaps, once per id) and puts
 * it on the event bus. A replayed stream batch yields the same ids, so the log skips what it has
 * and a bus consumer can tell a repeated event from a new one.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from './errors';
import { type RecordState, type Sibling, valueView } from './record-view';
import type { Fields } from './values';
import type { VersionVector } from './vv';
import { CHANGE_KINDS, type ChangeDetail, type ChangeKind } from './wire/changes';

export { CHANGE_KINDS } from './wire/changes';
export { DEFAULT_CHANGES_LIMIT, MAX_CHANGES_LIMIT, MAX_WAIT_SECONDS } from './wire/constants';
export type { ChangeDetail, ChangeKind } from './wire/changes';

/** EventBridge envelope of every change event. */
export const EVENT_SOURCE = 'vesta';
export const EVENT_DETAIL_TYPE = 'vesta.StateChanged';

/** Changes are kept at least this long; an older cursor is `410 CursorExpired`. */
export const DEFAULT_CHANGE_RETENTION_SECONDS = 24 * 3600;

export function isChangeKind(v: unknown): v is ChangeKind {
  return typeof v === 'string' && (CHANGE_KINDS as readonly string[]).includes(v);
}

/** The stable id of the change that gave `key` revision `rev` in incarnation `inc`. */
export function changeId(namespace: string, key: string, inc: string, rev: number): string {
  return createHash('sha256').update(`${namespace}\u0000${key}\u0000${inc}\u0000${rev}`).digest('hex').slice(0, 32);
}

/**
 * The change a committed state stands for. `kind` is what the write recorded; `expired` the fields
 * an `expire-fields` write removed (`xf` of the item). A tombstone is `delete` or `expire`, except
 * one left by an `expire-fields` write (every field of the record expired): that one is
 * `expire-fields` with `expired` and without `fields`, as the contract publishes removing expired
 * fields; its record reads as absent from then on, as after a delete. A live record's change
 * carries the newest value's `fields` and, when some of them expire, `expires` (field to ISO time),
 * and in siblings mode each value with its own; the change log keeps them so that readers can
 * leave out what is due by the time they read (`changeAt`).
 */
export function changeOf(state: RecordState, kind: ChangeKind, expired?: readonly string[]): ChangeDetail {
  const base = {
    id: changeId(state.namespace, state.key, state.inc, state.rev),
    namespace: state.namespace,
    key: state.key,
    rev: state.rev,
    vv: state.vv,
  };
  const names = kind === 'expire-fields' ? { expired: [...(expired ?? [])] } : {};
  if (state.deleted)
    return kind === 'expire-fields'
      ? { ...base, change: kind, ...names }
      : { ...base, change: kind === 'expire' ? 'expire' : 'delete' };
  const newest = state.siblings[state.siblings.length - 1] as Sibling | undefined;
  const change = kind === 'delete' || kind === 'expire' ? 'put' : kind;
  return {
    ...base,
    change,
    ...(newest ? valueView(newest) : { fields: {} }),
    ...(state.siblings.length > 1
      ? { siblings: state.siblings.map((s) => ({ ...valueView(s), updatedAt: s.at })) }
      : {}),
    ...names,
  };
}

type ValueDetail = { readonly fields: Fields; readonly expires?: Readonly<Record<string, string>> };

/** `v` without the fields due at `nowMs`; `undefined` when it had fields and every one is due. */
function valueAt<V extends ValueDetail>(v: V, nowMs: number): V | undefined {
  const x = v.expires;
  if (!x || !Object.keys(x).some((f) => Date.parse(x[f]) <= nowMs)) return v;
  const fields: Fields = Object.create(null) as Fields;
  const expires: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const f of Object.keys(v.fields)) {
    if (Object.hasOwn(x, f) && Date.parse(x[f]) <= nowMs) continue;
    fields[f] = v.fields[f];
    if (Object.hasOwn(x, f)) expires[f] = x[f];
  }
  if (Object.keys(fields).length === 0 && Object.keys(v.fields).length > 0) return undefined;
  const { expires: _old, ...rest } = v;
  return { ...rest, fields, ...(Object.keys(expires).length > 0 ? { expires } : {}) } as V;
}

/**
 * A change as a reader sees it at `nowMs` (the service clock when the feed is read, or when the
 * event is published): the fields due by then left out of `fields`, `expires` and each sibling, as
 * every read of the record leaves them out. A sibling with nothing left is left out (`siblings` is
 * dropped when one value is left); `fields` is the newest value left, `{}` when none is. Returns
 * `c` itself when nothing of it is due; a change without fields (delete, placeholder) as it is.
 */
export function changeAt(c: ChangeDetail, nowMs: number): ChangeDetail {
  if (c.fields === undefined) return c;
  if (c.siblings) {
    const left = c.siblings.map((s) => valueAt(s, nowMs));
    if (left.every((s, i) => s === c.siblings![i])) return c;
    const { siblings: _s, fields: _f, expires: _x, ...rest } = c;
    const kept = left.filter((s) => s !== undefined);
    const newest = kept[kept.length - 1];
    return {
      ...rest,
      ...(newest ? { fields: newest.fields, ...(newest.expires ? { expires: newest.expires } : {}) } : { fields: {} }),
      ...(kept.length > 1 ? { siblings: kept } : {}),
    };
  }
  const v = valueAt({ fields: c.fields, ...(c.expires ? { expires: c.expires } : {}) }, nowMs);
  if (v && v.fields === c.fields) return c;
  const { fields: _f, expires: _x, ...rest } = c;
  return { ...rest, ...(v ?? { fields: {} }) };
}

/** A position in one namespace's change log: the number of the last change seen. */
export interface ChangeCursor {
  readonly namespace: string;
  readonly seq: number;
}

/** Opaque to clients: base64url of `c1.<seq>.<namespace>`. */
export function encodeCursor(c: ChangeCursor): string {
  return Buffer.from(`c1.${c.seq}.${c.namespace}`, 'utf8').toString('base64url');
}

/** Throws `ValidationError` (field `after`) for a cursor that is malformed or of another namespace. */
export function decodeCursor(raw: string, namespace: string): ChangeCursor {
  const text = /^[A-Za-z0-9_-]{1,200}$/.test(raw) ? Buffer.from(raw, 'base64url').toString('utf8') : '';
  const m = /^c1\.(0|[1-9]\d{0,15})\.(.+)$/.exec(text);
  if (!m) throw new ValidationError('after', 'not a change cursor; pass the `cursor` of a previous answer');
  if (m[2] !== namespace) throw new ValidationError('after', `a cursor of namespace ${m[2]}, not of ${namespace}`);
  return { namespace, seq: Number(m[1]) };
}

/** Whether a key is one a `prefix` filter keeps. */
export function keyMatches(key: string, prefix: string | undefined): boolean {
  return !prefix || key.startsWith(prefix);
}

/** What a placeholder is built from: whatever of the change could be read. */
export interface PlaceholderSource {
  readonly namespace: string;
  readonly key: string;
  readonly inc: string;
  readonly rev: number;
  readonly vv: VersionVector;
  readonly change: ChangeKind;
}

/** The change that takes the place of one set aside as dead letter `deadLetter`: same id, no fields. */
export function placeholderChange(p: PlaceholderSource, deadLetter: string): ChangeDetail {
  return {
    id: changeId(p.namespace, p.key, p.inc, p.rev),
    namespace: p.namespace,
    key: p.key,
    rev: p.rev,
    vv: p.vv,
    change: p.change,
    fieldsOmitted: true,
    deadLetter,
  };
}

/** The placeholder of a change decoded but refused by the change log: its id, key, rev, vv and kind. */
export function placeholderOf(c: ChangeDetail, deadLetter: string): ChangeDetail {
  return {
    id: c.id,
    namespace: c.namespace,
    key: c.key,
    rev: c.rev,
    vv: c.vv,
    change: c.change,
    fieldsOmitted: true,
    deadLetter,
  };
}

/** The change a replay publishes for a placeholder: the change itself, under an id of its own. */
export function replayedChange(change: ChangeDetail): ChangeDetail {
  const id = createHash('sha256').update(`${change.id}\u0000replay`).digest('hex').slice(0, 32);
  return { ...change, id, replayOf: change.id };
}
