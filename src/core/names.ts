/**
 * Names the contract allows: namespaces, keys and field names. Each validator throws
 * `ValidationError` naming the offending input. A key is data: it may hold `/`, spaces and `%`,
 * but no segment may be `.` or `..`, so that no key can be read as a relative path.
 */
import { ValidationError } from './errors';

export const NAMESPACE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const MAX_KEY_BYTES = 1024;
export const MAX_FIELD_NAME_CHARS = 255;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether a string is well-formed Unicode (no lone surrogate, so it has a UTF-8 form). */
export function wellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

export function validateNamespace(ns: string, field = 'ns'): string {
  if (!NAMESPACE_PATTERN.test(ns)) {
    throw new ValidationError(field, `must match ${NAMESPACE_PATTERN.source}. Received: ${JSON.stringify(ns.slice(0, 100))}`);
  }
  return ns;
}

/** Checks a key: 1 to 1024 bytes of UTF-8, no control characters, no `.` or `..` segment. */
export function validateKey(key: unknown, field = 'key'): string {
  if (typeof key !== 'string') throw new ValidationError(field, 'must be a string');
  if (!wellFormed(key)) throw new ValidationError(field, 'must be well-formed Unicode (no lone surrogates)');
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes < 1 || bytes > MAX_KEY_BYTES) {
    throw new ValidationError(field, `must be 1 to ${MAX_KEY_BYTES} bytes of UTF-8. Received ${bytes} bytes`);
  }
  if (CONTROL.test(key)) throw new ValidationError(field, 'must not contain control characters');
  if (key.split('/').some((s) => s === '.' || s === '..')) {
    throw new ValidationError(field, `no segment of a key may be "." or "..". Received: ${JSON.stringify(key.slice(0, 100))}`);
  }
  return key;
}

/** Why `name` cannot be a field name, or undefined when it can. Never throws. */
export function fieldNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'field names must be strings';
  if (name.length < 1 || name.length > MAX_FIELD_NAME_CHARS) return `field names must be 1 to ${MAX_FIELD_NAME_CHARS} characters`;
  if (CONTROL.test(name)) return 'field names must not contain control characters';
  if (!wellFormed(name)) return 'field names must be well-formed Unicode (no lone surrogates)';
  return undefined;
}

export function validateFieldName(name: string, field: string): string {
  const problem = fieldNameProblem(name);
  if (problem) throw new ValidationError(field, problem);
  return name;
}
