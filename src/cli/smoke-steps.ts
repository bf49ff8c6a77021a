/**
 * The steps of `vesta smoke` (`smoke-command.ts`) and its clean-up: what each sends through the
 * typed client and what it checks of the answers, against the contract.
 */
import {
  type Change,
  ConflictError,
  type Fields,
  NotFoundError,
  PreconditionFailedError,
  type Saga,
  type Snapshot,
  type VestaClient,
} from '../client';
import { CliError } from './errors';

/** Pause between polls of the saga and the snapshot. */
const POLL_MS = 250;
/** The longest one long-poll of the change feed may wait (the contract's most). */
const MAX_WAIT_SECONDS = 20;
const SNAPSHOT_FORMAT = 'vesta-snapshot/1';

/** A check of the smoke run that did not hold: what the API answered is not what the contract says. */
export class SmokeCheckError extends CliError {
  public constructor(message: string) {
    super(message);
    this.name = 'SmokeCheckError';
  }
}

/** Throws `SmokeCheckError` with `message` unless `ok`. */
function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new SmokeCheckError(message);
}

/** Runs `fn`, expecting it to fail with `type`; returns that error. Throws `SmokeCheckError` when it succeeds. */
async function refused<E>(fn: () => Promise<unknown>, type: new (...a: never[]) => E, expected: string): Promise<E> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new SmokeCheckError(`the write was accepted; expected ${expected}`);
}

/** The first step: it checks that the namespace is empty, and when it fails nothing is cleaned up. */
export const EMPTY_NAMESPACE_STEP = 'namespace empty';

/** What the run keeps between steps. */
export interface SmokeStepState {
  etag1?: string;
  etag2?: string;
  leaseId?: string;
  leaseRevoked?: boolean;
  /** The fencing token of the lock, as first taken. */
  token?: number;
  saga?: string;
  snapshot?: string;
}

/** The keys the run writes, all under `smoke/`. */
const KEY = {
  cas: 'smoke/cas',
  txn: 'smoke/txn',
  fenced: 'smoke/fenced',
  sagaFrom: 'smoke/saga-from',
  sagaTo: 'smoke/saga-to',
  changes: 'smoke/changes',
} as const;
const LOCK = 'smoke-lock';

export interface StepDef {
  readonly name: string;
  run(): Promise<void>;
}

