/**
 * Fault injection: 200 randomized sagas between a handful of accounts, run concurrently through
 * the real ASL on the local runner, with transient faults injected into the saga-step handler
 * before it runs and after it has committed but before it answers (the lost acknowledgement).
 *
 * Every saga must end SUCCEEDED or COMPENSATED, the sum of balances never changes, no balance is
 * ever negative, and no step is applied twice: each account's final balance and its number of
 * writes (`rev`) are exactly what the saga log says was applied and undone.
 */
import { prng } from './transfer-kit';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepHandler } from '../../src/local/workflows';
import { type TestApi, testApi, uniqueNs } from './harness';

const SAGAS = Number(process.env.VESTA_FAULT_SAGAS ?? 200);
const ACCOUNTS = 6;
const START_BALANCE = 100;
const FAULT_BEFORE = 0.1;
const FAULT_AFTER = 0.1;
const CONCURRENCY = 16;
const SEED = Number(process.env.VESTA_FAULT_SEED ?? 20261122);

const TRANSIENT_NAMES = ['Vesta.Transient', 'Lambda.ServiceException', 'Lambda.TooManyRequestsException'];

interface Faults {
  before: number;
  after: number;
  calls: number;
}

function faulty(random: () => number, faults: Faults) {
  return (step: StepHandler): StepHandler =>
    async (input) => {
      faults.calls++;
      const fault = () =>
        Object.assign(new Error('injected fault'), {
          name: TRANSIENT_NAMES[Math.floor(random() * TRANSIENT_NAMES.length)],
        });
      if (random() < FAULT_BEFORE) {
        faults.before++;
        throw fault();
      }
      const out = await step(input);
      if (random() < FAULT_AFTER) {
        faults.after++;
        throw fault();
      }
      return out;
    };
}

type Step = { name: string; action: Record<string, unknown>; compensation?: Record<string, unknown> };

const acct = (i: number) => `acct/${i}`;
const debit = (i: number, amount: number): Step => ({
  name: `debit-${i}`,
  action: {
    op: 'patch',
    key: acct(i),
    increment: { balance: -amount },
    require: [{ field: 'balance', op: '>=', value: amount }],
  },
  compensation: { op: 'patch', key: acct(i), increment: { balance: amount } },
});
const credit = (i: number, amount: number): Step => ({
  name: `credit-${i}`,
  action: { op: 'patch', key: acct(i), increment: { balance: amount } },
  compensation: {
    op: 'patch',
    key: acct(i),
    increment: { balance: -amount },
    require: [{ field: 'balance', op: '>=', value: amount }],
  },
});

/** A random saga: a transfer, or debits from 1 to 3 accounts into one other account. */
function randomSaga(
  random: () => number,
  ns: string,
  n: number,
): { body: Record<string, unknown>; effects: { key: string; delta: number }[] } {
  const pick = (exclude: number[]) => {
    let i: number;
    do i = Math.floor(random() * ACCOUNTS);
    while (exclude.includes(i));
    return i;
  };
  const amount = () => 1 + Math.floor(random() * 60);
  if (random() < 0.5) {
    const from = pick([]);
    const to = pick([from]);
    const a = amount();
    return {
      body: {
        id: `${ns}-${n}`,
        type: 'transfer',
        input: { namespace: ns, from: acct(from), to: acct(to), field: 'balance', amount: a },
      },
      effects: [
        { key: acct(from), delta: -a },
        { key: acct(to), delta: a },
      ],
    };
  }
  const sources: number[] = [];
  const count = 1 + Math.floor(random() * 3);
  for (let i = 0; i < count; i++) sources.push(pick(sources));
  const target = pick(sources);
  const amounts = sources.map(() => amount());
  const total = amounts.reduce((x, y) => x + y, 0);
  const steps = [...sources.map((s, i) => debit(s, amounts[i])), credit(target, total)];
  return {
    body: { id: `${ns}-${n}`, namespace: ns, steps },
    effects: [...sources.map((s, i) => ({ key: acct(s), delta: -amounts[i] })), { key: acct(target), delta: total }],
  };
}

let api: TestApi;
const faults: Faults = { before: 0, after: 0, calls: 0 };
const random = prng(SEED);

