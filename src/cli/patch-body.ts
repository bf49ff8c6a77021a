/**
 * Builds a PATCH body from `vesta patch` flags, on top of an optional `--body`.
 */
import { type Json, parseAssignment, parseIncrement, parseRequire } from './args';
import { UsageError } from './errors';
import { parseExpires } from './expire-args';

export interface PatchFlags {
  /** `--set name=value`, in order; a later one wins. */
  readonly set: readonly string[];
  /** `--remove name`. */
  readonly remove: readonly string[];
  /** `--incr name=n` or `--incr name`. */
  readonly incr: readonly string[];
  /** `--require 'field op value'`. */
  readonly require: readonly string[];
  /** `--expire name=duration`; a later one wins. @default none */
  readonly expire?: readonly string[];
  /** `--persist name`. @default none */
  readonly persist?: readonly string[];
}

const PARTS = ['set', 'remove', 'increment', 'expire', 'persist'] as const;

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
 * `increment`, `--expire` into `expire`, `--remove`, `--persist` and `--require` appended to
 * `remove`, `persist` and `require`.
 * Throws `UsageError` when a flag cannot be parsed (a bad `--expire` duration names the option),
 * when a `--body` part has the wrong type, or when the result has none of `set`, `remove`,
 * `increment`, `expire`, `persist`.
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
  const expire = flags.expire ?? [];
  if (expire.length > 0) body.expire = { ...objectPart(base, 'expire'), ...parseExpires(expire) };
  const persist = flags.persist ?? [];
  if (persist.length > 0) body.persist = [...arrayPart(base, 'persist'), ...persist];
  if (PARTS.every((part) => body[part] === undefined)) {
    throw new UsageError(
      'patch needs at least one of --set, --remove, --incr, --expire, --persist (or a --body with them)',
      'patch',
    );
  }
  return body;
}
