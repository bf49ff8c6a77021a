/**
 * The programs in examples/ run against a real local stack (tables of its own, so the change feed
 * runs) and pass their own checks: each exits 0 and prints the outcome it verified. They also
 * type-check, since the root tsconfig does not include examples/.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type LocalStack, startLocalStack } from '../../src/local/stack';
import { endpoint } from './harness';

const exec = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'node_modules', '.bin');

let stack: LocalStack;
let dataDir: string;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'vesta-examples-'));
  stack = await startLocalStack({
    port: 0,
    dataDir,
    dynamoEndpoint: endpoint(),
    tablePrefix: `vesta-ex-${randomUUID().slice(0, 8)}`,
    resumeSagas: false,
    leaseJobsSeconds: 1,
  });
}, 60_000);
afterAll(async () => {
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs `examples/<name>.ts` against the stack; its exit code and everything it printed. */
async function runExample(name: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec(join(BIN, 'tsx'), [join('examples', `${name}.ts`)], {
      cwd: ROOT,
      env: { ...process.env, VESTA_URL: stack.url },
      timeout: 40_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const failed = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : -1,
      out: `${failed.stdout ?? ''}${failed.stderr ?? ''}`,
    };
  }
}

test('the examples type-check', async () => {
  const run = await exec(join(BIN, 'tsc'), ['--noEmit', '-p', join('examples', 'tsconfig.json')], { cwd: ROOT }).catch(
    (e: { stdout?: string }) => ({ stdout: e.stdout ?? 'tsc failed' }),
  );
  expect(run.stdout).toBe('');
}, 120_000); // tsc over the examples: seconds alone, much longer on a busy machine

test('inventory-reservation: one order is reserved, the other is compensated and the stock restored', async () => {
  const { code, out } = await runExample('inventory-reservation');
  expect(out).toContain('ok   order-1 SUCCEEDED');
  expect(out).toContain('ok   order-2 COMPENSATED');
  expect(out).toContain('ok   stock after order-2 is what it was before it');
  expect(out).not.toMatch(/^FAIL /m);
  expect(out).toContain('inventory-reservation: all checks passed');
  expect(code).toBe(0);
}, 45_000);

test('leader-election: the stale leader is fenced off and the new leader wrote the final record', async () => {
  const { code, out } = await runExample('leader-election');
  expect(out).toMatch(/write refused, steps down: Conflict FencingTokenStale/);
  expect(out).toContain("ok   the new leader's token is larger");
  expect(out).toMatch(/ok {3}the final record was written by worker-[ab]/);
  expect(out).not.toMatch(/^FAIL /m);
  expect(out).toContain('leader-election: all checks passed');
  expect(code).toBe(0);
}, 45_000);

test('shopping-cart: concurrent carts become siblings, merge without loss, and the watch sees each change', async () => {
  const { code, out } = await runExample('shopping-cart');
  expect(out).toContain('GET cart/alice: 300, 2 siblings');
  expect(out).toMatch(/watch: rev 2 put \(2 siblings\)/);
  expect(out).toContain('ok   the merged cart has every item, each at its largest quantity');
  expect(out).toContain('watch saw 3 changes');
  expect(out).not.toMatch(/^FAIL /m);
  expect(out).toContain('shopping-cart: all checks passed');
  expect(code).toBe(0);
}, 45_000);
