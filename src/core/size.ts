/**
 * Record sizes, counted the way DynamoDB counts item sizes (UTF-8 bytes of names and strings,
 * about one byte per two digits of a number, 3 bytes per map or list plus 1 per element), so
 * that the 350 KiB record limit leaves room for metadata under DynamoDB's 400 KB item limit.
 */
import type { Fields, JsonValue } from './record-view';

/** Largest record, in bytes of fields across all siblings. */
export const MAX_RECORD_BYTES = 350 * 1024;
/** Largest request body. */
export const MAX_BODY_BYTES = 256 * 1024;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** Upper bound DynamoDB uses for any number. */
export const NUMBER_BYTES_MAX = 21;

export function valueSize(v: JsonValue): number {
  if (v === null || typeof v === 'boolean') return 1;
  if (typeof v === 'number') {
    const digits = String(Math.abs(v)).replace(/[.-]|e.*$/gi, '').replace(/^0+/, '').length;
    return Math.min(NUMBER_BYTES_MAX, Math.ceil(Math.max(digits, 1) / 2) + 1);
  }
  if (typeof v === 'string') return utf8(v);
  if (Array.isArray(v)) return 3 + v.reduce<number>((n, x) => n + 1 + valueSize(x), 0);
  return 3 + Object.entries(v).reduce((n, [k, x]) => n + 1 + utf8(k) + valueSize(x), 0);
}

export function fieldsSize(fields: Fields): number {
  return Object.entries(fields).reduce((n, [k, v]) => n + utf8(k) + valueSize(v), 0);
}
