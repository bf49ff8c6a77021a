/**
 * `vesta saga start|get|watch|retry` in-process against the local stack, whose sagas run on the local
 * Step Functions runner. Failures are kept to ones that are not retried (a failed require).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wireSagaStep } from '../../src/api/wiring';
import { parseSagaBody } from '../../src/core/sagas';
import { cliAgainstLocalStack } from './cli-stack';
import { uniqueNs } from './harness';

const cli = cliAgainstLocalStack();
const { start, vesta, json } = cli;

/** Waits until `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Two accounts in a fresh namespace, written with the record commands. */
async function accounts(a: number, b: number): Promise<string> {
  const ns = uniqueNs('cli-saga');
  await json(['put', ns, 'acct/a', JSON.stringify({ balance: a })]);
  await json(['put', ns, 'acct/b', JSON.stringify({ balance: b })]);
  return ns;
}

/** `vesta saga start --transfer` of 30 from acct/a to acct/b of `ns`, waited for. */
function transfer30(ns: string) {
  return vesta(['saga', 'start', '--transfer', ns, 'acct/a', 'acct/b', 'balance', '30', '--wait', '--interval', '50']);
}

async function balance(ns: string, key: string): Promise<number> {
  return (await json(['get', ns, key])).fields.balance;
}

/**
 * Writes a transfer to the saga log without starting its execution, as a start that never
 * reached Step Functions leaves it: RUNNING, every step PENDING. Posting its id again starts it.
 */
async function unstartedTransfer(ns: string, amount: number): Promise<string> {
  const id = `xfer-${ns}`;
  const def = parseSagaBody({
    id,
    type: 'transfer',
    input: { namespace: ns, from: 'acct/a', to: 'acct/b', field: 'balance', amount },
  });
  const { sagas } = wireSagaStep({ client: cli.stack.client, env: cli.stack.tables });
  await sagas.create(def, cli.stack.workflows.executionArn('transfer', id));
  return id;
}

describe('saga start', () => {
  test('--transfer --wait moves the amount, prints the SUCCEEDED saga and exits 0', async () => {
    const ns = await accounts(100, 5);

    const r = await transfer30(ns);

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      type: 'transfer',
      namespace: ns,
      status: 'SUCCEEDED',
      steps: [
        { name: 'debit', status: 'DONE', error: null },
        { name: 'credit', status: 'DONE', error: null },
      ],
      finishedAt: expect.any(String),
    });
    expect(await balance(ns, 'acct/a')).toBe(70);
    expect(await balance(ns, 'acct/b')).toBe(35);
  });

  test('a transfer of more than the source holds exits 3, COMPENSATED, and moves nothing', async () => {
    const ns = await accounts(10, 0);

    const r = await transfer30(ns);
    const saga = JSON.parse(r.stdout);

    expect(r.code).toBe(3);
    expect(saga.status).toBe('COMPENSATED');
    expect(saga.steps).toMatchObject([
      { name: 'debit', status: 'FAILED', error: { error: 'Vesta.StepFailed' } },
      { name: 'credit', status: 'SKIPPED' },
    ]);
    expect(await balance(ns, 'acct/a')).toBe(10);
    expect(await balance(ns, 'acct/b')).toBe(0);
  });

  test('without --wait prints the 202 answer; the same --id again prints the saga as it stands', async () => {
    const ns = await accounts(100, 0);
    const id = `order-${ns}`;
    const argv = ['saga', 'start', '--transfer', ns, 'acct/a', 'acct/b', 'balance', '1', '--id', id];

    const started = await json(argv);
    await cli.stack.workflows.settled();
    const again = await json(argv);
    const got = await json(['saga', 'get', id]);

    expect(started).toEqual({ id, status: 'RUNNING', executionArn: expect.stringContaining(id) });
    expect(again).toMatchObject({ id, status: 'SUCCEEDED' });
    expect(got).toEqual(again);
    expect(await balance(ns, 'acct/a')).toBe(99);
  });

  test('--file reads a saga of steps', async () => {
    const ns = await accounts(1, 1);
    const body = JSON.stringify({
      namespace: ns,
      steps: [{ name: 'bump', action: { op: 'patch', key: 'acct/a', increment: { balance: 1 } } }],
    });

    const r = await start(['saga', 'start', '--file', '-', '--wait', '--interval', '50'], { stdin: body }).done;

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      type: 'steps',
      status: 'SUCCEEDED',
      steps: [{ name: 'bump', status: 'DONE' }],
    });
    expect(await balance(ns, 'acct/a')).toBe(2);
  });

  test('the sample saga of the README (examples/bodies/saga.json) runs as written', async () => {
    const ns = uniqueNs('cli-saga');
    await json(['put', ns, 'stock/A1', '{"qty":5}']);
    const sample = JSON.parse(readFileSync(join(__dirname, '..', '..', 'examples', 'bodies', 'saga.json'), 'utf8'));

    const r = await start(['saga', 'start', '--file', '-', '--wait', '--interval', '50'], {
      stdin: JSON.stringify({ ...sample, namespace: ns }),
    }).done;

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: 'SUCCEEDED',
      steps: [{ name: 'reserve' }, { name: 'order' }],
    });
    expect((await json(['get', ns, 'stock/A1'])).fields).toEqual({ qty: 4 });
    expect((await json(['get', ns, 'order/42'])).fields).toMatchObject({ sku: 'A1', status: 'placed' });
  });

  test('a saga the API rejects exits 1 with its detail', async () => {
    const ns = await accounts(1, 1);

    const r = await vesta(['saga', 'start', '--transfer', ns, 'acct/a', 'acct/a', 'balance', '1']);

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: ValidationError \(400\): .*must differ from body\.input\.from/);
    expect(r.stderr).toContain('hint: the saga was rejected as malformed');
  });
});

