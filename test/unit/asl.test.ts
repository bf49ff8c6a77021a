import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ALL_MACHINES,
  SNAPSHOT_EXPORT_SUBSTITUTION,
  SNAPSHOT_RESTORE_SUBSTITUTION,
  STEP_FUNCTION_SUBSTITUTION,
  loadDefinition,
} from '../../src/sagas/state-machines';

/** asl-validator ships no type declarations. */
type AslValidator = (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };
const aslValidator = require('asl-validator') as AslValidator;

/** The definition substitutions the CDK stack provides (one function a file); no other placeholder may appear. */
const PLACEHOLDERS = [STEP_FUNCTION_SUBSTITUTION, SNAPSHOT_EXPORT_SUBSTITUTION, SNAPSHOT_RESTORE_SUBSTITUTION];
const fakeArn = (placeholder: string) => `arn:aws:lambda:us-east-1:123456789012:function:${placeholder}`;
const TRANSIENT = ['Vesta.Transient', 'Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'States.Timeout'];

const dir = join(__dirname, '..', '..', 'statemachines');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.asl.json'))
  .sort();

type State = {
  Type: string;
  Next?: string;
  Default?: string;
  Resource?: string;
  Choices?: { Next: string }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Retry?: { ErrorEquals: string[]; JitterStrategy?: string; BackoffRate?: number; MaxAttempts?: number }[];
  Branches?: Machine[];
  ItemProcessor?: Machine;
  Iterator?: Machine;
  [k: string]: unknown;
};
type Machine = { StartAt: string; States: Record<string, State>; QueryLanguage?: string };

const substitute = (text: string) =>
  text.replace(/\$\{(\w+)\}/g, (_m, name: string) => (PLACEHOLDERS.includes(name) ? fakeArn(name) : _m));
const machineOf = (file: string) => ALL_MACHINES.find((x) => x.def.file === `statemachines/${file}`);
/** A file's definition as it is deployed and run (`loadDefinition`: the task contract applied), placeholders substituted. */
const load = (file: string): Machine =>
  JSON.parse(substitute(JSON.stringify(loadDefinition(machineOf(file)!.def)))) as Machine;

/** Every state of a machine, nested Parallel branches and Map processors included. */
function allStates(m: Machine): [string, State][] {
  return Object.entries(m.States).flatMap(([name, s]) => [
    [name, s] as [string, State],
    ...[
      ...(s.Branches ?? []),
      ...(s.ItemProcessor ? [s.ItemProcessor] : []),
      ...(s.Iterator ? [s.Iterator] : []),
    ].flatMap(allStates),
  ]);
}

/** Every Task, with whether a Catch of States.ALL covers it (its own, or that of the Map or Parallel around it). */
function tasksCaught(m: Machine, enclosed = false): [string, State, boolean][] {
  return Object.entries(m.States).flatMap(([name, s]) => {
    const catchesAll = (s.Catch ?? []).some((c) => c.ErrorEquals.includes('States.ALL'));
    const inner = [
      ...(s.Branches ?? []),
      ...(s.ItemProcessor ? [s.ItemProcessor] : []),
      ...(s.Iterator ? [s.Iterator] : []),
    ];
    return [
      ...(s.Type === 'Task' ? [[name, s, enclosed || catchesAll] as [string, State, boolean]] : []),
      ...inner.flatMap((i) => tasksCaught(i, enclosed || catchesAll)),
    ];
  });
}

function targets(s: State): string[] {
  return [s.Next, s.Default, ...(s.Choices ?? []).map((c) => c.Next), ...(s.Catch ?? []).map((c) => c.Next)].filter(
    (t): t is string => typeof t === 'string',
  );
}

function unreachable(m: Machine): string[] {
  const seen = new Set<string>();
  const todo = [m.StartAt];
  while (todo.length) {
    const name = todo.pop()!;
    if (seen.has(name) || !m.States[name]) continue;
    seen.add(name);
    todo.push(...targets(m.States[name]));
  }
  const nested = Object.values(m.States).flatMap((s) =>
    [...(s.Branches ?? []), ...(s.ItemProcessor ? [s.ItemProcessor] : []), ...(s.Iterator ? [s.Iterator] : [])].flatMap(
      unreachable,
    ),
  );
  return [...Object.keys(m.States).filter((n) => !seen.has(n)), ...nested];
}

test('there are state machine definitions', () => {
  expect(files).toEqual(expect.arrayContaining(['saga.asl.json', 'transfer.asl.json']));
});

describe.each(files)('%s', (file) => {
  const raw = readFileSync(join(dir, file), 'utf8');

  test('parses as JSON', () => {
    expect(() => JSON.parse(raw)).not.toThrow();
  });

  test('uses only the documented placeholders, and none remains after substitution', () => {
    const used = [...raw.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]);
    expect(used.filter((p) => !PLACEHOLDERS.includes(p))).toEqual([]);
    expect(substitute(raw)).not.toMatch(/\$\{/);
  });

  test('passes asl-validator after substitution', () => {
    const result = aslValidator(load(file));
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  test('is JSONPath only: no JSONata, no Assign variables', () => {
    const m = load(file);
    expect([undefined, 'JSONPath']).toContain(m.QueryLanguage);
    for (const [name, s] of allStates(m)) {
      expect({ name, QueryLanguage: s.QueryLanguage ?? 'JSONPath' }).toEqual({ name, QueryLanguage: 'JSONPath' });
      expect({ name, Assign: s.Assign }).toEqual({ name, Assign: undefined });
      expect({ name, hasArguments: 'Arguments' in s, hasOutput: 'Output' in s }).toEqual({
        name,
        hasArguments: false,
        hasOutput: false,
      });
    }
    expect(raw).not.toMatch(/\{%/);
  });

  test('no state writes "ResultPath": "$" (the local runner would nest the result under a "$" key)', () => {
    const m = load(file);
    const offenders = allStates(m)
      .filter(([, s]) => (s as { ResultPath?: unknown }).ResultPath === '$')
      .map(([name]) => name);
    expect(offenders).toEqual([]);
  });

  test('every state is reachable from StartAt', () => {
    expect(unreachable(load(file))).toEqual([]);
  });

  test('leaves TimeoutSeconds and Retry to the task contract, and has no Catch that a later one repeats', () => {
    const states = allStates(JSON.parse(raw) as Machine);
    expect(states.filter(([, s]) => 'TimeoutSeconds' in s || 'Retry' in s).map(([name]) => name)).toEqual([]);
    const repeated = states.flatMap(([name, s]) => {
      const rest = (c: { ErrorEquals: string[] }) => JSON.stringify({ ...c, ErrorEquals: undefined });
      const catchers = s.Catch ?? [];
      return catchers
        .filter((c, i) =>
          catchers.slice(i + 1).some((later) => later.ErrorEquals.includes('States.ALL') && rest(later) === rest(c)),
        )
        .map(() => name);
    });
    expect(repeated).toEqual([]);
  });

  test('is one of the deployed state machines, with its one placeholder', () => {
    const m = ALL_MACHINES.find((x) => x.def.file === `statemachines/${file}`);
    expect(m).toBeDefined();
    expect([...new Set([...raw.matchAll(/\$\{([^}]*)\}/g)].map((x) => x[1]))]).toEqual([m!.substitution]);
  });

  test('every Task invokes its function, retries transient errors with full jitter, and is caught (save the redrive point)', () => {
    const def = ALL_MACHINES.find((x) => x.def.file === `statemachines/${file}`)?.def;
    const placeholder = ALL_MACHINES.find((x) => x.def.file === `statemachines/${file}`)?.substitution ?? '';
    const tasks = tasksCaught(load(file));
    expect(tasks.length).toBeGreaterThan(0);
    for (const [name, s, caught] of tasks) {
      expect({ name, Resource: s.Resource }).toEqual({ name, Resource: fakeArn(placeholder) });
      const retry = s.Retry ?? [];
      expect({ name, retries: retry.length > 0 }).toEqual({ name, retries: true });
      for (const r of retry)
        expect({ name, JitterStrategy: r.JitterStrategy }).toEqual({ name, JitterStrategy: 'FULL' });
      const retried = retry.flatMap((r) => r.ErrorEquals);
      expect({ name, retried: TRANSIENT.filter((e) => retried.includes(e)) }).toEqual({ name, retried: TRANSIENT });
      expect({
        name,
        retriesStepFailed: retried.includes('Vesta.StepFailed') || retried.includes('States.ALL'),
      }).toEqual({
        name,
        retriesStepFailed: false,
      });
      for (const r of retry) expect(r.BackoffRate ?? 2).toBeGreaterThan(1);
      expect({ name, caught }).toEqual({ name, caught: name !== def?.redriveFrom });
    }
  });
});

describe('named states', () => {
  test('the generic saga runner', () => {
    const m = load('saga.asl.json');
    expect(m.StartAt).toBe('LoadSaga');
    for (const n of [
      'LoadSaga',
      'ApplyStep',
      'NextStep',
      'Succeeded',
      'CompensateStep',
      'NextCompensation',
      'Compensated',
      'RecordCompensationFailed',
      'CompensationFailed',
    ]) {
      expect(Object.keys(m.States)).toContain(n);
    }
    expect(m.States.CompensationFailed).toMatchObject({ Type: 'Fail', Error: 'Vesta.CompensationFailed' });
    // The first Catch that matches an error decides: a failed step goes to RecordStepFailed.
    const stepFailed = (m.States.ApplyStep.Catch ?? []).find(
      (c) => c.ErrorEquals.includes('Vesta.StepFailed') || c.ErrorEquals.includes('States.ALL'),
    );
    expect(stepFailed?.Next).toBe('RecordStepFailed');
    // A failed compensation stops at AwaitRetry (no Catch); a redrive goes on with the compensation.
    expect(m.States.RecordCompensationFailed.Next).toBe('AwaitRetry');
    // AwaitRetry returns the whole execution state (the steps' names and the cursor): no ResultPath.
    expect(m.States.AwaitRetry).toMatchObject({ Type: 'Task', Next: 'NextCompensation' });
    expect('ResultPath' in m.States.AwaitRetry).toBe(false);
    expect(m.States.AwaitRetry.Catch).toBeUndefined();
    // A compensated saga ends in a Fail state whose cause the saga-step function wrote.
    expect(m.States.RecordCompensated).toMatchObject({ Next: 'Compensated', ResultPath: '$.outcome' });
    expect(m.States.Compensated).toEqual(
      expect.objectContaining({ Type: 'Fail', Error: 'Vesta.SagaCompensated', CausePath: '$.outcome.cause' }),
    );
  });

  test('the transfer saga draws its compensation branch', () => {
    const m = load('transfer.asl.json');
    expect(m.StartAt).toBe('Debit');
    expect(m.States.Debit.Next).toBe('Credit');
    expect((m.States.Credit.Catch ?? []).map((c) => c.Next)).toContain('RefundDebit');
    expect((m.States.RefundDebit.Catch ?? []).map((c) => c.Next)).toContain('RecordCompensationFailed');
    // A failed refund stops at AwaitRetry (no Catch: the execution fails there, a redrive runs it again).
    expect(m.States.RecordCompensationFailed.Next).toBe('AwaitRetry');
    expect(m.States.AwaitRetry).toMatchObject({ Type: 'Task', Next: 'RetryRefund' });
    expect(m.States.AwaitRetry.Catch).toBeUndefined();
    expect((m.States.RetryRefund.Catch ?? []).map((c) => c.Next)).toContain('RecordCompensationFailed');
    expect(m.States.RetryRefund.Next).toBe('RecordCompensated');
    expect(m.States.CompensationFailed).toMatchObject({ Type: 'Fail', Error: 'Vesta.CompensationFailed' });
    expect(m.States.RecordCompensated).toMatchObject({ Next: 'TransferCompensated', ResultPath: '$.outcome' });
    expect(m.States.TransferCompensated).toEqual(
      expect.objectContaining({ Type: 'Fail', Error: 'Vesta.SagaCompensated', CausePath: '$.outcome.cause' }),
    );
    expect(m.States.Transferred.Type).toBe('Succeed');
  });
});
