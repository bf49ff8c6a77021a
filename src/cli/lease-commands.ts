/**
 * Commands on leases: grant, keepalive (once, or until Ctrl-C with --watch), get, revoke.
 */
import { NetworkError, type VestaClient } from '../client';
import type { Command, CommandContext } from './command';
import { flag, str } from './options';
import { type LeaseView, systemWatchClock, watchLease } from './keepalive';
import { KEEPALIVE_INTERVAL_ENV, keepaliveIntervalMs, parseIntervalOverride, parseTtl } from './lease-args';
import { leaseTable } from './table';

/**
 * Sends one keepalive within `timeoutMs` and returns the answer; `stop` (Ctrl-C) abandons it.
 * Throws the client's `ApiError`, or `NetworkError` also when no answer came in time; rejects with
 * the reason of `stop` once it aborted.
 */
async function renew(client: VestaClient, id: string, timeoutMs: number, stop: AbortSignal): Promise<LeaseView> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await client.leases.keepalive(id, { signal: AbortSignal.any([stop, timeout]) });
  } catch (e) {
    if (!stop.aborted && timeout.aborted) throw new NetworkError(client.url, 'no answer in time', { cause: e });
    throw e;
  }
}

export const leaseGrantCommand: Command = {
  name: 'lease grant',
  args: [],
  summary: 'grant a lease that expires unless kept alive',
  about: [
    'Prints {"id", "ttlSeconds", "expiresAt"}. Records written with --lease <id> and locks',
    'acquired with it go when the lease expires or is revoked.',
  ].join('\n'),
  options: {
    ttl: {
      type: 'string',
      required: true,
      value: '<seconds>',
      help: ['how long the lease lives without a keepalive (5 to 86400)'],
    },
    'id-only': { type: 'boolean', help: ['print only the id, e.g. LEASE=$(vesta lease grant --ttl 30 --id-only)'] },
  },
  async run({ values, client, io, output }) {
    const ttlSeconds = parseTtl(str(values, 'ttl'));
    const lease = await client.leases.grant(ttlSeconds);
    if (flag(values, 'id-only')) io.out(`${lease.id}\n`);
    else output.print(lease);
  },
};

/** `lease keepalive --watch`: prints the first answer, then one line per renewal on standard error. */
async function watch({ args: [id], client, connect, io, output }: CommandContext): Promise<void> {
  const overrideMs = parseIntervalOverride(io.env[KEEPALIVE_INTERVAL_ENV]);
  const clock = systemWatchClock;
  const sentAt = clock.now();
  const lease = await client.leases.keepalive(id);
  // Each renewal is tried once: the loop retries within the lease's time and logs each failure.
  const once = connect({ retry: { maxAttempts: 1 } });
  const intervalMs = keepaliveIntervalMs(lease.ttlSeconds, overrideMs);
  output.print(lease);
  io.err(`keeping lease ${id} alive with a keepalive every ${intervalMs / 1000} s; Ctrl-C to stop\n`);
  const last = await watchLease({
    lease,
    sentAt,
    intervalMs,
    clock,
    signal: io.interrupt?.() ?? new AbortController().signal,
    log: (line) => io.err(`${line}\n`),
    renew: (timeoutMs, signal) => renew(once, id, timeoutMs, signal),
  });
  io.err(`stopped at ${new Date(clock.now()).toISOString()}; lease ${id} left to expire at ${last.expiresAt}\n`);
}

export const leaseKeepaliveCommand: Command = {
  name: 'lease keepalive',
  args: ['id'],
  summary: "restart a lease's TTL",
  about: [
    'Restarts the TTL and prints {"id", "ttlSeconds", "expiresAt"}. An expired or revoked lease',
    'is never brought back (404).',
  ].join('\n'),
  options: {
    watch: {
      type: 'boolean',
      help: [
        'keep it alive until Ctrl-C: a keepalive every third of the TTL,',
        'one line per renewal on standard error. If a keepalive answers',
        '404, or none gets through before the lease would expire, prints',
        'that the lease is LOST and exits 1. Ctrl-C exits 0 and leaves',
        `the lease to expire. ${KEEPALIVE_INTERVAL_ENV} overrides the interval.`,
      ],
    },
  },
  async run(ctx) {
    if (flag(ctx.values, 'watch')) return watch(ctx);
    ctx.output.print(await ctx.client.leases.keepalive(ctx.args[0]));
  },
};

export const leaseGetCommand: Command = {
  name: 'lease get',
  args: ['id'],
  summary: 'print a lease and the records attached to it',
  about: 'Prints {"id", "ttlSeconds", "remainingSeconds", "expiresAt", "keys": [{"namespace", "key"}]}.',
  options: { table: { type: 'boolean', help: ['the lease, then one row per record attached to it'] } },
  async run({ args: [id], client, output }) {
    output.printResult(await client.leases.get(id), leaseTable);
  },
};

export const leaseRevokeCommand: Command = {
  name: 'lease revoke',
  args: ['id'],
  summary: 'end a lease now, with its records and locks',
  about: 'Deletes every record attached to the lease, releases its locks and prints {"id", "revoked": true}.',
  options: {},
  async run({ args: [id], client, output }) {
    await client.leases.revoke(id);
    output.print({ id, revoked: true });
  },
};