describe('saga watch', () => {
  test('prints each step change as the saga runs, then how it ended, and exits 0', async () => {
    const ns = await accounts(100, 0);
    const id = await unstartedTransfer(ns, 40);
    const watch = start(['saga', 'watch', id, '--interval', '50']);
    await until(() => watch.stdout().includes(': RUNNING\n'));

    await json(['saga', 'start', '--transfer', ns, 'acct/a', 'acct/b', 'balance', '40', '--id', id]);
    const r = await watch.done;
    const lines = r.stdout.trimEnd().split('\n');

    expect(r.code).toBe(0);
    expect(lines[0]).toBe(`saga ${id} (transfer, namespace ${ns}, 2 steps): RUNNING`);
    expect(lines).toContain('step 0 debit: PENDING -> DONE');
    expect(lines).toContain('step 1 credit: PENDING -> DONE');
    expect(lines.at(-2)).toBe(`saga ${id}: RUNNING -> SUCCEEDED`);
    expect(lines.at(-1)).toMatch(new RegExp(`^saga ${id} ended SUCCEEDED at \\d{4}-`));
    expect(await balance(ns, 'acct/b')).toBe(40);
  });

  test('a compensated saga shows the failed step with its cause and exits 3', async () => {
    const ns = await accounts(10, 0);
    const id = await unstartedTransfer(ns, 30);
    const watch = start(['saga', 'watch', id, '--interval', '50']);
    await until(() => watch.stdout().includes(': RUNNING\n'));

    await json(['saga', 'start', '--transfer', ns, 'acct/a', 'acct/b', 'balance', '30', '--id', id]);
    const r = await watch.done;

    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/step 0 debit: PENDING -> FAILED \(Vesta\.StepFailed: .*require/);
    expect(r.stdout).toContain('step 1 credit: PENDING -> SKIPPED');
    expect(r.stdout).toMatch(new RegExp(`saga ${id} ended COMPENSATED at \\S+\\n$`));
  });

  test('a saga that already ended prints its steps as they stand and ends at once', async () => {
    const ns = await accounts(100, 0);
    const { id } = await json(['saga', 'start', '--transfer', ns, 'acct/a', 'acct/b', 'balance', '1']);
    await cli.stack.workflows.settled();

    const r = await vesta(['saga', 'watch', id]);

    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(1)).toEqual([
      'step 0 debit: DONE',
      'step 1 credit: DONE',
      expect.stringMatching(`^saga ${id} ended SUCCEEDED at `),
      '',
    ]);
  });

  test('Ctrl-C stops it with exit 130 and leaves the saga running', async () => {
    const ns = await accounts(100, 0);
    const id = await unstartedTransfer(ns, 1);
    const ctrlC = new AbortController();
    const watch = start(['saga', 'watch', id, '--interval', '50'], { interrupt: () => ctrlC.signal });
    await until(() => watch.stdout().includes(': RUNNING\n'));

    ctrlC.abort();
    const r = await watch.done;

    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(
      new RegExp(`^stopped at .+; saga ${id} is still RUNNING: \`vesta saga watch ${id}\` follows it again\\n$`),
    );
    expect((await json(['saga', 'get', id])).status).toBe('RUNNING');
  });
});

describe('saga get', () => {
  test('an unknown id exits 1 saying the saga does not exist', async () => {
    const r = await vesta(['saga', 'get', 'no-such-saga']);

    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: NotFound \(404\): /);
    expect(r.stderr).toContain('hint: that saga does not exist');
  });

  test('watching an unknown id fails the same way', async () => {
    const r = await vesta(['saga', 'watch', 'no-such-saga']);

    expect(r.code).toBe(1);
    expect(r.stderr).toContain('hint: that saga does not exist');
  });
});

describe('saga retry', () => {
  test('a COMPENSATION_FAILED saga, its cause fixed: --wait prints it COMPENSATED and exits 3; again exits 1 (409)', async () => {
    const ns = await accounts(100, 0);
    const body = JSON.stringify({
      namespace: ns,
      steps: [
        {
          name: 'debit',
          action: { op: 'patch', key: 'acct/a', increment: { balance: -30 } },
          compensation: {
            op: 'patch',
            key: 'acct/a',
            increment: { balance: 30 },
            require: [{ field: 'open', op: '==', value: true }],
          },
        },
        {
          name: 'check',
          action: { op: 'patch', key: 'acct/b', set: { x: 1 }, require: [{ field: 'x', op: 'exists' }] },
        },
      ],
    });
    const failed = await start(['saga', 'start', '--file', '-', '--wait', '--interval', '50'], { stdin: body }).done;
    expect(failed.code).toBe(4);
    const id = JSON.parse(failed.stdout).id;
    expect(await balance(ns, 'acct/a')).toBe(70);

    await json(['patch', ns, 'acct/a', '--set', 'open=true']);
    const r = await vesta(['saga', 'retry', id, '--wait', '--interval', '50']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({
      id,
      status: 'COMPENSATED',
      steps: [
        { name: 'debit', status: 'COMPENSATED' },
        { name: 'check', status: 'FAILED' },
      ],
    });
    expect(await balance(ns, 'acct/a')).toBe(100);

    const again = await vesta(['saga', 'retry', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /^error: Conflict \(409\): saga \S+ is COMPENSATED; only a COMPENSATION_FAILED saga can be retried/,
    );
  });
});
