/**
 * Commands on leases: grant, keepalive (once, or until Ctrl-C with --watch), get, revoke.
 */
import { type Command, type CommandContext, flag, str } from './command';
import type { VestaHttp } from './http';
import { type LeaseView, systemWatchClock, watchLease } from './keepalive';
import { KEEPALIVE_INTERVAL_ENV, keepaliveIntervalMs, parseIntervalOverride, parseTtl } from './lease-args';
import { printJson } from './io';

/** The path of a lease. Never throws; the API validates the id. */
export function leasePath(id: string): string {
  return `/v1/leases/${encodeURIComponent(id)}`;
}

/** Sends one keepalive and returns the answer. Throws `ApiError` or `NetworkError`. */
async function keepalive(http: VestaHttp, id: string, signal?: AbortSignal): Promise<LeaseView> {
  return (await http.request('POST', `${leasePath(id)}/keepalive`, { signal })).body as LeaseView;
}

export const leaseGrantCommand: Command = {
  name: 'lease grant',
  args: [],
  synopsis: '--ttl <seconds> [--id-only]',
  summary: 'grant a lease that expires unless kept alive',
  details: [
    'Prints {"id", "ttlSeconds", "expiresAt"}. Records written with --lease <id> and locks',
    'acquired with it go when the lease expires or is revoked.',
    '  --ttl <seconds>         how long the lease lives without a keepalive (5 to 86400)',
    '  --id-only               print only the id, e.g. LEASE=$(vesta lease grant --ttl 30 --id-only)',
  ].join('\n'),
  options: { ttl: { type: 'string' }, 'id-only': { type: 'boolean' } },
  async run({ values, http, io }) {
    const ttlSeconds = parseTtl(str(values, 'ttl'));
    const lease = (await http.request('POST', '/v1/leases', { body: { ttlSeconds } })).body as LeaseView;
    if (flag(values, 'id-only')) io.out(`${lease.id}\n`);
    else printJson(io, lease);
  },
};

/** `lease keepalive --watch`: prints the first answer, then one line per renewal on standard error. */
async function watch({ args: [id], http, io }: CommandContext): Promise<void> {
  const overrideMs = parseIntervalOverride(io.env[KEEPALIVE_INTERVAL_ENV]);
  const clock = systemWatchClock;
  const sentAt = clock.now();
  const lease = await keepalive(http, id);
  const intervalMs = keepaliveIntervalMs(lease.ttlSeconds, overrideMs);
  printJson(io, lease);
  io.err(`keeping lease ${id} alive with a keepalive every ${intervalMs / 1000} s; Ctrl-C to stop\n`);
  const last = await watchLease({
    lease,
    sentAt,
    intervalMs,
    clock,
    signal: io.interrupt?.() ?? new AbortController().signal,
    log: (line) => io.err(`${line}\n`),
    renew: (timeoutMs, signal) => keepalive(http, id, AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])),
  });
  io.err(`stopped at ${new Date(clock.now()).toISOString()}; lease ${id} left to expire at ${last.expiresAt}\n`);
}

export const leaseKeepaliveCommand: Command = {
  name: 'lease keepalive',
  args: ['id'],
  synopsis: '[--watch]',
  summary: "restart a lease's TTL",
  details: [
    'Restarts the TTL and prints {"id", "ttlSeconds", "expiresAt"}. An expired or revoked lease',
    'is never brought back (404).',
    '  --watch                 keep it alive until Ctrl-C: a keepalive every third of the TTL,',
    '                          one line per renewal on standard error. If a keepalive answers',
    '                          404, or none gets through before the lease would expire, prints',
    '                          that the lease is LOST and exits 1. Ctrl-C exits 0 and leaves',
    `                          the lease to expire. ${KEEPALIVE_INTERVAL_ENV} overrides the interval.`,
  ].join('\n'),
  options: { watch: { type: 'boolean' } },
  async run(ctx) {
    if (flag(ctx.values, 'watch')) return watch(ctx);
    printJson(ctx.io, await keepalive(ctx.http, ctx.args[0]));
  },
};

export const leaseGetCommand: Command = {
  name: 'lease get',
  args: ['id'],
  synopsis: '',
  summary: 'print a lease and the records attached to it',
  details: 'Prints {"id", "ttlSeconds", "remainingSeconds", "expiresAt", "keys": [{"namespace", "key"}]}.',
  options: {},
  async run({ args: [id], http, io }) {
    printJson(io, (await http.request('GET', leasePath(id))).body);
  },
};

export const leaseRevokeCommand: Command = {
  name: 'lease revoke',
  args: ['id'],
  synopsis: '',
  summary: 'end a lease now, with its records and locks',
  details: 'Deletes every record attached to the lease, releases its locks and prints {"id", "revoked": true}.',
  options: {},
  async run({ args: [id], http, io }) {
    await http.request('DELETE', leasePath(id));
    printJson(io, { id, revoked: true });
  },
};

