/**
 * The rules of names the contract allows, as predicates that never throw: well-formed Unicode,
 * no control characters, lengths. `names.ts` turns them into validators that throw
 * `ValidationError`; field values (`values.ts`) and the wire schemas use them directly.
 */
export const NAMESPACE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const MAX_KEY_BYTES = 1024;
export const MAX_FIELD_NAME_CHARS = 255;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what the pattern refuses
export const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether a string is well-formed Unicode (no lone surrogate, so it has a UTF-8 form). */
export function wellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** Why `name` cannot be a field name, or undefined when it can. Never throws. */
export function fieldNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'field names must be strings';
  if (name.length < 1 || name.length > MAX_FIELD_NAME_CHARS)
    return `field names must be 1 to ${MAX_FIELD_NAME_CHARS} characters`;
  if (CONTROL.test(name)) return 'field names must not contain control characters';
  if (!wellFormed(name)) return 'field names must be well-formed Unicode (no lone surrogates)';
  return undefined;
}
