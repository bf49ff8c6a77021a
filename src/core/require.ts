/**
 * `require` clauses: conditions on a record's fields that must hold for a write to commit.
 * Semantics match the DynamoDB condition expressions the store builds for its fast path:
 * an absent field fails every comparison; `<`, `<=`, `>`, `>=` hold only between two numbers or
 * two strings (strings compare by UTF-8 bytes); `==` and `!=` compare JSON values deeply.
 */
import { compareNumeric, isNumeric } from './decimal';
import type { Fields, JsonValue } from './record-view';
import type { FieldRequire } from './wire/records';
import { has } from './values';

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
