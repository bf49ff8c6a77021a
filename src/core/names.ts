/**
 * Names and values the contract allows: namespaces, keys, field names and field values. Each
 * validator throws `ValidationError` naming the offending input.
 */
import { z } from 'zod';
import { ValidationError } from './errors';

export const NAMESPACE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const MAX_KEY_BYTES = 1024;
export const MAX_FIELD_NAME_CHARS = 255;
/** DynamoDB nests documents at most 32 levels deep. */
export const MAX_VALUE_DEPTH = 32;
/** DynamoDB numbers: up to 38 digits of precision, magnitude from 1e-130 to under 1e126. */
export const MAX_NUMBER_MAGNITUDE = 9.9999999999999999e125;
export const MIN_NUMBER_MAGNITUDE = 1e-130;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function validateNamespace(ns: string, field = 'ns'): string {
  if (!NAMESPACE_PATTERN.test(ns)) {
    throw new ValidationError(field, `must match ${NAMESPACE_PATTERN.source}. Received: ${JSON.stringify(ns)}`);
  }
  return ns;
}

export function validateKey(key: string, field = 'key'): string {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes < 1 || bytes > MAX_KEY_BYTES) {
    throw new ValidationError(field, `must be 1 to ${MAX_KEY_BYTES} bytes of UTF-8. Received ${bytes} bytes`);
  }
  if (CONTROL.test(key)) throw new ValidationError(field, 'must not contain control characters');
  return key;
}

export const fieldName = z
  .string()
  .min(1, 'field names must be 1 to 255 characters')
  .max(MAX_FIELD_NAME_CHARS, 'field names must be 1 to 255 characters')
  .refine((s) => !CONTROL.test(s), 'field names must not contain control characters');

export function validateFieldName(name: string, field: string): string {
  const r = fieldName.safeParse(name);
  if (!r.success) throw new ValidationError(field, r.error.issues[0].message);
  return name;
}

const storableNumber = (n: number) =>
  Number.isFinite(n) && (n === 0 || (Math.abs(n) <= MAX_NUMBER_MAGNITUDE && Math.abs(n) >= MIN_NUMBER_MAGNITUDE));

/** Checks that a JSON value can be stored: number range, depth, non-empty member names. */
export function checkStorable(v: unknown, path: string, depth = 0): void {
  if (depth > MAX_VALUE_DEPTH) throw new ValidationError(path, `nests deeper than ${MAX_VALUE_DEPTH} levels`);
  if (typeof v === 'number') {
    if (!storableNumber(v)) throw new ValidationError(path, 'number out of range (magnitude 1e-130 to 9.99e125)');
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => checkStorable(x, `${path}[${i}]`, depth + 1));
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k.length === 0) throw new ValidationError(path, 'object member names must not be empty');
      checkStorable(x, `${path}.${k}`, depth + 1);
    }
  }
}
