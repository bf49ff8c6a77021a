import { StateMachine, localDefinition } from '../../src/local/workflows';

const definition = localDefinition('saga');
const TASKS = [
  'LoadSaga',
  'ApplyStep',
  'RecordStepFailed',
  'CompensateStep',
  'RecordSucceeded',
  'RecordCompensated',
  'RecordCompensationFailed',
  'AwaitRetry',
];

type Input = { sagaId: string; action: string; index?: number; step?: string; status?: string };
type Options = { steps: number; failAt?: number; compensationAlwaysFails?: boolean };

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

/** An in-memory stand-in for the saga-step Lambda, applying each action exactly once. */
function simulate({ steps, failAt, compensationAlwaysFails }: Options) {
  const applied: number[] = [];
  const compensated: number[] = [];
  const calls: Input[] = [];
  const status: { saga?: string } = {};
  const faulted = new Set<string>();
  const names = Array.from({ length: steps }, (_, i) => `step-${i}`);
  const handler = async (input: Input) => {
    calls.push(input);
    const i = input.index ?? -1;
    // One transient fault per (action, index), before the write: the retry must recover.
    const key = `${input.action}:${i}`;
    if ((input.action === 'apply' || input.action === 'compensate') && !faulted.has(key)) {
      faulted.add(key);
      throw named('Vesta.Transient', 'injected fault');
    }
    switch (input.action) {
      case 'load':
        status.saga = 'RUNNING';
        return { sagaId: input.sagaId, steps: names, cursor: { next: 0, done: false } };
      case 'apply':
        if (i === failAt) throw named('Vesta.StepFailed', `step ${i} precondition failed`);
        if (!applied.includes(i)) applied.push(i);
        return { next: i + 1, done: i + 1 === steps };
      case 'abort':
        return { next: i - 1, done: i === 0 };
      case 'compensate':
        if (compensationAlwaysFails) throw named('Vesta.Transient', 'compensation keeps failing');
        compensated.push(i);
        return { next: i - 1, done: i === 0 };
      case 'finish':
        status.saga = input.status;
        return input.status === 'COMPENSATED' ? { error: 'Vesta.SagaCompensated', cause: `step ${failAt} failed` } : {};
      case 'fail':
        status.saga = 'COMPENSATION_FAILED';
        return {};
      case 'resume':
        // Waits for a person: fails the execution until a retry set the saga RUNNING.
        if (status.saga !== 'RUNNING') throw named('Vesta.CompensationFailed', 'step could not be undone');
        return { sagaId: input.sagaId, steps: names, cursor: { next: -1, done: true } };
      default:
        throw new Error(`unknown action ${input.action}`);
    }
  };
  return { applied, compensated, calls, status, handler };
}

async function run(opts: Options) {
  const sim = simulate(opts);
  const machine = new StateMachine(definition as never);
  const execution = machine.run(
    { sagaId: 'saga-1' },
    {
      overrides: {
        taskResourceLocalHandlers: Object.fromEntries(TASKS.map((t) => [t, sim.handler])) as never,
        retryIntervalOverrides: Object.fromEntries(TASKS.map((t) => [t, 0])),
      },
    },
  );
  const visited: string[] = [];
  let failedWith: string | undefined;
  let cause: unknown;
  const logs = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') visited.push(event.state.name);
      if (event.type === 'ExecutionFailed') {
        failedWith = event.Error;
        cause = event.Cause;
      }
    }
  })();
  let result: unknown;
  let error: unknown;
  try {
    result = await execution.result;
  } catch (e) {
    error = e;
  }
  await logs;
  return { ...sim, visited, result, error, failedWith, cause };
}

test('all steps succeed', async () => {
  const r = await run({ steps: 3 });
  expect(r.error).toBeUndefined();
  expect(r.applied).toEqual([0, 1, 2]);
  expect(r.compensated).toEqual([]);
  expect(r.status.saga).toBe('SUCCEEDED');
  expect(r.visited.at(-1)).toBe('Succeeded');
});

test('every Task that works on a step names it', async () => {
  const r = await run({ steps: 3, failAt: 2 });
  const named = r.calls.filter((c) => ['apply', 'abort', 'compensate'].includes(c.action));
  expect(named.map((c) => [c.action, c.index, c.step])).toEqual([
    ['apply', 0, 'step-0'],
    ['apply', 0, 'step-0'],
    ['apply', 1, 'step-1'],
    ['apply', 1, 'step-1'],
    ['apply', 2, 'step-2'],
    ['apply', 2, 'step-2'],
    ['abort', 2, 'step-2'],
    ['compensate', 1, 'step-1'],
    ['compensate', 1, 'step-1'],
    ['compensate', 0, 'step-0'],
    ['compensate', 0, 'step-0'],
  ]);
});

test('step 2 of 3 fails: step 1 is compensated exactly once and the saga ends in the Fail state Compensated', async () => {
  const r = await run({ steps: 3, failAt: 1 });
  // A compensated saga is a failed execution, with the cause finish gave it.
  expect(r.failedWith).toBe('Vesta.SagaCompensated');
  expect(r.cause).toBe('step 1 failed');
  expect(r.applied).toEqual([0]);
  expect(r.compensated).toEqual([0]);
  expect(r.status.saga).toBe('COMPENSATED');
  expect(r.visited).toEqual([
    'LoadSaga',
    'ApplyStep',
    'NextStep',
    'ApplyStep',
    'RecordStepFailed',
    'NextCompensation',
    'CompensateStep',
    'NextCompensation',
    'RecordCompensated',
    'Compensated',
  ]);
  expect(r.calls.filter((c) => c.action === 'apply' && c.index === 2)).toEqual([]);
});

test('the first step fails: nothing to undo', async () => {
  const r = await run({ steps: 3, failAt: 0 });
  expect(r.applied).toEqual([]);
  expect(r.compensated).toEqual([]);
  expect(r.visited).not.toContain('CompensateStep');
  expect(r.visited.at(-1)).toBe('Compensated');
});

test('a compensation that keeps failing fails the execution at AwaitRetry with Vesta.CompensationFailed', async () => {
  const r = await run({ steps: 3, failAt: 2, compensationAlwaysFails: true });
  expect(r.error).toBeDefined();
  expect(r.failedWith).toBe('Vesta.CompensationFailed');
  expect(r.status.saga).toBe('COMPENSATION_FAILED');
  // It stops at the uncaught AwaitRetry Task, which a redrive runs again.
  expect(r.visited.slice(-2)).toEqual(['RecordCompensationFailed', 'AwaitRetry']);
  expect(r.calls.filter((c) => c.action === 'fail')).toHaveLength(1);
});
