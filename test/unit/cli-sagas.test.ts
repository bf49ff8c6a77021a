import { ApiError, ConflictError, SagaIdReusedError, apiError } from '../../src/client';
import { UsageError } from '../../src/cli/errors';
import { describeError } from '../../src/cli/hints';
import * as sagaArgs from '../../src/cli/saga-args';
import type { SagaView } from '../../src/cli/saga-args';
import { runCli } from '../cli-harness';

function saga(
  status: SagaView['status'],
  steps: [string, SagaView['steps'][number]['status']][],
  extra: Partial<SagaView> = {},
): SagaView {
  return {
    id: 'order-1',
    type: 'transfer',
    namespace: 'bank',
    status,
    executionArn: 'arn:aws:states:us-east-1:123456789012:execution:transfer:order-1',
    steps: steps.map(([name, s]) => ({ name, status: s, error: null, attempts: s === 'PENDING' ? 0 : 1 })),
    startedAt: '2024-05-01T10:00:00.000Z',
    finishedAt: status === 'RUNNING' ? null : '2024-05-01T10:00:01.000Z',
    ...extra,
  };
}

const failed = (view: SagaView, index: number, cause: string): SagaView => ({
  ...view,
  steps: view.steps.map((s, i) => (i === index ? { ...s, error: { error: 'Vesta.StepFailed', cause } } : s)),
});

describe('saga start: where the saga comes from', () => {
  test('--file names a file, or - for standard input', () => {
    expect(sagaArgs.parseStartSource([], { file: 'saga.json' })).toEqual({ kind: 'file', path: 'saga.json' });
    expect(sagaArgs.parseStartSource([], { file: '-' })).toEqual({ kind: 'file', path: '-' });
  });

  test('--transfer takes the five words that follow', () => {
    expect(sagaArgs.parseStartSource(['bank', 'acct/a', 'acct/b', 'balance', '30'], { transfer: true })).toEqual({
      kind: 'transfer',
      args: ['bank', 'acct/a', 'acct/b', 'balance', '30'],
    });
  });

  test.each([
    [[], {}, /needs --file/],
    [[], { file: 'a.json', transfer: true }, /either --file or --transfer/],
    [
      ['bank', 'a', 'b', 'balance'],
      { transfer: true },
      /--transfer expects <ns> <from> <to> <field> <amount>; received 4/,
    ],
    [['bank', 'a', 'b', 'balance', '1', 'extra'], { transfer: true }, /received 6/],
    [['extra'], { file: 'a.json' }, /takes no other arguments/],
    [[], { file: '' }, /--file expects a path/],
  ])('%j with %j is a usage error of saga start', (positionals, values, message) => {
    expect(() => sagaArgs.parseStartSource(positionals, values)).toThrow(message);
    expect(() => sagaArgs.parseStartSource(positionals, values)).toThrow(
      expect.objectContaining({ command: 'saga start' }),
    );
  });
});

describe('the transfer body', () => {
  test('is the built-in transfer with a numeric amount', () => {
    expect(sagaArgs.transferBody(['bank', 'acct/a', 'acct/b', 'balance', '30'])).toEqual({
      type: 'transfer',
      input: { namespace: 'bank', from: 'acct/a', to: 'acct/b', field: 'balance', amount: 30 },
    });
    expect(sagaArgs.transferBody(['bank', 'a', 'b', 'eur', '12.50'])).toMatchObject({ input: { amount: 12.5 } });
  });

  test.each(['0', '0.0', '-5', 'ten', '', '1e3', '1,5', ' 3'])('rejects the amount %j as a usage error', (amount) => {
    expect(() => sagaArgs.transferBody(['bank', 'a', 'b', 'balance', amount])).toThrow(UsageError);
  });

  test('--id sets the id, replacing one of the body', () => {
    expect(sagaArgs.withSagaId({ type: 'transfer' }, 'order-7')).toEqual({ type: 'transfer', id: 'order-7' });
    expect(sagaArgs.withSagaId({ id: 'from-file', namespace: 'n' }, 'order-7')).toEqual({
      id: 'order-7',
      namespace: 'n',
    });
    expect(sagaArgs.withSagaId({ id: 'from-file' }, undefined)).toEqual({ id: 'from-file' });
    expect(() => sagaArgs.withSagaId({}, '')).toThrow(UsageError);
  });
});

describe('--interval <ms>', () => {
  test('defaults to 500 ms', () => {
    expect(sagaArgs.parsePollInterval(undefined)).toBe(sagaArgs.DEFAULT_POLL_INTERVAL_MS);
    expect(sagaArgs.DEFAULT_POLL_INTERVAL_MS).toBe(500);
    expect(sagaArgs.parsePollInterval('50')).toBe(50);
  });

  test.each(['0', '-1', '1.5', 'fast', '', '99999999999999999999'])('rejects %j as a usage error', (text) => {
    expect(() => sagaArgs.parsePollInterval(text)).toThrow(UsageError);
  });
});

describe('exit codes of a saga that ended', () => {
  test('0 SUCCEEDED, 3 COMPENSATED, 4 COMPENSATION_FAILED', () => {
    expect(sagaArgs.sagaExitCode('SUCCEEDED')).toBe(0);
    expect(sagaArgs.sagaExitCode('COMPENSATED')).toBe(3);
    expect(sagaArgs.sagaExitCode('COMPENSATION_FAILED')).toBe(4);
  });
});

