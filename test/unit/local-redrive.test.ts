/**
 * The local runner's redrive on the real ASL, with a stand-in saga-step handler: a failed
 * compensation stops at AwaitRetry; once the saga is RUNNING again a redrive goes on from there
 * (the states before it are not run again), in the generic saga and in the transfer.
 */
import { LocalExecutions } from '../../src/local/executions';
import { LocalWorkflows } from '../../src/local/workflows';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

type Input = { sagaId: string; action: string; index?: number };

/** A saga log in memory: the undo of `stuck` fails until `fixed`; records every call. */
function stand(count: number, failAt: number, stuck: number) {
  const state = { saga: 'RUNNING', fixed: false, steps: Array.from({ length: count }, () => 'PENDING') };
  const calls: string[] = [];
  const names = Array.from({ length: count }, (_, i) => `s${i}`);
  const handler = async (raw: unknown) => {
    const input = raw as Input;
    const i = input.index ?? -1;
    calls.push(`${input.action}${input.index === undefined ? '' : ` ${i}`}`);
    switch (input.action) {
      case 'load':
        return { sagaId: input.sagaId, steps: names, cursor: { next: 0, done: false } };
      case 'apply':
      case 'debit':
      case 'credit': {
        const at = input.action === 'debit' ? 0 : input.action === 'credit' ? 1 : i;
        if (at === failAt) throw named('Vesta.StepFailed', `step ${at} failed`);
        state.steps[at] = 'DONE';
        return { next: at + 1, done: at + 1 === count };
      }
      case 'abort':
        state.steps[i] = 'FAILED';
        return { next: i - 1, done: i === 0 };
      case 'compensate':
      case 'refund': {
        const todo = input.action === 'refund' ? [0] : [i];
        for (const j of todo) {
          if (state.steps[j] !== 'DONE' && state.steps[j] !== 'COMPENSATION_FAILED') continue;
          if (j === stuck && !state.fixed) throw named('Vesta.StepFailed', `undo of step ${j} refused`);
          state.steps[j] = 'COMPENSATED';
        }
        return { next: i - 1, done: i <= 0 };
      }
      case 'fail':
        if (state.steps[input.index ?? -1] === 'DONE') state.steps[input.index!] = 'COMPENSATION_FAILED';
        state.saga = 'COMPENSATION_FAILED';
        return {};
      case 'resume': {
        if (state.saga !== 'RUNNING') throw named('Vesta.CompensationFailed', 'waiting for a person');
        const next = state.steps.findLastIndex((s) => s === 'DONE' || s === 'COMPENSATION_FAILED');
        return { sagaId: input.sagaId, steps: names, cursor: { next, done: next < 0 } };
      }
      case 'finish':
        state.saga = 'COMPENSATED';
        return { error: 'Vesta.SagaCompensated', cause: `step ${failAt} failed` };
      default:
        throw new Error(`unexpected action ${input.action}`);
    }
  };
  return { state, calls, handler };
}

async function failThenRedrive(workflow: 'saga' | 'transfer', s: ReturnType<typeof stand>) {
  const workflows = new LocalWorkflows({ step: s.handler, executions: new LocalExecutions(), retryIntervalMs: 0 });
  const arn = workflows.executionArn(workflow, 'x');
  await workflows.start(workflow, 'x', { sagaId: 'x' });
  const failed = await workflows.outcome(arn)!;
  const callsBefore = s.calls.length;
  // What a retry does: the saga RUNNING again (a person fixed the cause), then the redrive.
  s.state.fixed = true;
  s.state.saga = 'RUNNING';
  await workflows.redrive(workflow, 'x');
  const redriven = await workflows.outcome(arn)!;
  return { failed, redriven, after: s.calls.slice(callsBefore) };
}

test('saga: stops at AwaitRetry; the redrive goes on with the compensation from the step that failed', async () => {
  // Steps 0..3, step 3 fails; undo of 2 done, undo of 1 refused.
  const s = stand(4, 3, 1);
  const { failed, redriven, after } = await failThenRedrive('saga', s);
  expect(failed).toMatchObject({ status: 'FAILED' });
  expect(failed.states.slice(-3)).toEqual(['CompensateStep', 'RecordCompensationFailed', 'AwaitRetry']);
  expect(failed).toMatchObject({ error: 'Vesta.CompensationFailed', cause: 'waiting for a person' });
  // Compensated at last: the execution ends in the Fail state Compensated, with finish's cause.
  expect(redriven).toMatchObject({ status: 'FAILED', error: 'Vesta.SagaCompensated', cause: 'step 3 failed' });
  expect(redriven.states).toEqual([
    'AwaitRetry',
    'NextCompensation',
    'CompensateStep',
    'NextCompensation',
    'CompensateStep',
    'NextCompensation',
    'RecordCompensated',
    'Compensated',
  ]);
  // Step 2 is not undone again: the redrive starts at step 1.
  expect(after).toEqual(['resume', 'compensate 1', 'compensate 0', 'finish']);
  expect(s.state).toMatchObject({
    saga: 'COMPENSATED',
    steps: ['COMPENSATED', 'COMPENSATED', 'COMPENSATED', 'FAILED'],
  });
});

test('transfer: stops at AwaitRetry; the redrive runs RetryRefund and ends TransferCompensated', async () => {
  const s = stand(2, 1, 0);
  const { failed, redriven, after } = await failThenRedrive('transfer', s);
  expect(failed).toMatchObject({ status: 'FAILED' });
  expect(failed.states.slice(-3)).toEqual(['RefundDebit', 'RecordCompensationFailed', 'AwaitRetry']);
  expect(redriven).toMatchObject({ status: 'FAILED', error: 'Vesta.SagaCompensated', cause: 'step 1 failed' });
  expect(redriven.states).toEqual(['AwaitRetry', 'RetryRefund', 'RecordCompensated', 'TransferCompensated']);
  expect(after).toEqual(['resume', 'refund', 'finish']);
  expect(s.state).toMatchObject({ saga: 'COMPENSATED', steps: ['COMPENSATED', 'PENDING'] });
});

test('a redrive asked while the saga is still COMPENSATION_FAILED fails at AwaitRetry again', async () => {
  const s = stand(2, 1, 0);
  const workflows = new LocalWorkflows({ step: s.handler, executions: new LocalExecutions(), retryIntervalMs: 0 });
  await workflows.start('saga', 'x', { sagaId: 'x' });
  await workflows.settled();
  await workflows.redrive('saga', 'x');
  const again = await workflows.outcome(workflows.executionArn('saga', 'x'))!;
  expect(again).toMatchObject({ status: 'FAILED', states: ['AwaitRetry'] });
  expect(s.state.saga).toBe('COMPENSATION_FAILED');
});
