/**
 * The contract of `SagaLog` (`src/core/saga-log.ts`): what every saga log adapter must do, with a
 * record writer of the same backend for the settlements committed with a step's records.
 */
import { NotFoundError, ValidationError } from '../../../src/core/errors';
import type { RecordStore } from '../../../src/core/ports';
import { type SagaLog, type SagaRecordWriter, StepSettledError } from '../../../src/core/saga-log';
import { numberFromText, numericText } from '../../../src/core/decimal';
import { type SagaDefinition, actionTxn, parseSagaBody, sameDefinition } from '../../../src/core/sagas';
import { uniqueNs } from '../harness';
import type { FakeClock } from './clock';

export interface SagaLogFixture {
  readonly log: SagaLog;
  /** Commits a step's records with its settlement; reads them back. */
  readonly records: SagaRecordWriter & Pick<RecordStore, 'get'>;
  readonly clock: FakeClock;
}

const ARN = 'arn:aws:states:us-east-1:000000000000:execution:contract:x';

/** A saga of `n` steps, each writing its own key and deleting it to undo. */
function definition(n = 2): SagaDefinition {
  const ns = uniqueNs('saga-contract');
  return parseSagaBody({
    id: `contract-${ns}`,
    namespace: ns,
    steps: Array.from({ length: n }, (_, i) => ({
      name: `step-${i}`,
      action: { op: 'put', key: `k${i}`, fields: { n: i } },
      compensation: { op: 'delete', key: `k${i}` },
    })),
  });
}

