/**
 * Leader election with a fenced worker.
 *
 * Two workers compete for lock `leader` with `withLock`. The one that gets it does the work and
 * writes its progress with `ctx.put` / `ctx.patch`, which carry its fencing token. Then it stalls
 * (here: its lease is revoked, as if a long pause had let it expire), the other worker takes the
 * lock with a larger token, and when the old leader wakes up and writes again, the store refuses
 * the write (`ConflictError`, reason `FencingTokenStale`): a leader that does not know it was
 * replaced cannot overwrite its successor's work.
 *
 * Run: `npx tsx examples/leader-election.ts` (VESTA_URL: the API, default the local stack).
 * Exits 1 when an outcome is not the one expected.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, connect, type LockContext, type VestaRecord } from '../src/client';

const vesta = connect({ url: process.env.VESTA_URL ?? 'http://127.0.0.1:8080' });
const ns = `leader-${randomUUID().slice(0, 8)}`;

function check(ok: boolean, what: string): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) process.exitCode = 1;
}

// The fencing token of each worker that led, and the error that ended the old leader's work.
const tokens: Record<string, number> = {};
let firstLeader: string | undefined;
let refused: unknown;
// Resolved by the second leader once its progress is written: the moment the old one wakes up.
let tookOver!: () => void;
const takeover = new Promise<void>((r) => (tookOver = r));

/** One unit of work: a fenced write that names the leader and moves the progress on. */
async function advance(name: string, ctx: LockContext): Promise<void> {
  const { record } = await ctx.patch('progress', {
    set: { leader: name, token: ctx.fencingToken },
    increment: { step: 1 },
  });
  console.log(`${name}: progress step ${record.fields.step} (rev ${record.rev})`);
}

/** What a worker does while it leads: the same code for both workers. */
async function lead(name: string, ctx: LockContext): Promise<void> {
  tokens[name] = ctx.fencingToken;
  console.log(`${name}: leads with fencing token ${ctx.fencingToken}`);
  await advance(name, ctx);
  await advance(name, ctx);

  if (firstLeader === undefined) {
    firstLeader = name;
    // The stall: the leader stops keeping its lease alive (a GC pause, a frozen VM...). Revoking
    // the lease stands in for it running out; either way its lock is free for someone else.
    console.log(`${name}: stalls; its lease ends`);
    await vesta.leases.revoke(ctx.leaseId);
    await takeover;
    // It wakes up still believing it leads, and writes: the store refuses the stale token, and
    // the ConflictError ends this worker's turn.
    console.log(`${name}: wakes up and writes with its old token ${ctx.fencingToken}`);
    await advance(name, ctx);
  } else {
    tookOver();
  }
}

/** A worker: waits for the lock (up to 20 s), leads, and reports how its turn ended. */
async function worker(name: string): Promise<void> {
  try {
    await vesta.withLock(ns, 'leader', (ctx) => lead(name, ctx), { ttlSeconds: 5, waitMs: 20_000, retryMs: 200 });
    console.log(`${name}: done, lock released`);
  } catch (e) {
    refused = e;
    const why = e instanceof ConflictError ? `${e.code} ${e.reason}` : String(e);
    console.log(`${name}: write refused, steps down: ${why}`);
  }
}

async function main(): Promise<void> {
  console.log(`namespace ${ns} at ${vesta.url}`);
  // Should a worker fail before the takeover, the stalled one would wait for ever: give up instead.
  setTimeout(() => {
    console.log('FAIL the workers did not finish within 30 s');
    process.exit(1);
  }, 30_000).unref();
  await Promise.all([worker('worker-a'), worker('worker-b')]);

  const [oldLeader, newLeader] = firstLeader === 'worker-a' ? ['worker-a', 'worker-b'] : ['worker-b', 'worker-a'];
  console.log(`tokens: ${oldLeader}=${tokens[oldLeader]} ${newLeader}=${tokens[newLeader]}`);
  check(
    tokens[newLeader] > tokens[oldLeader],
    `the new leader's token is larger (${tokens[newLeader]} > ${tokens[oldLeader]})`,
  );
  check(
    refused instanceof ConflictError && refused.reason === 'FencingTokenStale',
    'the stale leader was refused with FencingTokenStale',
  );

  const final = (await vesta.get(ns, 'progress')).record as VestaRecord;
  console.log('final record', JSON.stringify(final.fields), `rev ${final.rev}`);
  check(
    final.fields.leader === newLeader && final.fields.token === tokens[newLeader],
    `the final record was written by ${newLeader}`,
  );
  // Two writes by the old leader, then two by the new one: the refused write left no trace.
  check(final.fields.step === 4 && final.rev === 4, 'no write of the stale leader landed after the takeover');

  console.log(process.exitCode ? '\nleader-election: FAILED' : '\nleader-election: all checks passed');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
