/**
 * `npm start` as a user runs it (the real npm, tsx and DynamoDB Local): every listener on loopback
 * only, SIGTERM, SIGINT or SIGKILL to the npm process stops every child within 5 s and frees the
 * port, and a start on a busy port says so in one line and exits non-zero at once.
 */
import { createServer } from 'node:net';
import { LOOPBACK, alive, commandOf, descendants, listeners, npmStart, ready, within } from './npm-start';

jest.setTimeout(120000);

describe.each(['SIGTERM', 'SIGINT', 'SIGKILL'] as const)('%s to the npm process', (signal) => {
  test('stops every child within 5 s, frees the port, listens on loopback only while up', async () => {
    const s = await npmStart();
    const ddbPort = await ready(s);
    const tree = descendants(s.npm.pid!);
    expect(tree.some((p) => commandOf(p).includes('VestaDynamoDbLocal'))).toBe(true);
    // Both listeners of the stack, its API and its DynamoDB Local, are bound to loopback alone.
    for (const port of [s.port, ddbPort]) {
      const addresses = listeners(port);
      expect(addresses.length).toBeGreaterThan(0);
      expect(addresses.filter((a) => !LOOPBACK.has(a))).toEqual([]);
    }
    const h = await fetch(`http://127.0.0.1:${s.port}/v1/health`);
    expect(h.status).toBe(200);

    s.npm.kill(signal);
    const took = await within(
      5000,
      () => tree.every((p) => !alive(p)) && listeners(s.port).length === 0 && listeners(ddbPort).length === 0,
    );
    const left = tree.filter(alive).map((p) => `${p} ${commandOf(p)}`);
    expect({ took: took !== undefined, left }).toEqual({ took: true, left: [] });
    console.log(`${signal} to npm: every child gone and both ports free in ${took} ms`);
  });
});

test('a start on a busy port says so in one line and exits non-zero at once', async () => {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
  const { port } = holder.address() as { port: number };
  try {
    const t0 = Date.now();
    const s = await npmStart({ port });
    const code = await s.exited;
    const took = Date.now() - t0;
    expect(code).not.toBe(0);
    const lines = s
      .output()
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(lines).toEqual([
      `Vesta local stack: port ${port} is already in use; stop what holds it or start with PORT=<another port>`,
    ]);
    // DynamoDB Local never started: the port is taken before anything else. The time is npm's and
    // tsx's start-up; 15 s only bounds a loaded machine (it is about 1 s when idle).
    expect(took).toBeLessThan(15000);
    console.log(`busy port: one line, exit ${code}, in ${took} ms`);
  } finally {
    holder.close();
  }
});
