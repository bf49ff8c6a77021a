/**
 * Builds a PATCH body from `vesta patch` flags, on top of an optional `--body`.
 */
import { type Json, parseAssignment, parseIncrement, parseRequire } from './args';
import { UsageError } from './errors';

export interface PatchFlags {
  /** `--set name=value`, in order; a later one wins. */
  readonly set: readonly string[];
  /** `--remove name`. */
  readonly remove: readonly string[];
  /** `--incr name=n` or `--incr name`. */
  readonly incr: readonly string[];
  /** `--require 'field op value'`. */
  readonly require: readonly string[];
}

function objectPart(base: Record<string, unknown>, part: string): Record<string, unknown> {
  const v = base[part];
  if (v === undefined) return {};
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  throw new UsageError(`--body ${part} must be an object to combine it with flags`, 'patch');
}

function arrayPart(base: Record<string, unknown>, part: string): unknown[] {
  const v = base[part];
  if (v === undefined) return [];
  if (Array.isArray(v)) return v;
  throw new UsageError(`--body ${part} must be an array to combine it with flags`, 'patch');
}

/**
 * Merges the flags into `base` (the `--body`, or `{}`): `--set` and `--incr` into `set` and
 * `increment`, `--remove` and `--require` appended to `remove` and `require`.
 * Throws `UsageError` when a flag cannot be parsed, when a `--body` part has the wrong type, or
 * when the result has none of `set`, `remove`, `increment`.
 */
export function buildPatchBody(base: Record<string, unknown>, flags: PatchFlags): Record<string, unknown> {
  const body: Record<string, unknown> = { ...base };
  if (flags.set.length > 0) {
    const set: Record<string, Json> = Object.fromEntries(flags.set.map((s) => parseAssignment(s, '--set')));
    body.set = { ...objectPart(base, 'set'), ...set };
  }
  if (flags.remove.length > 0) body.remove = [...arrayPart(base, 'remove'), ...flags.remove];
  if (flags.incr.length > 0)
    body.increment = { ...objectPart(base, 'increment'), ...Object.fromEntries(flags.incr.map(parseIncrement)) };
  if (flags.require.length > 0) body.require = [...arrayPart(base, 'require'), ...flags.require.map(parseRequire)];
  if (body.set === undefined && body.remove === undefined && body.increment === undefined) {
    throw new UsageError('patch needs at least one of --set, --remove, --incr (or a --body with them)', 'patch');
  }
  return body;
}