beforeAll(() => {
  api = testApi({ wrapStep: faulty(random, faults) });
});
afterAll(() => api.close());

test(`${SAGAS} randomized sagas with injected faults: every one ends SUCCEEDED or COMPENSATED, nothing applied twice`, async () => {
  const ns = uniqueNs('faults');
  for (let i = 0; i < ACCOUNTS; i++) {
    expect(
      (await api.call('PUT', `/v1/ns/${ns}/keys/${acct(i)}`, { body: { fields: { balance: START_BALANCE } } })).status,
    ).toBe(201);
  }
  const balances = async () =>
    Promise.all(
      Array.from(
        { length: ACCOUNTS },
        async (_, i) =>
          (await api.call('GET', `/v1/ns/${ns}/keys/${acct(i)}`)).body as { fields: { balance: number }; rev: number },
      ),
    );

  // Watch balances while the sagas run: none may ever be negative.
  let running = true;
  let samples = 0;
  let lowest = START_BALANCE;
  const sampler = (async () => {
    while (running) {
      for (const b of await balances()) lowest = Math.min(lowest, b.fields?.balance ?? lowest);
      samples++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  const t0 = Date.now();
  const sagas = Array.from({ length: SAGAS }, (_, n) => randomSaga(random, ns, n));
  const queue = [...sagas];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        const r = await api.call('POST', '/v1/sagas', { body: s.body });
        expect(r.status).toBe(202);
        await api.workflows.outcome(r.body.executionArn);
      }
    }),
  );
  await api.workflows.settled();
  const seconds = (Date.now() - t0) / 1000;
  running = false;
  await sampler;

  const outcomes: Record<string, number> = {};
  const expected = new Map<string, { balance: number; writes: number }>(
    Array.from({ length: ACCOUNTS }, (_, i) => [acct(i), { balance: START_BALANCE, writes: 1 }]),
  );
  let lostAcksUndone = 0;
  for (const s of sagas) {
    const saga = (await api.call('GET', `/v1/sagas/${s.body.id}`)).body as {
      status: string;
      steps: { status: string; attempts: number }[];
    };
    outcomes[saga.status] = (outcomes[saga.status] ?? 0) + 1;
    expect(['SUCCEEDED', 'COMPENSATED']).toContain(saga.status);
    saga.steps.forEach((step, i) => {
      const e = expected.get(s.effects[i].key)!;
      if (step.status === 'DONE') {
        e.balance += s.effects[i].delta;
        e.writes += 1;
      } else if (step.status === 'COMPENSATED') {
        e.writes += 2;
      } else {
        expect(['FAILED', 'SKIPPED']).toContain(step.status);
      }
      if (saga.status === 'SUCCEEDED') expect(step.status).toBe('DONE');
    });
    if (saga.status === 'COMPENSATED' && !saga.steps.some((st) => st.status === 'FAILED')) lostAcksUndone++;
  }

  const final = await balances();
  const sum = final.reduce((t, b) => t + b.fields.balance, 0);
  expect(sum).toBe(ACCOUNTS * START_BALANCE);
  final.forEach((b, i) => {
    expect(b.fields.balance).toBeGreaterThanOrEqual(0);
    // Exactly the applied steps, each applied (and undone) once: balance and number of writes.
    expect({ key: acct(i), balance: b.fields.balance, writes: b.rev }).toEqual({
      key: acct(i),
      ...expected.get(acct(i)),
    });
  });
  expect(lowest).toBeGreaterThanOrEqual(0);
  expect(outcomes.SUCCEEDED).toBeGreaterThan(0);
  expect(outcomes.COMPENSATED).toBeGreaterThan(0);
  expect(faults.before).toBeGreaterThan(0);
  expect(faults.after).toBeGreaterThan(0);

  const report = {
    seed: SEED,
    sagas: SAGAS,
    stepCalls: faults.calls,
    faultsBefore: faults.before,
    faultsAfter: faults.after,
    outcomes,
    lostAcksUndone,
    balanceSamples: samples,
    seconds,
    lowestBalanceSeen: lowest,
    sum,
  };
  const dir = join(__dirname, '..', '..', '.cache');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'saga-faults.json'), `${JSON.stringify(report, null, 2)}\n`);
}, 600_000);
