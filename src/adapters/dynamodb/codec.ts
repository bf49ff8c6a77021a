/**
 * Maps a record's state to its DynamoDB item and back.
 *
 * Item layout (records table, key `ns` + `k`):
 * - `rev` (N), `inc` (S): write counter and incarnation, the ETag's parts;
 * - `@<replica>` (N): one flat attribute per version-vector entry, so a blind write can advance
 *   it with `if_not_exists` even on a new item (a nested `vv.r` path fails when `vv` is missing);
 * - `f` (M), `dr` (S), `dn` (N): the newest value's fields and dot; `at` (S): time of last write;
 * - `sx` (L): the other concurrent values (siblings mode), each `{f, dr, dn, at}`; absent when none;
 * - `tomb` (BOOL): a deleted key's tombstone (then `f` is an empty map, kept so that PATCH's
 *   single-request path can re-create it); `sz` (N): an upper bound of the fields' size;
 * - `was` (BOOL): internal, the `tomb` flag before the last single-request write (tells "created");
 * - `lease` (S): the lease the record belongs to; such records take the conditional path, which
 *   checks the lease (a record of an expired lease is gone for every read and write);
 * - `op` (S): the kind of the last write (`put`, `patch`, `delete`, `expire`, `expire-fields`),
 *   which the table's stream hands to the change publisher (`src/core/changes.ts`);
 * - `fx` (M): the newest value's field expiries, stored field name to due time (epoch ms, N); every
 *   full write stores it, empty when nothing expires, so a single-request PATCH can set a member
 *   (each sibling in `sx` carries its own `fx`). `due` (N): a lower bound of the earliest due time
 *   of any value's fields (exact after a full write; a PATCH that adds a later expiry keeps the
 *   earlier bound), and `xshard` (S, `fx#<n>` from the key): the sparse `byFieldExpiry` index the
 *   field sweeper reads, present only while some field expires (`src/core/field-expiry.ts`);
 *   `xf` (L of S): the fields the last `expire-fields` write removed.
 *
 * Field values map to DynamoDB's document types one to one (`N` holds the exact decimal text),
 * except a value DynamoDB's document form cannot hold (nested too deep, or a map with an empty
 * member name), which is stored as its JSON text in a binary attribute (`B`): no JSON value
 * maps to `B` otherwise, so the two never mix. A member named `__proto__` is stored as
 * `\u0000__proto__` (and a name starting with NUL gets one more), because the SDK's error-path
 * deserializer (the item of a failed condition) builds maps with a prototype and loses such a
 * member; no stored map has a member the SDK could mistake for the prototype. The SDK's `marshall`/`unmarshall` are not used for
 * fields: they round numbers through doubles unless wrapped, and build maps with a prototype.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { ChangeKind } from '../../core/changes';
import { isNumeric, numberFromText, numericText } from '../../core/decimal';
import { MalformedItemError } from '../../core/errors';
import { parseJson, stringifyJson } from '../../core/json';
import type { Expiries, Fields, JsonValue, RecordState, Sibling } from '../../core/record-view';
import { NATIVE_VALUE_DEPTH, siblingSize } from '../../core/size';
import { earliestDue } from '../../core/field-expiry';
import { newMap } from '../../core/values';

export type Item = Record<string, AttributeValue>;

export const VV_PREFIX = '@';

export function vvAttr(replica: string): string {
  return `${VV_PREFIX}${replica}`;
}

const ESCAPE = '\u0000';

/** The name a field or member is stored under (see the file comment). Never throws. */
export function storedName(name: string): string {
  return name === '__proto__' || name.charCodeAt(0) === 0 ? ESCAPE + name : name;
}

function nameFromStore(stored: string): string {
  return stored.charCodeAt(0) === 0 ? stored.slice(1) : stored;
}

/** Thrown inside `nativeAttr` when a value needs its text form. */
const TOO_DEEP = Symbol('not native');

function nativeAttr(v: JsonValue, depth: number): AttributeValue {
  if (v === null) return { NULL: true };
  if (typeof v === 'boolean') return { BOOL: v };
  if (typeof v === 'string') return { S: v };
  if (isNumeric(v)) return { N: numericText(v) };
  if (depth >= NATIVE_VALUE_DEPTH) throw TOO_DEEP;
  if (Array.isArray(v)) return { L: v.map((x) => nativeAttr(x, depth + 1)) };
  const m = newMap<AttributeValue>();
  for (const k of Object.keys(v)) {
    if (k.length === 0) throw TOO_DEEP;
    m[storedName(k)] = nativeAttr(v[k], depth + 1);
  }
  return { M: m };
}

