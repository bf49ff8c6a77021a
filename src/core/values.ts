/**
 * Field maps and field values as data. Every map the domain holds is a null-prototype object, so
 * a member name (`__proto__`, `constructor`, `toString`) is only ever a key: it never reaches an
 * inherited property or the prototype. Values read from a request body are checked here against
 * what a record can hold (numbers within DynamoDB's range, well-formed Unicode) and copied.
 */
import { Decimal, type Numeric, isNumeric, numberProblem, numericText } from './decimal';
import { fieldNameProblem, wellFormed } from './name-rules';

/**
 * A field value. A number is a `number` or, when a double cannot hold it exactly, a `Decimal`
 * (see `decimal.ts`); objects are null-prototype maps (see `newMap`).
 */
export type JsonValue = null | boolean | number | Decimal | string | JsonValue[] | { [k: string]: JsonValue };
/** A record's fields: a null-prototype map of field name to value. */
export type Fields = Record<string, JsonValue>;

/** A null-prototype map. */
export function newMap<T = JsonValue>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** A null-prototype copy of a map's own members. */
export function copyMap<T>(src: Readonly<Record<string, T>>): Record<string, T> {
  return Object.assign(newMap<T>(), src);
}

/** Whether the map has its own member `name` (never an inherited one). */
export function has(map: object, name: string): boolean {
  return Object.hasOwn(map, name);
}

/** The map's own member `name`, or undefined. */
export function get<T>(map: Readonly<Record<string, T>>, name: string): T | undefined {
  return has(map, name) ? map[name] : undefined;
}

/** Where a value is in a body and what is wrong with it. */
export class ValueProblem extends Error {
  public constructor(
    public readonly path: readonly (string | number)[],
    message: string,
  ) {
    super(message);
    this.name = 'ValueProblem';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Decimal);
}

/**
 * Checks a JSON value from a body and returns a copy whose maps have no prototype. Throws
 * `ValueProblem` (path relative to `path`) for a number DynamoDB cannot hold, a string with a
 * lone surrogate, or something that is not JSON.
 */
export function readValue(v: unknown, path: readonly (string | number)[] = []): JsonValue {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    if (!wellFormed(v)) throw new ValueProblem(path, 'strings must be well-formed Unicode (no lone surrogates)');
    return v;
  }
  if (isNumeric(v)) {
    const problem = numberProblem(v);
    if (problem)
      throw new ValueProblem(path, `the number ${typeof v === 'number' ? String(v) : v.text.slice(0, 60)} ${problem}`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => readValue(x, [...path, i]));
  if (isObject(v)) {
    const out = newMap();
    for (const k of Object.keys(v)) {
      if (!wellFormed(k)) throw new ValueProblem(path, 'member names must be well-formed Unicode (no lone surrogates)');
      out[k] = readValue(v[k], [...path, k]);
    }
    return out;
  }
  throw new ValueProblem(path, 'must be a JSON value');
}

/** Checks a map of field name to value. Throws `ValueProblem`. */
export function readFields(v: unknown, path: readonly (string | number)[] = []): Fields {
  if (!isObject(v)) throw new ValueProblem(path, 'must be an object of field names to values');
  const out = newMap();
  for (const k of Object.keys(v)) {
    const problem = fieldNameProblem(k);
    if (problem) throw new ValueProblem([...path, k], problem);
    out[k] = readValue(v[k], [...path, k]);
  }
  return out;
}

/** Checks a map of field name to number (`increment`). Throws `ValueProblem`. */
export function readNumbers(v: unknown, path: readonly (string | number)[] = []): Record<string, Numeric> {
  if (!isObject(v)) throw new ValueProblem(path, 'must be an object of field names to numbers');
  const out = newMap<Numeric>();
  for (const k of Object.keys(v)) {
    const problem = fieldNameProblem(k);
    if (problem) throw new ValueProblem([...path, k], problem);
    const n = v[k];
    if (!isNumeric(n)) throw new ValueProblem([...path, k], 'must be a number');
    out[k] = readValue(n, [...path, k]) as Numeric;
  }
  return out;
}

/** Longest field expiry a write may ask for: one year, in seconds. */
export const MAX_EXPIRE_SECONDS = 31_536_000;

/**
 * Reads `expire`: field names to whole seconds from 1 to `MAX_EXPIRE_SECONDS`, into a
 * null-prototype map. Throws `ValueProblem` naming the first bad member.
 */
export function readExpiries(v: unknown, path: readonly (string | number)[] = []): Record<string, number> {
  if (!isObject(v)) throw new ValueProblem(path, 'must be an object of field names to seconds');
  const out = newMap<number>();
  for (const k of Object.keys(v)) {
    const problem = fieldNameProblem(k);
    if (problem) throw new ValueProblem([...path, k], problem);
    const n = v[k];
    const text = isNumeric(n) ? numericText(n) : '';
    const secs = Number(text);
    if (!/^[0-9]+(\.0+)?$/.test(text) || !(secs >= 1 && secs <= MAX_EXPIRE_SECONDS)) {
      throw new ValueProblem([...path, k], `must be a whole number of seconds from 1 to ${MAX_EXPIRE_SECONDS}`);
    }
    out[k] = secs;
  }
  return out;
}
