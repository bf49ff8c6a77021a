/**
 * Names the contract allows: namespaces, keys and field names. Each validator throws
 * `ValidationError` naming the offending input. A key is data: it may hold `/`, spaces and `%`,
 * but no segment may be `.` or `..`, so that no key can be read as a relative path.
 */
import { ValidationError } from './errors';
import { CONTROL, MAX_KEY_BYTES, NAMESPACE_PATTERN, fieldNameProblem, wellFormed } from './name-rules';

export { MAX_FIELD_NAME_CHARS, MAX_KEY_BYTES, NAMESPACE_PATTERN, fieldNameProblem, wellFormed } from './name-rules';

export function validateNamespace(ns: string, field = 'ns'): string {
  if (!NAMESPACE_PATTERN.test(ns)) {
    throw new ValidationError(
      field,
      `must match ${NAMESPACE_PATTERN.source}. Received: ${JSON.stringify(ns.slice(0, 100))}`,
    );
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
    throw new ValidationError(
      field,
      `no segment of a key may be "." or "..". Received: ${JSON.stringify(key.slice(0, 100))}`,
    );
  }
  return key;
}

export function validateFieldName(name: string, field: string): string {
  const problem = fieldNameProblem(name);
  if (problem) throw new ValidationError(field, problem);
  return name;
}