describe('saga watch lines', () => {
  test('the first poll prints the saga as it stands and each step that is no longer PENDING', () => {
    const seen = failed(
      saga('RUNNING', [
        ['debit', 'DONE'],
        ['credit', 'FAILED'],
      ]),
      1,
      'TypeMismatch',
    );
    expect(sagaArgs.sagaChanges(undefined, seen)).toEqual([
      'saga order-1 (transfer, namespace bank, 2 steps): RUNNING',
      'step 0 debit: DONE',
      'step 1 credit: FAILED (Vesta.StepFailed: TypeMismatch)',
    ]);
  });

  test('one line per step whose status changed, in step order, then the saga', () => {
    const before = saga('RUNNING', [
      ['debit', 'DONE'],
      ['credit', 'PENDING'],
      ['notify', 'PENDING'],
    ]);
    const after = saga('SUCCEEDED', [
      ['debit', 'DONE'],
      ['credit', 'DONE'],
      ['notify', 'DONE'],
    ]);
    expect(sagaArgs.sagaChanges(before, after)).toEqual([
      'step 1 credit: PENDING -> DONE',
      'step 2 notify: PENDING -> DONE',
      'saga order-1: RUNNING -> SUCCEEDED',
    ]);
  });

  test('nothing changed, nothing printed', () => {
    const view = saga('RUNNING', [
      ['debit', 'DONE'],
      ['credit', 'PENDING'],
    ]);
    expect(
      sagaArgs.sagaChanges(view, { ...view, steps: view.steps.map((s) => ({ ...s, attempts: s.attempts + 1 })) }),
    ).toEqual([]);
  });

  test('a failure carries its error and cause; compensations and skips are plain', () => {
    const before = saga('RUNNING', [
      ['reserve', 'DONE'],
      ['charge', 'PENDING'],
      ['ship', 'PENDING'],
    ]);
    const after = failed(
      saga('COMPENSATED', [
        ['reserve', 'COMPENSATED'],
        ['charge', 'FAILED'],
        ['ship', 'SKIPPED'],
      ]),
      1,
      'require[0] balance >= 30 did not hold',
    );
    expect(sagaArgs.sagaChanges(before, after)).toEqual([
      'step 0 reserve: DONE -> COMPENSATED',
      'step 1 charge: PENDING -> FAILED (Vesta.StepFailed: require[0] balance >= 30 did not hold)',
      'step 2 ship: PENDING -> SKIPPED',
      'saga order-1: RUNNING -> COMPENSATED',
    ]);
  });

  test('a compensation that failed carries its cause', () => {
    const before = saga('RUNNING', [
      ['debit', 'DONE'],
      ['credit', 'FAILED'],
    ]);
    const after = failed(
      saga('COMPENSATION_FAILED', [
        ['debit', 'COMPENSATION_FAILED'],
        ['credit', 'FAILED'],
      ]),
      0,
      'Throttled',
    );
    expect(sagaArgs.sagaChanges(before, after)).toEqual([
      'step 0 debit: DONE -> COMPENSATION_FAILED (Vesta.StepFailed: Throttled)',
      'saga order-1: RUNNING -> COMPENSATION_FAILED',
    ]);
  });

  test('the final line says how and when the saga ended', () => {
    expect(sagaArgs.finalLine(saga('COMPENSATED', [['debit', 'FAILED']]))).toBe(
      'saga order-1 ended COMPENSATED at 2024-05-01T10:00:01.000Z',
    );
  });
});

describe('saga errors and usage', () => {
  test('a 404 says the saga does not exist', () => {
    const text = describeError(new ApiError({ status: 404, code: 'NotFound', detail: 'no saga x' }), 'saga get');
    expect(text).toBe(
      'error: NotFound (404): no saga x\nhint: that saga does not exist; check the id against the one `vesta saga start` printed\n',
    );
  });

  test('a reused saga id is a typed SagaIdReusedError, and the CLI says nothing started', () => {
    const detail = 'saga "order-1" already exists with another definition; nothing was started';
    const e = apiError({ status: 409, code: 'Conflict', reason: 'SagaIdReused', detail });
    expect(e).toBeInstanceOf(SagaIdReusedError);
    expect(e).toBeInstanceOf(ConflictError);
    expect((e as ConflictError).reason).toBe('SagaIdReused');
    expect(describeError(e, 'saga start')).toBe(
      `error: Conflict (409): ${detail}\nhint: a saga with this id already exists with another definition and nothing was started; start yours under another id, or see that one with \`vesta saga get <id>\`\n`,
    );
    const bare = new ApiError({ status: 409, code: 'Conflict', reason: 'SagaIdReused', detail });
    expect(describeError(bare, 'saga start')).toContain('hint: a saga with this id already exists');
  });

  test('a 400 shows its detail', () => {
    const text = describeError(
      new ApiError({ status: 400, code: 'ValidationError', detail: 'body.input.amount: must be positive' }),
      'saga start',
    );
    expect(text).toContain('error: ValidationError (400): body.input.amount: must be positive\n');
    expect(text).toContain('hint: the saga was rejected as malformed');
  });

  test('--help of saga start and saga watch documents the outcome exit codes', async () => {
    for (const name of ['start', 'watch']) {
      const r = await runCli(['saga', name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('0 the saga SUCCEEDED; 3 it was COMPENSATED; 4 COMPENSATION_FAILED');
      expect(r.stdout).toContain('130 Ctrl-C');
    }
  });

  test('a malformed saga start exits 2 before sending anything', async () => {
    const r = await runCli(['saga', 'start', '--transfer', 'bank', 'a', 'b', 'balance', 'lots'], {
      url: 'http://127.0.0.1:1',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--transfer <amount> expects a positive number');
    expect(r.stderr).toContain('hint: see `vesta saga start --help`');
  });
});
