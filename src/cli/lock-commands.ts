/**
 * Commands on locks: list, acquire and release. A lock is held by a lease and hands out a fencing
 * token that writes send back with `--fence` to prove they still hold it.
 */
import type { HeldLock } from '../client';
import type { Command } from './command';
import { flag, str } from './options';
import { requiredLease } from './lease-args';
import { parseListLimit } from './namespace-commands';
import { locksTable } from './table';

export const lockLsCommand: Command = {
  name: 'lock ls',
  args: ['ns'],
  summary: 'list the locks held now in a namespace, by name',
  about: [
    'Prints {"items": [{"name", "fencingToken", "expiresAt"}], "cursor"}: the locks a live lease',
    "holds now (a lock whose lease expired is not held), never the holders' lease ids; pass the",
    'cursor back to continue.',
  ].join('\n'),
  options: {
    prefix: { type: 'string', value: 'p', help: ['only locks whose name starts with p'] },
    limit: { type: 'string', value: 'n', help: ['page size, 1 to 1000 (default 100)'] },
    all: { type: 'boolean', help: ['follow cursors and print every page as one list'] },
    cursor: { type: 'string', value: 'c', or: true, help: ['continue after a previous page'] },
    table: {
      type: 'boolean',
      help: ['one row per lock: name, fencing token, expiry; the cursor of the', 'next page goes to standard error'],
    },
  },
  async run({ args: [ns], values, client, io, output }) {
    const prefix = str(values, 'prefix');
    const limit = parseListLimit(str(values, 'limit'), 'lock ls');
    const items: HeldLock[] = [];
    let cursor = str(values, 'cursor');
    do {
      const page = await client.locks.list(ns, { prefix, limit: flag(values, 'all') ? 1000 : limit, cursor });
      items.push(...page.items);
      cursor = page.cursor ?? undefined;
    } while (flag(values, 'all') && cursor !== undefined);
    const page = { items, cursor: cursor ?? null };
    output.printResult(page, (v) => locksTable(v.items));
    if (output.format === 'table' && page.cursor)
      io.err(`more locks: \`vesta lock ls ${ns} --cursor ${page.cursor}\` lists the next page\n`);
  },
};

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