/** A field value as an attribute value. Never throws for a value the domain holds. */
export function valueToAttr(v: JsonValue): AttributeValue {
  try {
    return nativeAttr(v, 0);
  } catch (e) {
    if (e !== TOO_DEEP) throw e;
    return { B: Buffer.from(stringifyJson(v), 'utf8') };
  }
}

/** A field value from its attribute value. Throws `TypeError` for a type no field value is stored as. */
export function attrToValue(av: AttributeValue): JsonValue {
  if (av.NULL) return null;
  if (av.BOOL !== undefined) return av.BOOL;
  if (av.S !== undefined) return av.S;
  if (av.N !== undefined) return numberFromText(av.N);
  if (av.L) return av.L.map(attrToValue);
  if (av.M) return unmarshallMap(av.M);
  // A Lambda stream event carries binary attributes as base64 text; the SDK as bytes.
  if (av.B) {
    const b: Uint8Array | string = av.B;
    const text = typeof b === 'string' ? Buffer.from(b, 'base64').toString('utf8') : Buffer.from(b).toString('utf8');
    return parseJson(text, Infinity) as JsonValue;
  }
  throw new TypeError(`no field value is stored as ${Object.keys(av).join(', ') || 'an empty attribute'}`);
}

function unmarshallMap(m: Record<string, AttributeValue>): Fields {
  const out = newMap();
  for (const k of Object.keys(m)) out[nameFromStore(k)] = attrToValue(m[k]);
  return out;
}

export function marshallFields(fields: Fields): AttributeValue {
  const m = newMap<AttributeValue>();
  for (const k of Object.keys(fields)) m[storedName(k)] = valueToAttr(fields[k]);
  return { M: m };
}

function unmarshallFields(av: AttributeValue | undefined): Fields {
  return av?.M ? unmarshallMap(av.M) : newMap();
}

function expiriesFrom(av: AttributeValue | undefined): Expiries | undefined {
  const m = av?.M;
  if (!m) return undefined;
  const names = Object.keys(m);
  if (names.length === 0) return undefined;
  const out = newMap<number>();
  for (const k of names) out[nameFromStore(k)] = Number(m[k].N);
  return out;
}

/** A value's expiries as the `fx` map (empty when none expires). */
export function expiriesTo(expires: Expiries | undefined): AttributeValue {
  const m = newMap<AttributeValue>();
  for (const k of Object.keys(expires ?? {})) m[storedName(k)] = { N: String(expires![k]) };
  return { M: m };
}

/** A value from its map (an `sx` entry, or the item itself for the newest value). */
export function siblingFrom(m: Item): Sibling {
  const expires = expiriesFrom(m.fx);
  return {
    fields: unmarshallFields(m.f),
    ...(expires ? { expires } : {}),
    dot: { replica: m.dr?.S ?? '', counter: Number(m.dn?.N ?? 0) },
    at: m.at?.S ?? '',
  };
}

/** A value as an `sx` entry. */
export function siblingTo(s: Sibling): Item {
  return {
    f: marshallFields(s.fields),
    ...(s.expires ? { fx: expiriesTo(s.expires) } : {}),
    dr: { S: s.dot.replica },
    dn: { N: String(s.dot.counter) },
    at: { S: s.at },
  };
}

/** Shards of the `byFieldExpiry` index: a record's shard comes from its namespace and key. */
export const FIELD_EXPIRY_SHARDS = 8;

/** The `byFieldExpiry` partition of a record (`fx#<n>`), fixed by its namespace and key. */
export function fieldExpiryShard(ns: string, key: string): string {
  let h = 0x811c9dc5;
  for (const ch of `${ns}\u0000${key}`) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 0x01000193) >>> 0;
  return `fx#${h % FIELD_EXPIRY_SHARDS}`;
}

