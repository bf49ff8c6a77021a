/**
 * The local stand-in for EventBridge schedules: the snapshot schedule's interval from
 * `VESTA_SNAPSHOT_SCHEDULE` (the CDK stack's default when unset, `off`, a rate), and timers that
 * keep to an interval longer than one Node.js timer can wait.
 */
import { DEFAULT_SNAPSHOT_SCHEDULE, scheduleIntervalSeconds } from '../../src/core/schedule';
import { every, localSnapshotInterval } from '../../src/local/schedules';

describe('localSnapshotInterval', () => {
  test('unset or empty: the interval of the schedule the CDK stack uses by default', () => {
    expect(DEFAULT_SNAPSHOT_SCHEDULE).toBe('rate(1 day)');
    expect(localSnapshotInterval(undefined)).toBe(scheduleIntervalSeconds(DEFAULT_SNAPSHOT_SCHEDULE)! * 1000);
    expect(localSnapshotInterval('')).toBe(86_400_000);
  });

  test('off (any case) turns it off; a rate sets the interval', () => {
    expect(localSnapshotInterval('off')).toBeUndefined();
    expect(localSnapshotInterval('OFF')).toBeUndefined();
    expect(localSnapshotInterval('rate(6 hours)')).toBe(6 * 3_600_000);
    expect(localSnapshotInterval('rate(1 minute)')).toBe(60_000);
  });

  test('a cron expression or anything else is refused, naming the variable and echoing the value', () => {
    expect(() => localSnapshotInterval('cron(0 3 * * ? *)')).toThrow(
      /VESTA_SNAPSHOT_SCHEDULE must be off or rate\(.*Received: "cron\(0 3 \* \* \? \*\)"/,
    );
    expect(() => localSnapshotInterval('daily')).toThrow(/Received: "daily"/);
  });
});

describe('every', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('runs its jobs every interval until stopped', async () => {
    const runs: number[] = [];
    const stop = every(1000, [async () => void runs.push(Date.now())]);
    await jest.advanceTimersByTimeAsync(999);
    expect(runs).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(2000);
    expect(runs).toHaveLength(3);
    stop();
    await jest.advanceTimersByTimeAsync(5000);
    expect(runs).toHaveLength(3);
  });

  test('an interval longer than one timer can wait (30 days) runs once per interval, not at once', async () => {
    const day = 86_400_000;
    let runs = 0;
    const stop = every(30 * day, [
      async () => {
        runs++;
      },
    ]);
    await jest.advanceTimersByTimeAsync(29 * day);
    expect(runs).toBe(0);
    await jest.advanceTimersByTimeAsync(day);
    expect(runs).toBe(1);
    await jest.advanceTimersByTimeAsync(30 * day);
    expect(runs).toBe(2);
    stop();
    await jest.advanceTimersByTimeAsync(60 * day);
    expect(runs).toBe(2);
  });

  test('stopping waits for a run under way to end', async () => {
    let release = () => {};
    let ended = false;
    const stop = every(1000, [
      () =>
        new Promise<void>((r) => {
          release = () => {
            ended = true;
            r();
          };
        }),
    ]);
    await jest.advanceTimersByTimeAsync(1000);
    let stopped = false;
    const stopping = stop().then(() => {
      stopped = true;
    });
    await jest.advanceTimersByTimeAsync(10);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(ended && stopped).toBe(true);
  });
});