export function sagaLogContract(backend: string, make: () => SagaLogFixture): void {
  describe(`SagaLog contract (${backend})`, () => {
    let f: SagaLogFixture;
    beforeEach(() => {
      f = make();
    });

    test('a created saga is RUNNING with every step PENDING; creating the same id again writes nothing', async () => {
      const def = definition(2);
      expect(await f.log.create(def, ARN)).toBe(true);
      expect(await f.log.create({ ...def, steps: def.steps.slice(0, 1) }, 'arn:other')).toBe(false);
      expect(await f.log.saga(def.id)).toMatchObject({
        id: def.id,
        namespace: def.namespace,
        type: 'steps',
        status: 'RUNNING',
        executionArn: ARN,
        started: false,
        count: 2,
        startedAt: f.clock.now().toISOString(),
      });
      expect(await f.log.view(def.id)).toEqual({
        id: def.id,
        type: 'steps',
        namespace: def.namespace,
        status: 'RUNNING',
        executionArn: ARN,
        steps: [
          { name: 'step-0', status: 'PENDING', error: null, attempts: 0 },
          { name: 'step-1', status: 'PENDING', error: null, attempts: 0 },
        ],
        startedAt: f.clock.now().toISOString(),
        finishedAt: null,
      });
      await f.log.markStarted(def.id);
      expect((await f.log.saga(def.id))?.started).toBe(true);
    });

    test('definition: the saga as created, exact numbers and all; undefined when unknown', async () => {
      const def = definition(2);
      await f.log.create(def, ARN);
      const got = await f.log.definition(def.id);
      expect(got).toEqual({ id: def.id, namespace: def.namespace, type: 'steps', steps: def.steps });
      expect(sameDefinition(got!, def)).toBe(true);
      const ns = uniqueNs('saga-contract');
      const transfer = parseSagaBody({
        id: `contract-${ns}`,
        type: 'transfer',
        input: { namespace: ns, from: 'a', to: 'b', field: 'n', amount: numberFromText('12345678901234567890.5') },
      });
      await f.log.create(transfer, ARN);
      const stored = await f.log.definition(transfer.id);
      expect(stored).toMatchObject({ type: 'transfer', namespace: ns, input: { from: 'a', to: 'b', field: 'n' } });
      expect(numericText(stored!.input!.amount)).toBe('12345678901234567890.5');
      expect(sameDefinition(stored!, transfer)).toBe(true);
      expect(await f.log.definition(`unknown-${uniqueNs()}`)).toBeUndefined();
    });

    test('an unknown saga has no header, no view and no steps', async () => {
      const id = `unknown-${uniqueNs()}`;
      expect(await f.log.saga(id)).toBeUndefined();
      expect(await f.log.view(id)).toBeUndefined();
      await expect(f.log.step(id, 0)).rejects.toBeInstanceOf(NotFoundError);
      await expect(f.log.attempt(id, 0, 'apply')).rejects.toBeInstanceOf(NotFoundError);
      expect(await f.log.setStepStatus(id, 0, ['PENDING'], 'FAILED')).toBe(false);
    });

    test('each attempt of an action or compensation is counted on its step', async () => {
      const def = definition(1);
      await f.log.create(def, ARN);
      await f.log.attempt(def.id, 0, 'apply');
      const step = await f.log.attempt(def.id, 0, 'apply');
      expect(step).toMatchObject({
        index: 0,
        count: 1,
        name: 'step-0',
        namespace: def.namespace,
        action: def.steps[0].action,
        status: 'PENDING',
        attempts: 2,
        compensationAttempts: 0,
      });
      expect((await f.log.attempt(def.id, 0, 'undo')).compensationAttempts).toBe(1);
      await expect(f.log.attempt(def.id, 1, 'apply')).rejects.toBeInstanceOf(NotFoundError);
    });

    test('an action commits once with its settlement: the step is DONE and its entry records the write', async () => {
      const def = definition(1);
      await f.log.create(def, ARN);
      const [result] = await f.records.transactWith(
        def.namespace,
        actionTxn(def.steps[0].action),
        'reject',
        f.log.settlement(def.id, 0, 'apply'),
      );
      expect((await f.log.step(def.id, 0)).status).toBe('DONE');
      expect(await f.log.entry(def.id, 0, 'apply')).toEqual(result);
      expect(await f.log.entry(def.id, 0, 'undo')).toBeUndefined();
      const again = f.records.transactWith(
        def.namespace,
        actionTxn(def.steps[0].action),
        'reject',
        f.log.settlement(def.id, 0, 'apply'),
      );
      await expect(again).rejects.toBeInstanceOf(StepSettledError);
      expect((await f.records.get(def.namespace, 'k0'))?.rev).toBe(1);
    });

    test('a step aborted first makes its late action fail without writing its records', async () => {
      const def = definition(1);
      await f.log.create(def, ARN);
      expect(await f.log.setStepStatus(def.id, 0, ['PENDING'], 'FAILED', { error: 'E', cause: 'c' })).toBe(true);
      expect(await f.log.step(def.id, 0)).toMatchObject({ status: 'FAILED', error: { error: 'E', cause: 'c' } });
      const late = f.records.transactWith(
        def.namespace,
        actionTxn(def.steps[0].action),
        'reject',
        f.log.settlement(def.id, 0, 'apply'),
      );
      await expect(late).rejects.toBeInstanceOf(StepSettledError);
      expect(await f.records.get(def.namespace, 'k0')).toBeUndefined();
      expect(await f.log.setStepStatus(def.id, 0, ['PENDING'], 'SKIPPED')).toBe(false);
    });

    test('an undo without a write settles a DONE step once', async () => {
      const def = definition(1);
      await f.log.create(def, ARN);
      await expect(f.log.settleWithoutWrite(def.id, 0, 'undo')).rejects.toBeInstanceOf(StepSettledError);
      expect(await f.log.setStepStatus(def.id, 0, ['PENDING'], 'DONE')).toBe(true);
      await f.log.settleWithoutWrite(def.id, 0, 'undo');
      expect((await f.log.step(def.id, 0)).status).toBe('COMPENSATED');
      expect(await f.log.entry(def.id, 0, 'undo')).toEqual({ key: null });
      await expect(f.log.settleWithoutWrite(def.id, 0, 'undo')).rejects.toBeInstanceOf(StepSettledError);
    });

    test('a saga ends once, from the statuses given; only RUNNING sagas are unfinished', async () => {
      const running = definition(1);
      const ended = definition(1);
      await f.log.create(running, ARN);
      await f.log.create(ended, ARN);
      f.clock.advance(5);
      expect(await f.log.finish(ended.id, 'SUCCEEDED', ['RUNNING'])).toBe(true);
      expect(await f.log.finish(ended.id, 'COMPENSATED', ['RUNNING'])).toBe(false);
      expect(await f.log.saga(ended.id)).toMatchObject({
        status: 'SUCCEEDED',
        finishedAt: f.clock.now().toISOString(),
      });
      const unfinished: string[] = [];
      for await (const s of f.log.unfinished()) unfinished.push(s.id);
      expect(unfinished).toContain(running.id);
      expect(unfinished).not.toContain(ended.id);
    });

    test('list: newest first, of one status or all, page after page; a finished saga moves to its status', async () => {
      // Far ahead of every other saga in the log, so the first pages hold only these.
      f.clock.t = Date.parse('2093-01-01T00:00:00.000Z') + Math.floor(Math.random() * 1e6) * 1000;
      const defs = [definition(1), definition(1), definition(1)];
      for (const d of defs) {
        expect(await f.log.create(d, ARN)).toBe(true);
        f.clock.advance(1);
      }
      expect(await f.log.finish(defs[1].id, 'SUCCEEDED', ['RUNNING'])).toBe(true);
      const ids = defs.map((d) => d.id).reverse();
      const first = await f.log.list({ limit: 2 });
      expect(first.items.map((s) => s.id)).toEqual(ids.slice(0, 2));
      expect(first.items[0]).toEqual({
        id: ids[0],
        status: 'RUNNING',
        type: 'steps',
        startedAt: new Date(f.clock.t - 1000).toISOString(),
        finishedAt: null,
      });
      const next = await f.log.list({ limit: 2, cursor: first.cursor! });
      expect(next.items[0].id).toBe(ids[2]);
      expect((await f.log.list({ status: 'SUCCEEDED', limit: 1 })).items).toEqual([
        expect.objectContaining({ id: defs[1].id, status: 'SUCCEEDED', finishedAt: expect.any(String) }),
      ]);
      const running = await f.log.list({ status: 'RUNNING', limit: 2 });
      expect(running.items.map((s) => s.id)).toEqual([defs[2].id, defs[0].id]);
      await expect(f.log.list({ limit: 1, cursor: 'nope' })).rejects.toBeInstanceOf(ValidationError);
    });

    test('only a COMPENSATION_FAILED saga reopens: RUNNING again, no finishedAt, a retry counted; once', async () => {
      const def = definition(1);
      await f.log.create(def, ARN);
      expect(await f.log.reopen(def.id)).toBe(false);
      expect(await f.log.reopen(`none-${def.id}`)).toBe(false);
      expect(await f.log.finish(def.id, 'COMPENSATION_FAILED', ['RUNNING'])).toBe(true);
      expect(await f.log.saga(def.id)).toMatchObject({ status: 'COMPENSATION_FAILED', retries: 0 });
      const [first, second] = await Promise.all([f.log.reopen(def.id), f.log.reopen(def.id)]);
      expect([first, second].sort()).toEqual([false, true]);
      const reopened = await f.log.saga(def.id);
      expect(reopened).toMatchObject({ status: 'RUNNING', retries: 1 });
      expect(reopened?.finishedAt).toBeUndefined();
      expect((await f.log.view(def.id))?.finishedAt).toBeNull();
      const unfinished: string[] = [];
      for await (const s of f.log.unfinished()) unfinished.push(s.id);
      expect(unfinished).toContain(def.id);
      expect(await f.log.finish(def.id, 'COMPENSATED', ['RUNNING'])).toBe(true);
      expect(await f.log.reopen(def.id)).toBe(false);
    });
  });
}