/** The steps, in order; each throws the client's error, or `SmokeCheckError`, when it fails. */
export function steps(
  client: VestaClient,
  ns: string,
  timeoutMs: number,
  signal: AbortSignal,
  s: SmokeStepState,
): StepDef[] {
  /** A signal that aborts at Ctrl-C or after `timeoutMs`, and whether the time is what aborted it. */
  const deadline = () => {
    const timeout = AbortSignal.timeout(timeoutMs);
    return { signal: AbortSignal.any([signal, timeout]), timedOut: () => timeout.aborted && !signal.aborted };
  };
  /** Resolves to what `wait` resolves to, or undefined when the time ran out first. Rethrows Ctrl-C's reason. */
  async function waitEnded<T>(wait: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    const until = deadline();
    try {
      return await wait(until.signal);
    } catch (e) {
      if (until.timedOut()) return undefined;
      throw e;
    }
  }
  return [
    {
      name: EMPTY_NAMESPACE_STEP,
      async run() {
        const page = await client.list(ns, { limit: 1 });
        check(
          page.items.length === 0,
          `namespace ${ns} holds records (${page.items[0]?.key} ...); the smoke run writes and deletes records, so give it an empty scratch namespace`,
        );
      },
    },
    {
      name: 'put (create)',
      async run() {
        const r = await client.put(ns, KEY.cas, { step: 'create', count: 1 }, { ifNoneMatch: true });
        check(r.created, `PUT with If-None-Match: * answered 200, expected 201 Created`);
        check(r.etag !== '', 'the answer has no ETag');
        s.etag1 = r.etag;
      },
    },
    {
      name: 'put (CAS)',
      async run() {
        const r = await client.put(ns, KEY.cas, { step: 'cas', count: 1 }, { ifMatch: s.etag1 });
        check(r.etag !== '' && r.etag !== s.etag1, 'the write answered without a new ETag');
        s.etag2 = r.etag;
      },
    },
    {
      name: 'put (stale ETag: 412)',
      async run() {
        const e = await refused(
          () => client.put(ns, KEY.cas, { step: 'stale' }, { ifMatch: s.etag1 }),
          PreconditionFailedError,
          '412 PreconditionFailed for an If-Match of an older version',
        );
        check(e.etag === s.etag2, `the 412 carries ETag ${e.etag}, expected the current one, ${s.etag2}`);
      },
    },
    {
      name: 'patch (set + increment)',
      async run() {
        const r = await client.patch(
          ns,
          KEY.cas,
          { set: { step: 'patch' }, increment: { count: 2 } },
          { ifMatch: s.etag2 },
        );
        const { step, count } = r.record.fields as Fields;
        check(
          step === 'patch' && String(count) === '3',
          `the record reads ${JSON.stringify(r.record.fields)}, expected step "patch" and count 3`,
        );
        s.etag2 = r.etag;
      },
    },
    {
      name: 'txn',
      async run() {
        const results = await client.transact(ns, {
          require: [{ key: KEY.cas, etag: s.etag2! }],
          ops: [
            { op: 'put', key: KEY.txn, fields: { step: 'txn' } },
            { op: 'patch', key: KEY.cas, increment: { count: 1 } },
          ],
        });
        check(
          results.length === 2 && results[0].key === KEY.txn && results[1].key === KEY.cas,
          `the transaction answered ${JSON.stringify(results)}, expected a result for ${KEY.txn} and ${KEY.cas}`,
        );
      },
    },
    {
      name: 'lease grant',
      async run() {
        const lease = await client.leases.grant(Math.max(30, Math.ceil(timeoutMs / 1000)));
        s.leaseId = lease.id;
      },
    },
    {
      name: 'lock acquire',
      async run() {
        const grant = await client.locks.acquire(ns, LOCK, s.leaseId!);
        check(
          typeof grant.fencingToken === 'number' && grant.fencingToken > 0,
          `the lock answered fencing token ${grant.fencingToken}`,
        );
        s.token = grant.fencingToken;
      },
    },
    {
      name: 'fenced write',
      async run() {
        await client.put(
          ns,
          KEY.fenced,
          { step: 'fenced' },
          { fence: { lock: LOCK, token: s.token! }, leaseId: s.leaseId },
        );
      },
    },
    {
      name: 'stale fence refused',
      async run() {
        // The token held so far goes stale once the lock is released and taken again.
        const old = s.token!;
        await client.locks.release(ns, LOCK, s.leaseId!);
        const now = await client.locks.acquire(ns, LOCK, s.leaseId!);
        check(now.fencingToken > old, `the lock taken again has token ${now.fencingToken}, expected more than ${old}`);
        const e = await refused(
          () => client.put(ns, KEY.fenced, { step: 'stale' }, { fence: { lock: LOCK, token: old } }),
          ConflictError,
          '409 Conflict (FencingTokenStale) for a write with a stale fencing token',
        );
        check(e.reason === 'FencingTokenStale', `the 409 has reason ${e.reason}, expected FencingTokenStale`);
      },
    },
    {
      name: 'lease revoke',
      async run() {
        await client.leases.revoke(s.leaseId!);
        s.leaseRevoked = true;
        const left = await client.find(ns, KEY.fenced);
        check(left === null, `${KEY.fenced}, written with the lease, is still there after the lease was revoked`);
      },
    },
    {
      name: 'saga',
      async run() {
        await client.put(ns, KEY.sagaFrom, { balance: 10 });
        const started = await client.sagas.start({
          namespace: ns,
          steps: [
            {
              name: 'debit',
              action: {
                op: 'patch',
                key: KEY.sagaFrom,
                increment: { balance: -1 },
                require: [{ field: 'balance', op: '>=', value: 1 }],
              },
              compensation: { op: 'patch', key: KEY.sagaFrom, increment: { balance: 1 } },
            },
            {
              name: 'credit',
              action: { op: 'patch', key: KEY.sagaTo, increment: { balance: 1 } },
              compensation: { op: 'patch', key: KEY.sagaTo, increment: { balance: -1 } },
            },
          ],
        });
        s.saga = started.id;
        const ended = await waitEnded((until) => client.sagas.wait(started.id, { intervalMs: POLL_MS, signal: until }));
        if (!ended) throw new SmokeCheckError(`saga ${started.id} did not end within ${timeoutMs / 1000} s`);
        const saga = ended as Saga;
        const failed = saga.steps.find((x) => x.error);
        check(
          saga.status === 'SUCCEEDED',
          `saga ${saga.id} ended ${saga.status}, expected SUCCEEDED${failed ? `; step ${failed.name}: ${failed.error?.error}: ${failed.error?.cause}` : ''}`,
        );
        const to = await client.get(ns, KEY.sagaTo);
        check(
          String((to.record as { fields?: Fields }).fields?.balance) === '1',
          `${KEY.sagaTo} reads ${JSON.stringify(to.record)} after the saga, expected balance 1`,
        );
      },
    },
    {
      name: 'changes (long-poll)',
      async run() {
        const until = deadline();
        const stop = new AbortController();
        const stream = client.watch(ns, {
          after: 'now',
          signal: AbortSignal.any([until.signal, stop.signal]),
          waitSeconds: Math.min(MAX_WAIT_SECONDS, Math.ceil(timeoutMs / 1000)),
        });
        let written: Awaited<ReturnType<VestaClient['put']>>;
        let change: Change | undefined;
        try {
          await stream.start();
          // The long poll is sent first; the write it must see is made while it waits.
          const seen = (async () => {
            for await (const c of stream) if (c.key === KEY.changes) return c;
            return undefined;
          })();
          written = await client.put(ns, KEY.changes, { step: 'changes' });
          change = await seen;
        } finally {
          stop.abort();
        }
        if (signal.aborted) throw signal.reason;
        check(
          change !== undefined,
          `no change of ${KEY.changes} came from GET /v1/ns/${ns}/changes within ${timeoutMs / 1000} s of its write (rev ${written.record.rev}); is the change feed running?`,
        );
        check(
          change.rev === written.record.rev,
          `the change of ${KEY.changes} has rev ${change.rev}, expected ${written.record.rev}`,
        );
      },
    },
    {
      name: 'snapshot',
      async run() {
        let records = 0;
        for await (const _ of client.listAll(ns)) records += 1;
        const started = await client.snapshots.create({ namespace: ns });
        s.snapshot = started.id;
        const ended = await waitEnded((until) =>
          client.snapshots.wait(started.id, { intervalMs: POLL_MS, signal: until }),
        );
        if (!ended) throw new SmokeCheckError(`snapshot ${started.id} did not complete within ${timeoutMs / 1000} s`);
        checkManifest(ended as Snapshot, ns, records);
      },
    },
  ];
}

