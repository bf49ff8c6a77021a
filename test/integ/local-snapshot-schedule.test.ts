/**
 * The local stack runs the snapshot schedule the CDK stack defines, with the schedule function's
 * own handler, on a timer (here a short one, injected); `VESTA_SNAPSHOT_SCHEDULE=off` turns it
 * off, and a malformed value stops the start naming the variable.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalLog, localLog } from '../../src/local/log';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../src/local/stack';
import { endpoint } from './harness';

jest.setTimeout(60_000);

const prefix = `vesta-sched-${randomUUID().slice(0, 8)}`;
let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'vesta-sched-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function withStack(
  opts: Partial<LocalStackOptions>,
  run: (stack: LocalStack, lines: string[]) => Promise<void>,
): Promise<void> {
  const lines: string[] = [];
  const log: LocalLog = localLog('INFO', { out: (l) => lines.push(l), err: (l) => lines.push(l) });
  const stack = await startLocalStack({
    port: 0,
    dynamoEndpoint: endpoint(),
    tablePrefix: prefix,
    dataDir,
    leaseJobsSeconds: 0,
    resumeSagas: false,
    changeFeed: false,
    log,
    ...opts,
  });
  try {
    await run(stack, lines);
  } finally {
    await stack.stop();
  }
}

/** The whole-store snapshots the stack lists. */
async function wholeStore(stack: LocalStack): Promise<{ id: string; status: string }[]> {
  const r = await fetch(`${stack.url}/v1/snapshots`);
  expect(r.status).toBe(200);
  const body = (await r.json()) as { items: { id: string; status: string; namespace: string | null }[] };
  return body.items.filter((s) => s.namespace === null);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('VESTA_SNAPSHOT_SCHEDULE=off: no scheduled snapshot, however short the interval', async () => {
  const before = process.env.VESTA_SNAPSHOT_SCHEDULE;
  process.env.VESTA_SNAPSHOT_SCHEDULE = 'off';
  try {
    await withStack({ snapshotIntervalMs: 100 }, async (stack) => {
      await sleep(1000);
      expect(await wholeStore(stack)).toEqual([]);
    });
  } finally {
    if (before === undefined) delete process.env.VESTA_SNAPSHOT_SCHEDULE;
    else process.env.VESTA_SNAPSHOT_SCHEDULE = before;
  }
});

test('on by default: the schedule takes whole-store snapshots that complete, and says so', async () => {
  await withStack({ snapshotIntervalMs: 300 }, async (stack, lines) => {
    let done: { id: string; status: string }[] = [];
    for (const end = Date.now() + 20_000; Date.now() < end && done.length === 0; await sleep(100))
      done = (await wholeStore(stack)).filter((s) => s.status === 'COMPLETE');
    expect(done.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('scheduled snapshot started') && l.includes(done[0].id))).toBe(true);
  });
});

test('a malformed schedule fails the start, naming the variable', async () => {
  await expect(withStack({ snapshotSchedule: 'cron(0 3 * * ? *)' }, async () => {})).rejects.toThrow(
    /VESTA_SNAPSHOT_SCHEDULE must be off or rate/,
  );
});
