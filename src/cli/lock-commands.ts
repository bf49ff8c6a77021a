/**
 * Commands on locks: acquire and release. A lock is held by a lease and hands out a fencing
 * token that writes send back with `--fence` to prove they still hold it.
 */
import type { Command } from './command';
import { flag } from './options';
import { requiredLease } from './lease-args';

export const lockAcquireCommand: Command = {
  name: 'lock acquire',
  args: ['ns', 'name'],
  summary: 'take a lock for a lease and print its fencing token',
  about: [
    'Prints {"name", "leaseId", "fencingToken", "expiresAt"}. The lock is held until released or',
    'until the lease expires; acquiring again with the same lease returns the same token. Held by',
    "another lease: exits 1 with the holder's fencing token and when its lease expires (never its",
    "lease id, which is that holder's secret).",
  ].join('\n'),
  options: {
    lease: { type: 'string', required: true, value: '<id>', help: ['the lease that holds the lock'] },
    'token-only': { type: 'boolean', help: ['print only <name>:<token>, ready for `--fence` (X-Fencing-Token)'] },
  },
  async run({ args: [ns, name], values, client, io, output }) {
    const leaseId = requiredLease(values, 'lock acquire');
    const grant = await client.locks.acquire(ns, name, leaseId);
    if (flag(values, 'token-only')) io.out(`${grant.name}:${grant.fencingToken}\n`);
    else output.print(grant);
  },
};

export const lockReleaseCommand: Command = {
  name: 'lock release',
  args: ['ns', 'name'],
  summary: 'release a lock held by a lease',
  about: [
    'Releases the lock and prints {"namespace", "name", "released": true}. Its fencing token',
    'goes stale: writes fenced with it fail from now on.',
  ].join('\n'),
  options: {
    lease: { type: 'string', required: true, value: '<id>', help: ['the lease that holds the lock (X-Lease-Id)'] },
  },
  async run({ args: [ns, name], values, client, output }) {
    const leaseId = requiredLease(values, 'lock release');
    await client.locks.release(ns, name, leaseId);
    output.print({ namespace: ns, name, released: true });
  },
};
