/**
 * Pure parsing of the lease and lock arguments: TTLs, fencing tokens, the headers a write sends
 * on behalf of a lease or a lock, and the keepalive interval. Nothing here reads the network.
 */
import type { WriteOptions } from '../client';
import { type OptionDecls, type OptionValues, str } from './options';
import { UsageError } from './errors';

/** How many keepalives `lease keepalive --watch` sends per TTL. */
export const KEEPALIVES_PER_TTL = 3;

/** The environment variable that overrides the keepalive interval, in milliseconds (for tests). */
export const KEEPALIVE_INTERVAL_ENV = 'VESTA_KEEPALIVE_INTERVAL_MS';

const WHOLE = /^[0-9]+$/;
const FENCE = /^(.+):([0-9]+)$/;

/**
 * Parses `--ttl`: a whole number of seconds. The API decides the range and answers
 * `ValidationError` outside it.
 * Throws `UsageError` when the option is missing or not a positive whole number.
 */
export function parseTtl(text: string | undefined): number {
  if (text === undefined) throw new UsageError('--ttl <seconds> is required');
  const seconds = WHOLE.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new UsageError(`--ttl expects a whole number of seconds. Received: ${JSON.stringify(text)}`);
  }
  return seconds;
}

/**
 * Checks `--fence <name>:<token>` (as `vesta lock acquire --token-only` prints it) and returns it
 * unchanged, ready for the `X-Fencing-Token` header. The lock name may itself contain `:`; the
 * token is what follows the last one.
 * Throws `UsageError` when there is no name or the token is not a whole number.
 */
export function parseFence(text: string): string {
  const m = FENCE.exec(text);
  if (!m || !Number.isSafeInteger(Number(m[2]))) {
    throw new UsageError(
      `--fence expects <lockName>:<token>, as \`vesta lock acquire --token-only\` prints it. Received: ${JSON.stringify(text)}`,
    );
  }
  return text;
}

/** The options of every record write that may act for a lease or under a lock. */
export const LEASE_OPTIONS: OptionDecls = {
  lease: {
    type: 'string',
    value: 'ID',
    help: ['attach what is written to lease ID (X-Lease-Id): it goes when', 'the lease expires or is revoked'],
  },
  fence: {
    type: 'string',
    value: 'NAME:TOKEN',
    help: [
      'write only while lock NAME of the namespace is held with TOKEN',
      '(X-Fencing-Token, as `vesta lock acquire --token-only` prints it)',
    ],
  },
};

/** What `--lease` and `--fence` ask of a write, as the client's write options take it. */
export type LeaseWriteOptions = Pick<WriteOptions, 'leaseId' | 'fence'>;

/**
 * The lease and fence of a record write, from `--lease` and `--fence` (sent as `X-Lease-Id` and
 * `X-Fencing-Token`); absent options give undefined values, which are not sent.
 * Throws `UsageError` for an empty `--lease` or a malformed `--fence`.
 */
export function leaseWriteOptions(values: OptionValues): LeaseWriteOptions {
  const lease = str(values, 'lease');
  const fence = str(values, 'fence');
  if (lease === '') throw new UsageError('--lease expects a lease id, as `vesta lease grant --id-only` prints it');
  if (fence === undefined) return { leaseId: lease };
  const checked = parseFence(fence);
  const at = checked.lastIndexOf(':');
  return { leaseId: lease, fence: { lock: checked.slice(0, at), token: Number(checked.slice(at + 1)) } };
}

/**
 * The lease id of `--lease`, which the lock commands require.
 * Throws `UsageError` when it is missing or empty.
 */
export function requiredLease(values: OptionValues, command: string): string {
  const lease = str(values, 'lease');
  if (!lease)
    throw new UsageError(
      `${command} needs --lease <id>; grant one with \`vesta lease grant --ttl <seconds> --id-only\``,
      command,
    );
  return lease;
}

/**
 * Parses the value of `VESTA_KEEPALIVE_INTERVAL_MS`: undefined when unset or empty.
 * Throws `UsageError` when it is set but not a positive whole number of milliseconds.
 */
export function parseIntervalOverride(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const ms = WHOLE.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new UsageError(
      `${KEEPALIVE_INTERVAL_ENV} expects a whole number of milliseconds. Received: ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

/**
 * The pause between keepalives of a lease of `ttlSeconds`: a third of the TTL in whole
 * milliseconds, or `overrideMs` when given. Never throws.
 */
export function keepaliveIntervalMs(ttlSeconds: number, overrideMs?: number): number {
  return overrideMs ?? Math.round((ttlSeconds * 1000) / KEEPALIVES_PER_TTL);
}
