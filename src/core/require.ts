/**
 * `require` clauses: conditions on a record's fields that must hold for a write to commit.
 * Semantics match the DynamoDB condition expressions the store builds for its fast path:
 * an absent field fails every comparison; `<`, `<=`, `>`, `>=` hold only between two numbers or
 * two strings (strings compare by UTF-8 bytes); `==` and `!=` compare JSON values deeply.
 */
import type { Fields, JsonValue } from './record-view';
import type { FieldRequire } from './schemas';

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function deepEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as JsonValue[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ao = a as Record<string, JsonValue>;
  const bo = b as Record<string, JsonValue>;
  const ak = Object.keys(ao);
  return ak.length === Object.keys(bo).length && ak.every((k) => k in bo && deepEqual(ao[k], bo[k]));
}

function ordered(a: JsonValue, b: JsonValue): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return utf8Compare(a, b);
  return undefined;
}

/** Whether one clause holds for these fields. Never throws. */
export function holds(fields: Fields, r: FieldRequire): boolean {
  const present = Object.prototype.hasOwnProperty.call(fields, r.field);
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
