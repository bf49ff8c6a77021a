/**
 * Field expiry on the command line: `--expire field=30s` (put, patch) and `--persist field`
 * (patch). Durations are whole seconds, or a whole number with `s`, `m`, `h` or `d`.
 */
import { MAX_EXPIRE_SECONDS } from '../client';
import type { CommandContext } from './command';
import { UsageError } from './errors';
import { type OptionDecls, strs } from './options';

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };
const DURATION = /^([0-9]+)([smhd]?)$/;

/**
 * Seconds of a duration written `30s`, `5m`, `2h`, `1d` or `30`.
 * Throws `UsageError` naming `option` when the text is not such a duration or it is not from 1
 * second to 365 days.
 */
export function parseDuration(text: string, option: string): number {
  const m = DURATION.exec(text.trim());
  const seconds = m ? Number(m[1]) * UNIT_SECONDS[m[2] || 's'] : Number.NaN;
  if (!(seconds >= 1 && seconds <= MAX_EXPIRE_SECONDS)) {
    throw new UsageError(
      `${option} expects a duration from 1s to 365d, like 30s, 5m, 2h, 1d or whole seconds. Received: ${JSON.stringify(text)}`,
    );
  }
  return seconds;
}

/**
 * `--expire` values (`field=duration`, split at the last `=` since a duration has none) as the
 * `expire` member of a body; a later one wins for the same field.
 * Throws `UsageError` for a value without a field name or with a bad duration.
 */
export function parseExpires(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const text of values) {
    const at = text.lastIndexOf('=');
    if (at <= 0)
      throw new UsageError(`--expire expects field=duration (e.g. code=30s). Received: ${JSON.stringify(text)}`);
    out[text.slice(0, at)] = parseDuration(text.slice(at + 1), `--expire ${text.slice(0, at)}`);
  }
  return out;
}

/** `--expire`, of `put` and `patch`. */
export const EXPIRE_OPTION: OptionDecls = {
  expire: {
    type: 'string',
    multiple: true,
    value: 'k=DURATION',
    help: ['field k disappears that long after the write: 30s, 5m, 2h, 1d or', 'seconds (at most 365d)'],
  },
};

/** `--persist`, of `patch`. */
export const PERSIST_OPTION: OptionDecls = {
  persist: { type: 'string', multiple: true, value: 'k', help: ["drop field k's expiry (it stays)"] },
};

/** The `expire` of a put from its `--expire` flags, or undefined without any. Throws as `parseExpires`. */
export function putExpires(values: CommandContext['values']): Record<string, number> | undefined {
  const given = strs(values, 'expire');
  return given.length > 0 ? parseExpires(given) : undefined;
}