/** The type each attribute of a records-table item must have when present (`checkItem`). */
const ATTRIBUTE_TYPES: Readonly<Record<string, keyof AttributeValue>> = {
  ns: 'S',
  k: 'S',
  rev: 'N',
  inc: 'S',
  f: 'M',
  dr: 'S',
  dn: 'N',
  at: 'S',
  sx: 'L',
  tomb: 'BOOL',
  lease: 'S',
  op: 'S',
  fx: 'M',
  due: 'N',
  xshard: 'S',
  xf: 'L',
};

/** Throws `MalformedItemError` naming the first attribute that is missing or of the wrong type. */
function checkItem(item: Item): void {
  const bad = (name: string, want: string) =>
    new MalformedItemError(
      name,
      `records item ${JSON.stringify(item.ns?.S ?? '?')}/${JSON.stringify(item.k?.S ?? '?')}: attribute ${name} must be ${want}`,
    );
  for (const key of ['ns', 'k']) if (typeof item[key]?.S !== 'string') throw bad(key, 'a string (S)');
  for (const [name, av] of Object.entries(item)) {
    const want = ATTRIBUTE_TYPES[name] ?? (name.startsWith(VV_PREFIX) ? 'N' : undefined);
    if (want && (av as unknown as Record<string, unknown>)[want] === undefined) throw bad(name, `of type ${want}`);
  }
  (item.sx?.L ?? []).forEach((x, i) => {
    if (
      x.M === undefined ||
      (x.M.f !== undefined && x.M.f.M === undefined) ||
      (x.M.fx !== undefined && x.M.fx.M === undefined)
    )
      throw bad(`sx[${i}]`, 'a map (M) whose f and fx are maps');
  });
}

/**
 * Decodes a records-table item. Throws `MalformedItemError` for an item whose attributes are not
 * of the types Vesta writes (checked first), and what unmarshalling throws for values it cannot hold.
 */
export function fromItem(item: Item): RecordState {
  checkItem(item);
  const vv: Record<string, number> = {};
  for (const [name, av] of Object.entries(item)) {
    if (name.startsWith(VV_PREFIX) && av.N) vv[name.slice(VV_PREFIX.length)] = Number(av.N);
  }
  const deleted = item.tomb?.BOOL === true;
  const extra = (item.sx?.L ?? []).map((x) => siblingFrom(x.M ?? {}));
  return {
    namespace: item.ns.S!,
    key: item.k.S!,
    inc: item.inc?.S ?? '',
    rev: Number(item.rev?.N ?? 0),
    vv,
    siblings: deleted ? [] : [...extra, siblingFrom(item)],
    deleted,
    updatedAt: item.at?.S ?? '',
    ...(item.lease?.S && !deleted ? { lease: item.lease.S } : {}),
  };
}

/** The attribute that records the kind of the last write. */
export const OP_ATTR = 'op';

/**
 * Encodes a full state, for conditional puts (slow path and transactions); `op` is the kind of
 * write, `expired` the fields an `expire-fields` write removed.
 */
export function toItem(
  state: RecordState,
  op: ChangeKind = state.deleted ? 'delete' : 'put',
  expired?: readonly string[],
): Item {
  const newest = state.siblings[state.siblings.length - 1];
  const item: Item = {
    ns: { S: state.namespace },
    k: { S: state.key },
    rev: { N: String(state.rev) },
    inc: { S: state.inc },
    tomb: { BOOL: state.deleted },
    at: { S: state.updatedAt },
    f: marshallFields(newest?.fields ?? {}),
    fx: expiriesTo(newest?.expires),
    sz: { N: String(state.siblings.reduce((n, s) => n + siblingSize(s), 0)) },
    [OP_ATTR]: { S: op },
  };
  const due = earliestDue(state);
  if (due !== undefined)
    Object.assign(item, { due: { N: String(due) }, xshard: { S: fieldExpiryShard(state.namespace, state.key) } });
  if (expired) item.xf = { L: expired.map((n) => ({ S: n })) };
  if (newest) Object.assign(item, { dr: { S: newest.dot.replica }, dn: { N: String(newest.dot.counter) } });
  for (const [r, n] of Object.entries(state.vv)) item[vvAttr(r)] = { N: String(n) };
  if (state.lease && !state.deleted) item.lease = { S: state.lease };
  if (state.siblings.length > 1) item.sx = { L: state.siblings.slice(0, -1).map((s) => ({ M: siblingTo(s) })) };
  return item;
}

export function keyOf(ns: string, key: string): Item {
  return { ns: { S: ns }, k: { S: key } };
}
