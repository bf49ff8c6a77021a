/**
 * The snapshot schedule, one definition for the CDK stack (an EventBridge rule) and the local
 * stack (a timer): when neither a prop, a context value nor `VESTA_SNAPSHOT_SCHEDULE` says
 * otherwise, a whole-store snapshot once a day.
 */

/** The schedule of the whole-store snapshot when nothing else is given. */
export const DEFAULT_SNAPSHOT_SCHEDULE = 'rate(1 day)';

const UNIT_SECONDS: Record<string, number> = {
  minute: 60,
  minutes: 60,
  hour: 3_600,
  hours: 3_600,
  day: 86_400,
  days: 86_400,
};

/**
 * Seconds between runs of a `rate(...)` expression; `undefined` for a `cron(...)` one. Throws an
 * `Error` that echoes anything else.
 */
export function scheduleIntervalSeconds(expression: string): number | undefined {
  const rate = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression);
  // EventBridge takes the singular unit for 1 (`rate(1 day)`) and the plural for more (`rate(2 days)`).
  if (rate && Number(rate[1]) > 0 && (Number(rate[1]) === 1) === !rate[2].endsWith('s'))
    return Number(rate[1]) * UNIT_SECONDS[rate[2]];
  if (/^cron\(\S+( \S+){5}\)$/.test(expression)) return undefined;
  throw new Error(
    `the snapshot schedule must be rate(1 minute|hour|day), rate(<n> minutes|hours|days) or cron(<6 fields>). Received: ${JSON.stringify(expression)}`,
  );
}
