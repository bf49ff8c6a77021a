/**
 * What the transfer retry tests share: faults injected into a TestApi's DynamoDB client on one
 * transfer's credit or refund write, calls of the API for accounts and sagas, and the money
 * invariant read through the API only (records and sagas; never an execution's status).
 *
 * The money invariant: at every quiet moment (no execution running),
 *
 *   sum of the balances + the amounts in flight = the total the accounts started with,
 *
 * where a transfer's amount is in flight while its debit has taken effect and is not undone
 * (`DONE` or `COMPENSATION_FAILED`) and its credit has not (neither `DONE` nor `COMPENSATION_FAILED`,
 * the status of a credit that took effect and whose undo failed). Only a COMPENSATION_FAILED
 * transfer keeps an amount in flight; once every saga is SUCCEEDED or COMPENSATED, none is.
 */
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { TASK_CLASSES } from '../../src/sagas/task-contract';
import { type Reply, type TestApi, testTables } from './harness';

/** A transfer's writes: its credit, its refund (the debit's undo), and the credit's undo. */
export type Target = 'credit' | 'refund' | 'creditUndo';
/** The saga-log entry each write settles, in the same transaction as its record write. */
const ENTRY: Record<Target, string> = {
  credit: 'step#001#apply',
  refund: 'step#000#undo',
  creditUndo: 'step#001#undo',
};
const TARGETS = Object.keys(ENTRY) as Target[];

/** Calls of a Task that fails every time: the first, then the `MaxAttempts` retries of its class. */
export const CREDIT_CALLS = 1 + TASK_CLASSES.action.maxAttempts;
export const REFUND_CALLS = 1 + TASK_CLASSES.outcome.maxAttempts;

const storeDown = (what: string) =>
  Object.assign(new Error(`injected: the store is down for ${what}`), { name: 'ServiceUnavailable', $metadata: {} });

/**
 * Fails a write of chosen transfers on every attempt, until healed: the transaction that would
 * settle the step is refused as by a store that is down (nothing written), before the SDK's own
 * retries.
 */
export class TransferFaults {
  private readonly failing = new Set<string>();
  public readonly injected: Record<Target, number> = { credit: 0, refund: 0, creditUndo: 0 };

  public constructor(api: TestApi) {
    const sagasTable = testTables().VESTA_SAGAS_TABLE;
    api.client.middlewareStack.add(
      (next) => async (args) => {
        const items = (args.input as { TransactItems?: TransactWriteItem[] }).TransactItems ?? [];
        for (const { Put } of items) {
          if (Put?.TableName !== sagasTable) continue;
          const id = Put.Item?.id?.S;
          const target = TARGETS.find((t) => Put.Item?.sk?.S === ENTRY[t]);
          if (target && this.failing.has(`${id} ${target}`)) {
            this.injected[target]++;
            throw storeDown(`the ${target} of ${id}`);
          }
        }
        return next(args);
      },
      { step: 'initialize', name: 'transferFaults' },
    );
  }

  public fail(id: string, target: Target): void {
    this.failing.add(`${id} ${target}`);
  }

  public heal(id: string, target: Target): void {
    this.failing.delete(`${id} ${target}`);
  }
}

/** mulberry32: a small seeded PRNG, so that a failing run can be replayed with its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface StepView {
  name: string;
  status: string;
  error: { error: string; cause: string } | null;
  attempts: number;
}
export interface SagaView {
  id: string;
  status: string;
  steps: StepView[];
  finishedAt: string | null;
}
export interface Transfer {
  id: string;
  from: string;
  to: string;
  amount: number;
}

/** The amount a transfer has taken from its source and not yet given to anyone. */
export function inFlight(s: SagaView, amount: number): number {
  const [debit, credit] = s.steps;
  const applied = (status: string) => ['DONE', 'COMPENSATION_FAILED'].includes(status);
  return applied(debit.status) && !applied(credit.status) ? amount : 0;
}

/** Calls of `api` for accounts (`balance` fields) and transfers in namespace `ns`. */
export function transferKit(api: TestApi, ns: string) {
  const account = async (key: string): Promise<{ balance: number; rev: number }> => {
    const r = await api.call('GET', `/v1/ns/${ns}/keys/${key}`);
    expect(r.status).toBe(200);
    return { balance: r.body.fields.balance, rev: r.body.rev };
  };
  const saga = async (id: string): Promise<SagaView> => {
    const r = await api.call('GET', `/v1/sagas/${id}`);
    expect(r.status).toBe(200);
    return r.body;
  };
  return {
    account,
    saga,
    async open(balances: Record<string, number>): Promise<void> {
      for (const [key, balance] of Object.entries(balances)) {
        const r = await api.call('PUT', `/v1/ns/${ns}/keys/${key}`, { body: { fields: { balance } } });
        expect(r.status).toBe(201);
      }
    },
    async start(t: Transfer): Promise<Reply> {
      const input = { namespace: ns, from: t.from, to: t.to, field: 'balance', amount: t.amount };
      const r = await api.call('POST', '/v1/sagas', { body: { id: t.id, type: 'transfer', input } });
      expect(r.status).toBe(202);
      return r;
    },
    retry: (id: string): Promise<Reply> => api.call('POST', `/v1/sagas/${id}/retry`),
    /** Checks the money invariant over `keys` and `transfers`; returns what it read. */
    async expectMoneyKept(keys: readonly string[], transfers: readonly Transfer[], total: number) {
      const balances = await Promise.all(keys.map(async (k) => (await account(k)).balance));
      const sagas = await Promise.all(transfers.map((t) => saga(t.id)));
      const flying = sagas.reduce((sum, s, i) => sum + inFlight(s, transfers[i].amount), 0);
      const held = balances.reduce((a, b) => a + b, 0);
      expect({ held, flying, total: held + flying }).toEqual({ held: total - flying, flying, total });
      return { held, flying, sagas };
    },
  };
}
