/**
 * The money invariant of the built-in transfer saga over many transfers (see `transfer-kit.ts`),
 * on the real API handler, the local ASL runner and DynamoDB Local: a seeded run of transfers
 * between a few accounts, run concurrently, where some credits fail (every attempt) and some of
 * those transfers' refunds fail too, so that they wait COMPENSATION_FAILED. Some are retried
 * before the cause is fixed, then all are retried (some by two retries at once) while more
 * transfers run on the same accounts. The total never changes, every saga ends SUCCEEDED or
 * COMPENSATED, and each account's balance and number of writes are exactly what the saga log
 * says was applied and undone: no refund is applied twice, no failed credit ever.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestApi, testApi, uniqueNs } from './harness';
import { type Transfer, TransferFaults, prng, transferKit } from './transfer-kit';

const TRANSFERS = Number(process.env.VESTA_TRANSFER_RETRY_COUNT ?? 120);
const SEED = Number(process.env.VESTA_TRANSFER_RETRY_SEED ?? 20261206);
const ACCOUNTS = 4;
const START_BALANCE = 100;
const CONCURRENCY = 8;
/** Chance that a transfer's credit fails, and that the refund of such a transfer fails too. */
const CREDIT_FAILS = 0.3;
const REFUND_FAILS = 0.5;

interface Planned {
  readonly t: Transfer;
  readonly creditFails: boolean;
  readonly refundFails: boolean;
}

/** Runs `run` over `items`, `n` at a time. */
async function pool<T>(items: readonly T[], n: number, run: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await run(item);
    }),
  );
}

let api: TestApi;
let faults: TransferFaults;
beforeAll(() => {
  api = testApi();
  faults = new TransferFaults(api);
});
afterAll(() => api.close());

test(`${TRANSFERS} transfers, some credits and refunds failing, the stuck ones retried: the total never changes`, async () => {
  const random = prng(SEED);
  const ns = uniqueNs('xmany');
  const { account, saga, open, start, retry, expectMoneyKept } = transferKit(api, ns);
  const keys = Array.from({ length: ACCOUNTS }, (_, i) => `acct/${i}`);
  const total = ACCOUNTS * START_BALANCE;
  await open(Object.fromEntries(keys.map((k) => [k, START_BALANCE])));
  const plan = (count: number, prefix: string, refunds: boolean): Planned[] =>
    Array.from({ length: count }, (_, n) => {
      const from = Math.floor(random() * ACCOUNTS);
      const to = (from + 1 + Math.floor(random() * (ACCOUNTS - 1))) % ACCOUNTS;
      const amount = 1 + Math.floor(random() * 60);
      const creditFails = random() < CREDIT_FAILS;
      const refundFails = refunds && creditFails && random() < REFUND_FAILS;
      const t = { id: `${ns}-${prefix}${n}`, from: keys[from], to: keys[to], amount };
      if (creditFails) faults.fail(t.id, 'credit');
      if (refundFails) faults.fail(t.id, 'refund');
      return { t, creditFails, refundFails };
    });
  const runAll = (planned: readonly Planned[]) =>
    pool(planned, CONCURRENCY, async ({ t }) => {
      await api.workflows.outcome((await start(t)).body.executionArn);
    });
  const t0 = Date.now();

  // 1. Every transfer ends SUCCEEDED, COMPENSATED (its debit refused, or its credit failed and was
  // refunded) or COMPENSATION_FAILED (its refund failed too), which holds its amount in flight.
  const first = plan(TRANSFERS, 'a', true);
  const firstTransfers = first.map((p) => p.t);
  await runAll(first);
  await api.workflows.settled();
  const afterRun = await expectMoneyKept(keys, firstTransfers, total);
  const stuck = first.filter((_, i) => afterRun.sagas[i].status === 'COMPENSATION_FAILED');
  afterRun.sagas.forEach((s, i) => {
    expect(['SUCCEEDED', 'COMPENSATED', 'COMPENSATION_FAILED']).toContain(s.status);
    if (s.status !== 'COMPENSATED') expect(s.status === 'SUCCEEDED').toBe(!first[i].creditFails);
    if (s.status === 'COMPENSATION_FAILED') expect(first[i].refundFails).toBe(true);
  });
  expect(stuck.length).toBeGreaterThan(0);
  expect(afterRun.flying).toBe(stuck.reduce((sum, p) => sum + p.t.amount, 0));

  // 2. A third of them retried before the cause is fixed: COMPENSATION_FAILED again, nothing moves.
  const early = stuck.filter((_, i) => i % 3 === 0);
  for (const { t } of early) expect((await retry(t.id)).status).toBe(202);
  await api.workflows.settled();
  for (const { t } of early) expect((await saga(t.id)).status).toBe('COMPENSATION_FAILED');
  expect((await expectMoneyKept(keys, firstTransfers, total)).flying).toBe(afterRun.flying);

  // 3. Fixed; every stuck transfer retried (every other one by two retries at once) while more
  // transfers run on the same accounts.
  for (const { t } of stuck) faults.heal(t.id, 'refund');
  const second = plan(Math.ceil(TRANSFERS / 4), 'b', false);
  const retries = stuck.map((p, i) => ({ t: p.t, both: i % 2 === 0 }));
  let accepted = 0;
  await Promise.all([
    runAll(second),
    pool(retries, CONCURRENCY, async ({ t, both }) => {
      const answers = await Promise.all(both ? [retry(t.id), retry(t.id)] : [retry(t.id)]);
      expect(answers.map((a) => a.status).sort()).toEqual(both ? [202, 409] : [202]);
      accepted += 1;
    }),
  ]);
  await api.workflows.settled();
  const seconds = (Date.now() - t0) / 1000;

  // 4. Nothing in flight, the total kept, every saga SUCCEEDED or COMPENSATED; each account's
  // balance and number of writes are exactly what the saga log says was applied and undone.
  const all = [...first, ...second];
  const end = await expectMoneyKept(
    keys,
    all.map((p) => p.t),
    total,
  );
  expect(end.flying).toBe(0);
  expect(accepted).toBe(stuck.length);
  const expected = new Map(keys.map((k) => [k, { balance: START_BALANCE, rev: 1 }]));
  const outcomes: Record<string, number> = {};
  end.sagas.forEach((s, i) => {
    const { t } = all[i];
    outcomes[s.status] = (outcomes[s.status] ?? 0) + 1;
    expect(['SUCCEEDED', 'COMPENSATED']).toContain(s.status);
    if (stuck.includes(all[i])) expect(s.steps.map((st) => st.status)).toEqual(['COMPENSATED', 'FAILED']);
    s.steps.forEach((step, j) => {
      const e = expected.get(j === 0 ? t.from : t.to)!;
      if (step.status === 'DONE') {
        e.balance += j === 0 ? -t.amount : t.amount;
        e.rev += 1;
      } else if (step.status === 'COMPENSATED') e.rev += 2;
      else expect(['FAILED', 'SKIPPED']).toContain(step.status);
    });
  });
  for (const k of keys) expect({ k, ...(await account(k)) }).toEqual({ k, ...expected.get(k) });

  const report = {
    seed: SEED,
    transfers: all.length,
    creditsFailed: all.filter((p) => p.creditFails).length,
    stuck: stuck.length,
    earlyRetries: early.length,
    doubleRetries: retries.filter((r) => r.both).length,
    outcomes,
    injected: faults.injected,
    seconds,
  };
  const dir = join(__dirname, '..', '..', '.cache');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'transfer-retry.json'), `${JSON.stringify(report, null, 2)}\n`);
}, 300_000);
