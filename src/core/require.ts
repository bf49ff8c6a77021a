/**
 * `require` clauses: conditions on a record's fields that must hold for a write to commit.
 * Semantics match the DynamoDB condition expressions the store builds for its fast path:
 * an absent field fails every comparison; `<`, `<=`, `>`, `>=` hold only between two numbers or
 * two strings (strings compare by UTF-8 bytes); `==` and `!=` compare JSON values deeply.
 */
import { compareNumeric, isNumeric } from './decimal';
import { stringifyJson } from './json';
import type { Fields, JsonValue } from './record-view';
import type { UnmetRequire } from './wire/problem';
import type { FieldRequire } from './wire/records';
import { has } from './values';

export type { UnmetRequire } from './wire/problem';

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Equality of JSON values: numbers by exact value, maps by their own members. Never throws. */
export function deepEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (isNumeric(a) || isNumeric(b)) return isNumeric(a) && isNumeric(b) && compareNumeric(a, b) === 0;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as JsonValue[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ao = a as Record<string, JsonValue>;
  const bo = b as Record<string, JsonValue>;
  const ak = Object.keys(ao);
  return ak.length === Object.keys(bo).length && ak.every((k) => has(bo, k) && deepEqual(ao[k], bo[k]));
}

function ordered(a: JsonValue, b: JsonValue): number | undefined {
  if (isNumeric(a) && isNumeric(b)) return compareNumeric(a, b);
  if (typeof a === 'string' && typeof b === 'string') return utf8Compare(a, b);
  return undefined;
}

/** Whether one clause holds for these fields. Never throws. */
export function holds(fields: Fields, r: FieldRequire): boolean {
  const present = has(fields, r.field);
  if (r.op === 'exists') return present;
  if (r.op === 'absent') return !present;
  if (!present) return false;
  const v = fields[r.field];
  const want = r.value as JsonValue;
  switch (r.op) {
    case '==':
      return deepEqual(v, want);
    case '!=':
      return !deepEqual(v, want);
    default: {
      const c = ordered(v, want);
      if (c === undefined) return false;
      if (r.op === '<') return c < 0;
      if (r.op === '<=') return c <= 0;
      if (r.op === '>') return c > 0;
      return c >= 0;
    }
  }
}

/** Indexes of the clauses that do not hold. */
export function failing(fields: Fields, clauses: readonly FieldRequire[]): number[] {
  return clauses.flatMap((r, i) => (holds(fields, r) ? [] : [i]));
}

/** A found value longer than this (as JSON) is not repeated in `actual`; its size is given. */
export const MAX_ACTUAL_BYTES = 1024;
/** A value in a sentence is cut after this many characters. */
const MAX_SHOWN_CHARS = 120;
/** At most this many clauses are explained in words; `unmet` lists them all. */
const MAX_EXPLAINED = 10;

/** A field name, key or ETag in a sentence: JSON-quoted, so any name reads unambiguously. */
const quote = (s: string): string => JSON.stringify(s);

function kindOf(v: JsonValue): string {
  if (v === null) return 'null';
  if (isNumeric(v)) return 'a number';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return typeof v === 'string' ? 'a string' : 'a boolean';
}

/** A value as exact JSON (numbers digit for digit), cut when long. */
export function showValue(v: JsonValue): string {
  const text = stringifyJson(v);
  if (text.length <= MAX_SHOWN_CHARS) return text;
  let cut = text.slice(0, MAX_SHOWN_CHARS);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}… (${Buffer.byteLength(text, 'utf8')} bytes)`;
}

/** `actual`, or `actualBytes` when the value is too long to repeat. */
function found(v: JsonValue): Pick<UnmetRequire, 'actual' | 'actualBytes'> {
  const bytes = Buffer.byteLength(stringifyJson(v), 'utf8');
  return bytes > MAX_ACTUAL_BYTES ? { actualBytes: bytes } : { actual: v };
}

/**
 * Why field clause `r` does not hold on `fields` (`undefined`: the record is absent). `clause`
 * names it in the request (`require[0]`), `key` is given in a transaction. Call it only for a
 * clause that does not hold.
 */
export function explainField(
  clause: string,
  r: FieldRequire,
  fields: Fields | undefined,
  key?: string,
  siblings?: number,
): UnmetRequire {
  const base: UnmetRequire = {
    clause,
    ...(key !== undefined ? { key } : {}),
    field: r.field,
    op: r.op,
    ...(r.value !== undefined ? { expected: r.value as JsonValue } : {}),
  };
  if (siblings !== undefined && siblings > 1) return { ...base, siblings };
  if (fields === undefined) return { ...base, absent: 'key' };
  if (!has(fields, r.field)) return { ...base, absent: 'field' };
  return { ...base, ...found(fields[r.field]) };
}

/** The requirement of a clause, in words: `field "qty" of key "c" must be >= 1`. */
function requirement(u: UnmetRequire): string {
  const of = u.key !== undefined ? ` of key ${quote(u.key)}` : '';
  if (u.field !== undefined) {
    const subject = `field ${quote(u.field)}${of}`;
    if (u.op === 'exists') return `${subject} must exist`;
    if (u.op === 'absent') return `${subject} must be absent`;
    return `${subject} must be ${u.op} ${u.expected === undefined ? '?' : showValue(u.expected)}`;
  }
  const subject = `key ${quote(u.key ?? '')}`;
  if (u.etag !== undefined) return `${subject} must have ETag ${quote(u.etag)}`;
  return u.exists ? `${subject} must exist` : `${subject} must be absent`;
}

/** What was found instead, in words: `but is 0`, `but the field is absent`. */
function finding(u: UnmetRequire): string {
  const record = u.key !== undefined ? `key ${quote(u.key)}` : 'the record';
  if (u.siblings !== undefined) return `but ${record} holds ${u.siblings} siblings (PUT to resolve them)`;
  if (u.absent === 'key') return u.field !== undefined ? `but ${record} is absent` : 'but it is absent';
  if (u.absent === 'field') return 'but the field is absent';
  if (u.field === undefined) {
    if (u.etag !== undefined) return typeof u.actual === 'string' ? `but has ETag ${quote(u.actual)}` : 'but differs';
    return u.exists ? 'but it is absent' : 'but it exists';
  }
  if (u.actual === undefined) return `but holds a value too long to repeat (${u.actualBytes ?? '?'} bytes as JSON)`;
  const shown = `but is ${showValue(u.actual)}`;
  if (u.op === 'absent' || u.op === '==' || u.op === '!=' || u.expected === undefined) return shown;
  if (ordered(u.actual, u.expected) !== undefined) return shown;
  return `${shown} (${kindOf(u.actual)}; ${u.op} compares a number only with a number and a string only with a string)`;
}

/** One unmet clause in words: `require[0] did not hold: field "qty" must be >= 1 but is 0`. */
export function describeUnmet(u: UnmetRequire): string {
  return `${u.clause} did not hold: ${requirement(u)} ${finding(u)}`;
}

/** The `detail` of a 412 for these unmet clauses: each in words (the first few), `; `-separated. */
export function describeUnmetAll(unmet: readonly UnmetRequire[]): string {
  const shown = unmet.slice(0, MAX_EXPLAINED).map(describeUnmet);
  const more = unmet.length - shown.length;
  return more > 0 ? `${shown.join('; ')}; and ${more} more (see unmet)` : shown.join('; ');
}
