/**
 * Record sizes, counted the way DynamoDB counts item sizes (UTF-8 bytes of names and strings,
 * about one byte per two digits of a number, 3 bytes per map or list plus 1 per element), so
 * that the 350 KiB record limit leaves room for metadata under DynamoDB's 400 KB item limit.
 */
import { isNumeric, numericText } from './decimal';
import { stringifyJson } from './json';
import type { Fields, JsonValue, Sibling } from './record-view';

/** Largest record, in bytes of fields across all siblings. */
export const MAX_RECORD_BYTES = 350 * 1024;
/** Largest request body. */
export const MAX_BODY_BYTES = 256 * 1024;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** Upper bound DynamoDB uses for any number. */
export const NUMBER_BYTES_MAX = 21;

/**
 * Deepest nesting of lists and maps (a scalar is 0, `[1]` is 1) that a field value keeps in
 * DynamoDB's own document form. DynamoDB nests at most 32 levels; a sibling's value sits three
 * levels down its item. A deeper value, or one with an empty member name (which DynamoDB maps
 * cannot hold), is stored as its JSON text instead, and counted by that text's size.
 */
export const NATIVE_VALUE_DEPTH = 28;

/** Whether DynamoDB's document form can hold the value (depth, member names). Never throws. */
export function storableNatively(v: JsonValue, depth = 0): boolean {
  if (v === null || typeof v !== 'object' || isNumeric(v)) return true;
  if (depth >= NATIVE_VALUE_DEPTH) return false;
  if (Array.isArray(v)) return v.every((x) => storableNatively(x, depth + 1));
  return Object.keys(v).every((k) => k.length > 0 && storableNatively(v[k], depth + 1));
}

function nativeSize(v: JsonValue): number {
  if (v === null || typeof v === 'boolean') return 1;
  if (isNumeric(v)) {
    const digits = numericText(v)
      .replace(/^-/, '')
      .replace(/e.*$/i, '')
      .replace('.', '')
      .replace(/^0+/, '')
      .replace(/0+$/, '').length;
    return Math.min(NUMBER_BYTES_MAX, Math.ceil(Math.max(digits, 1) / 2) + 1);
  }
  if (typeof v === 'string') return utf8(v);
  if (Array.isArray(v)) return 3 + v.reduce<number>((n, x) => n + 1 + nativeSize(x), 0);
  return 3 + Object.keys(v).reduce((n, k) => n + 1 + utf8(k) + nativeSize(v[k]), 0);
}

/** Bytes a field value takes in its item. Never throws. */
export function valueSize(v: JsonValue): number {
  return storableNatively(v) ? nativeSize(v) : utf8(stringifyJson(v));
}

export function fieldsSize(fields: Fields): number {
  return Object.keys(fields).reduce((n, k) => n + utf8(k) + valueSize(fields[k]), 0);
}

/** Bytes one field expiry adds to a record: the field's name and its due time. */
export function expirySize(name: string): number {
  return Buffer.byteLength(name, 'utf8') + NUMBER_BYTES_MAX;
}

/** The size a value counts for against `MAX_RECORD_BYTES`: its fields and its expiries. */
export function siblingSize(s: Sibling): number {
  let n = fieldsSize(s.fields);
  for (const f of Object.keys(s.expires ?? {})) n += expirySize(f);
  return n;
}
