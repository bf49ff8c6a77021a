/**
 * Local stand-in for EventBridge schedules: runs jobs one after another every `ms`, never two
 * runs at once, logging failures instead of crashing the stack. Returns a stop function, whose
 * promise settles when a run under way has ended (so its clients may then be closed). An
 * interval longer than a Node.js timer can wait (about 24.8 days) is waited out in steps.
 */
import { DEFAULT_SNAPSHOT_SCHEDULE, scheduleIntervalSeconds } from '../core/schedule';

/** The longest delay of one Node.js timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function every(ms: number, jobs: readonly (() => Promise<unknown>)[]): () => Promise<void> {
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= (async () => {
      try {
        for (const job of jobs) await job();
      } catch (e) {
        console.error(`scheduled job failed: ${(e as Error).message}`);
      } finally {
        running = undefined;
      }
    })();
  };
  const ended = async () => {
    await running;
  };
  if (ms <= MAX_TIMER_MS) {
    const timer = setInterval(run, ms);
    timer.unref();
    return () => {
      clearInterval(timer);
      return ended();
    };
  }
  let due = Date.now() + ms;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer = setTimeout(
      () => {
        if (Date.now() >= due) {
          due += ms;
          run();
        }
        arm();
      },
      Math.min(Math.max(due - Date.now(), 0), MAX_TIMER_MS),
    );
    timer.unref();
  };
  arm();
  return () => {
    clearTimeout(timer);
    return ended();
  };
}

/** The environment variable of the local snapshot schedule. */
export const SNAPSHOT_SCHEDULE_ENV = 'VESTA_SNAPSHOT_SCHEDULE';

/**
 * Milliseconds between the local stack's scheduled whole-store snapshots, from
 * `VESTA_SNAPSHOT_SCHEDULE`: unset or empty, the stack's default schedule
 * (`DEFAULT_SNAPSHOT_SCHEDULE`, as the CDK stack without a prop or context value); `off`
 * (any case), `undefined`: no scheduled snapshot; a `rate(...)` expression, its interval. Throws
 * an `Error` that names the variable and echoes anything else (a `cron(...)` expression too: the
 * local stack runs rates only).
 */
export function localSnapshotInterval(value: string | undefined): number | undefined {
  const raw = value === undefined || value.trim() === '' ? DEFAULT_SNAPSHOT_SCHEDULE : value.trim();
  if (raw.toLowerCase() === 'off') return undefined;
  let seconds: number | undefined;
  try {
    seconds = scheduleIntervalSeconds(raw);
  } catch {
    seconds = undefined;
  }
  if (seconds === undefined)
    throw new Error(
      `${SNAPSHOT_SCHEDULE_ENV} must be off or rate(1 minute|hour|day) or rate(<n> minutes|hours|days). Received: ${JSON.stringify(value)}`,
    );
  return seconds * 1000;
}
