/**
 * The local stack never leaves a java process behind: not on stop(), and not when the Node
 * process that started DynamoDB Local is killed outright (SIGKILL runs no exit handler).
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';

jest.setTimeout(60000);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return cond();
}

test('DynamoDB Local stops when the process that started it is SIGKILLed', async () => {
  const script = `
    const { startDynamoDbLocal } = require(${JSON.stringify(join(__dirname, '..', '..', 'src', 'local', 'dynamodb-local.ts'))});
    startDynamoDbLocal().then((d) => { console.log('PID ' + d.pid); setInterval(() => {}, 1000); });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env },
  });
  const javaPid = await new Promise<number>((ok, fail) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PID (\d+)/.exec(out);
      if (m) ok(Number(m[1]));
    });
    child.once('exit', (code) => fail(new Error(`child exited early with ${code}`)));
  });
  // `pid` is the watchdog's; the java process is its child.
  const java = Number(
    execFileSync('ps', ['-o', 'pid=', '--ppid', String(javaPid)])
      .toString()
      .trim()
      .split(/\s+/)[0],
  );
  expect(alive(javaPid) && alive(java)).toBe(true);
  child.kill('SIGKILL');
  expect(await waitFor(() => !alive(java) && !alive(javaPid), 10000)).toBe(true);
});