/** Checks a snapshot's manifest as the API gives it. Throws `SmokeCheckError`. */
function checkManifest(snap: Snapshot, ns: string, records: number): void {
  const what = `snapshot ${snap.id}`;
  check(
    snap.status === 'COMPLETE',
    `${what} ended ${snap.status}, expected COMPLETE${snap.error ? `: ${snap.error}` : ''}`,
  );
  check(snap.namespace === ns, `${what} is of namespace ${snap.namespace}, expected ${ns}`);
  check(snap.format === SNAPSHOT_FORMAT, `${what} has format ${snap.format}, expected ${SNAPSHOT_FORMAT}`);
  check(snap.items === records, `${what} holds ${snap.items} records, expected the ${records} of ${ns}`);
  check(snap.parts.length > 0, `${what} lists no parts`);
  const sum = snap.parts.reduce((n, p) => n + p.items, 0);
  check(sum === snap.items, `the parts of ${what} hold ${sum} records, its manifest says ${snap.items}`);
  const bad = snap.parts.find((p) => !/^[0-9a-f]{64}$/.test(p.sha256));
  check(bad === undefined, `part ${bad?.name} of ${what} has no sha256 (${JSON.stringify(bad?.sha256)})`);
  // The contract's `cut` (the instant the snapshot stands for) is checked when the API sends it.
  const { cut } = snap as Snapshot & { cut?: unknown };
  check(
    cut === undefined || (typeof cut === 'string' && !Number.isNaN(Date.parse(cut))),
    `${what} has cut ${JSON.stringify(cut)}, expected an ISO time`,
  );
  check(snap.finishedAt !== null, `${what} is COMPLETE without finishedAt`);
}

/**
 * Deletes every record of `ns` (the run checked it was empty first) and revokes the lease when
 * a step left it. Throws the client's error of the first thing it could not remove, after trying
 * the rest.
 */
export async function cleanUp(client: VestaClient, ns: string, s: SmokeStepState): Promise<void> {
  let first: unknown;
  if (s.leaseId && !s.leaseRevoked) {
    try {
      await client.leases.revoke(s.leaseId);
    } catch (e) {
      if (!(e instanceof NotFoundError)) first ??= e;
    }
  }
  const keys: string[] = [];
  for await (const item of client.listAll(ns)) keys.push(item.key);
  for (const key of keys) {
    try {
      await client.delete(ns, key);
    } catch (e) {
      if (!(e instanceof NotFoundError)) first ??= e;
    }
  }
  if (first !== undefined) throw first;
  const left = await client.list(ns, { limit: 1 });
  check(left.items.length === 0, `namespace ${ns} still holds ${left.items[0]?.key} after the clean-up`);
}
