/**
 * Field expiry on the client's side (like Redis `HEXPIRE`, `HPERSIST`, `HTTL`): patch bodies that
 * set or drop a field's expiry, composed with the other parts of a patch, and the remaining
 * seconds of each field a record says expires.
 */
import { MAX_EXPIRE_SECONDS } from '../core/values';
import type { PatchBody, SiblingValue, VestaRecord } from './types';

/** Longest expiry the API accepts: one year, in seconds. */
export { MAX_EXPIRE_SECONDS };

/**
 * A patch part that makes `field` disappear `seconds` after the write commits:
 * `patch(ns, key, mergePatches({ set: { code } }, expire('code', 300)))`.
 * Throws `RangeError` when `seconds` is not a whole number from 1 to `MAX_EXPIRE_SECONDS` (the
 * API would answer 400).
 */
export function expire(field: string, seconds: number): PatchBody {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_EXPIRE_SECONDS) {
    throw new RangeError(
      `expire ${field}: seconds must be a whole number from 1 to ${MAX_EXPIRE_SECONDS}. Received: ${seconds}`,
    );
  }
  return { expire: { [field]: seconds } };
}

/** A patch part that drops the expiry of each of `fields` (they stay, for good). Never throws. */
export function persist(...fields: string[]): PatchBody {
  return { persist: fields };
}

/**
 * One patch body from parts (`expire` and `persist` above, or any `PatchBody`):
 * maps merge (a later part wins for the same field), lists append. Never throws; the API checks
 * the result (a field in both `expire` and `persist` is 400).
 */
export function mergePatches(...parts: PatchBody[]): PatchBody {
  const out: Record<string, unknown> = {};
  for (const part of parts) {
    for (const [name, value] of Object.entries(part)) {
      if (value === undefined) continue;
      const prev = out[name];
      if (Array.isArray(value)) out[name] = [...((prev as unknown[] | undefined) ?? []), ...value];
      else out[name] = { ...((prev as object | undefined) ?? {}), ...(value as object) };
    }
  }
  return out as PatchBody;
}

/**
 * Whole seconds until each expiring field of `value` disappears (rounded up; 0 once due), as
 * `now` tells time. Fields without an expiry are absent from the result. Never throws; an
 * unreadable time counts as due.
 */
export function secondsToLive(
  value: Pick<VestaRecord | SiblingValue, 'expires'>,
  now: number = Date.now(),
): Record<string, number> {
  const out: Record<string, number> = Object.create(null);
  for (const [field, at] of Object.entries(value.expires ?? {})) {
    const ms = Date.parse(at) - now;
    out[field] = Number.isFinite(ms) ? Math.max(0, Math.ceil(ms / 1000)) : 0;
  }
  return out;
}
