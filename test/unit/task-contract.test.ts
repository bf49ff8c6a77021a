import { ALL_MACHINES, loadDefinition } from '../../src/sagas/state-machines';
import { type AslDefinition, TASK_CLASSES, TRANSIENT_ERRORS, applyTaskContract } from '../../src/sagas/task-contract';

const caught = { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' };
const machine = (states: AslDefinition['States']): AslDefinition => ({
  StartAt: Object.keys(states)[0],
  States: { ...states, Failed: { Type: 'Fail' } },
});

describe('applyTaskContract', () => {
  test('gives a Task the timeout and retries of its class, and leaves every other field as it was', () => {
    const input = machine({ Work: { Type: 'Task', Resource: 'arn', Catch: [caught], End: true } });

    const out = applyTaskContract('m', input, { Work: 'outcome' });

    expect(out.States.Work).toEqual({
      Type: 'Task',
      Resource: 'arn',
      Catch: [caught],
      End: true,
      TimeoutSeconds: TASK_CLASSES.outcome.timeoutSeconds,
      Retry: [
        {
          ErrorEquals: [...TRANSIENT_ERRORS],
          IntervalSeconds: 1,
          BackoffRate: 2,
          MaxDelaySeconds: 30,
          JitterStrategy: 'FULL',
          MaxAttempts: 10,
        },
      ],
    });
    expect(out.States.Failed).toBe(input.States.Failed);
    expect(input.States.Work).not.toHaveProperty('Retry');
  });

  test('reaches the Tasks inside a Map, which the Map catches', () => {
    const input = machine({
      Each: {
        Type: 'Map',
        Catch: [caught],
        ItemProcessor: { StartAt: 'Part', States: { Part: { Type: 'Task', Resource: 'arn', End: true } } },
        End: true,
      },
    });

    const out = applyTaskContract('m', input, { Part: 'long' });

    expect(out.States.Each.ItemProcessor!.States.Part).toMatchObject({
      TimeoutSeconds: 900,
      Retry: [{ MaxAttempts: 6 }],
    });
  });

  test('refuses a Task without a class, naming it', () => {
    expect(() => applyTaskContract('m', machine({ Work: { Type: 'Task', Catch: [caught], End: true } }), {})).toThrow(
      /m: Task Work has no task class/,
    );
  });

  test('refuses a Task that restates the contract', () => {
    const input = machine({ Work: { Type: 'Task', Catch: [caught], TimeoutSeconds: 60, End: true } });
    expect(() => applyTaskContract('m', input, { Work: 'action' })).toThrow(
      /Task Work sets TimeoutSeconds or Retry.*Received: \{"TimeoutSeconds":60\}/,
    );
  });

  test('refuses a Task that nothing catches', () => {
    const input = machine({ Work: { Type: 'Task', Catch: [{ ErrorEquals: ['Vesta.StepFailed'] }], End: true } });
    expect(() => applyTaskContract('m', input, { Work: 'action' })).toThrow(/Task Work is not caught/);
  });

  test('refuses a class for a state that is no Task', () => {
    const input = machine({ Work: { Type: 'Task', Catch: [caught], End: true } });
    expect(() => applyTaskContract('m', input, { Work: 'action', Failed: 'action', Gone: 'action' })).toThrow(
      /no Task. Received: Failed, Gone/,
    );
  });
});

describe('the state machines under the contract', () => {
  test.each(ALL_MACHINES.map(({ def }) => [def.id, def] as const))(
    '%s loads with a timeout and retries on every Task',
    (_id, def) => {
      const d = loadDefinition(def);
      const tasks = Object.entries(d.States)
        .flatMap(([name, s]) => [[name, s] as const, ...Object.entries(s.ItemProcessor?.States ?? {})])
        .filter(([, s]) => s.Type === 'Task');
      expect(tasks.map(([name]) => name).sort()).toEqual(Object.keys(def.tasks).sort());
      for (const [name, s] of tasks) {
        expect({ name, TimeoutSeconds: s.TimeoutSeconds }).toEqual({
          name,
          TimeoutSeconds: TASK_CLASSES[def.tasks[name]].timeoutSeconds,
        });
        expect({ name, retries: Array.isArray(s.Retry) && s.Retry.length === 1 }).toEqual({ name, retries: true });
      }
    },
  );
});
