import { ApiError, NetworkError } from '../../src/client';
import { LeaseLostError } from '../../src/cli/errors';
import { type LeaseView, MIN_KEEPALIVE_TIMEOUT_MS, type WatchClock, watchLease } from '../../src/cli/keepalive';

const T0 = Date.parse('2026-11-22T10:00:00.000Z');
const TTL = 30;
const INTERVAL = 10_000;

/** A clock whose sleeps take no time: each one moves it forward, unless the signal has aborted. */
class FakeClock implements WatchClock {
  public t = T0;
  public readonly sleeps: number[] = [];

  public now(): number {
    return this.t;
  }

  public async sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    this.sleeps.push(ms);
    this.t += ms;
    return true;
  }
}

function leaseAt(clock: FakeClock): LeaseView {
  return { id: 'L1', ttlSeconds: TTL, expiresAt: new Date(clock.now() + TTL * 1000).toISOString() };
}

const unreachable = () => new NetworkError('http://127.0.0.1:8080', 'ECONNREFUSED');

interface Setup {
  readonly clock: FakeClock;
  readonly stop: AbortController;
  readonly lines: string[];
  readonly timeouts: number[];
  readonly watch: Promise<LeaseView>;
}

/** Watches lease L1 granted at T0; `answer(n)` scripts the n-th keepalive (1-based). */
function setup(answer: (n: number, clock: FakeClock, stop: AbortController) => Promise<LeaseView>): Setup {
  const clock = new FakeClock();
  const stop = new AbortController();
  const lines: string[] = [];
  const timeouts: number[] = [];
  let n = 0;
  const watch = watchLease({
    lease: leaseAt(clock),
    sentAt: T0,
    intervalMs: INTERVAL,
    clock,
    signal: stop.signal,
    log: (line) => lines.push(line),
    renew: (timeoutMs) => {
      timeouts.push(timeoutMs);
      n += 1;
      return answer(n, clock, stop);
    },
  });
  return { clock, stop, lines, timeouts, watch };
}

test('renews every interval, logs one line per renewal, and stops when the signal aborts', async () => {
  const s = setup(async (n, clock, stop) => {
    if (n === 3) stop.abort();
    return leaseAt(clock);
  });

  const last = await s.watch;

  expect(s.clock.sleeps).toEqual([INTERVAL, INTERVAL, INTERVAL]);
  expect(s.lines).toHaveLength(3);
  expect(s.lines[0]).toBe(`renewed lease L1 at 2026-11-22T10:00:10.000Z; it expires at 2026-11-22T10:00:40.000Z`);
  expect(last.expiresAt).toBe('2026-11-22T10:01:00.000Z');
});

test('a keepalive answering 404 reports the lease LOST at that time', async () => {
  const s = setup(async (n, clock) => {
    if (n === 2) throw new ApiError({ status: 404, code: 'NotFound' });
    return leaseAt(clock);
  });

  await expect(s.watch).rejects.toThrow(LeaseLostError);
  await expect(s.watch).rejects.toThrow(
    'LOST lease L1 at 2026-11-22T10:00:20.000Z: the keepalive answered 404 NotFound',
  );
});

test('failures shorter than the remaining TTL are retried and the lease is kept', async () => {
  const s = setup(async (n, clock, stop) => {
    if (n === 1 || n === 2) throw unreachable();
    if (n === 4) stop.abort();
    return leaseAt(clock);
  });

  const last = await s.watch;

  expect(s.lines.filter((l) => l.startsWith('keepalive of lease L1 failed'))).toHaveLength(2);
  expect(s.lines.filter((l) => l.startsWith('renewed lease L1'))).toHaveLength(2);
  expect(last.id).toBe('L1');
});

test('being unreachable for longer than the remaining TTL reports the lease LOST', async () => {
  const s = setup(async () => {
    throw unreachable();
  });

  const lost = await s.watch.catch((e) => e);

  expect(lost).toBeInstanceOf(LeaseLostError);
  expect(lost.message).toMatch(
    /^LOST lease L1 at 2026-11-22T10:00:30\.000Z: no keepalive got through since 2026-11-22T10:00:10\.000Z/,
  );
  expect(lost.message).toContain('ECONNREFUSED');
  expect(s.clock.now()).toBe(T0 + TTL * 1000);
});

test('retries come no later than the deadline, and each keepalive may take only the time left', async () => {
  const s = setup(async () => {
    throw unreachable();
  });

  await s.watch.catch(() => undefined);

  expect(s.clock.sleeps).toEqual([INTERVAL, INTERVAL, INTERVAL]);
  expect(s.timeouts).toEqual([20_000, 10_000, MIN_KEEPALIVE_TIMEOUT_MS]);
});

test('throttling and 5xx answers are retried like an unreachable service', async () => {
  const s = setup(async (n, clock, stop) => {
    if (n === 1) throw new ApiError({ status: 503, code: 'Unavailable' });
    if (n === 2) throw new ApiError({ status: 429, code: 'Throttled' });
    stop.abort();
    return leaseAt(clock);
  });

  await expect(s.watch).resolves.toMatchObject({ id: 'L1' });
  expect(s.lines.filter((l) => l.includes('failed'))).toHaveLength(2);
});

test('any other error answer ends the watch with that error', async () => {
  const s = setup(async () => {
    throw new ApiError({ status: 400, code: 'ValidationError' });
  });

  await expect(s.watch).rejects.toMatchObject({ name: 'ApiError', problem: { code: 'ValidationError' } });
});

test('aborting during a keepalive stops the watch instead of reporting a failure', async () => {
  const s = setup(async (_n, _clock, stop) => {
    stop.abort();
    throw new NetworkError('http://127.0.0.1:8080', 'This operation was aborted');
  });

  const last = await s.watch;

  expect(last.expiresAt).toBe('2026-11-22T10:00:30.000Z');
  expect(s.lines).toEqual([]);
});
