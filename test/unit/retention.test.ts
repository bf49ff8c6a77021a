/**
 * The retention settings (`src/core/retention.ts`): read from the environment with their
 * defaults, and the expiry rule the reads share (the `ttl`, or the age by the retention in force).
 */
import {
  DAY_SECONDS,
  DEFAULT_RETENTION_DAYS,
  EXPIRING_SAGA_STATUSES,
  isExpired,
  retentionFromEnv,
  ttlAfter,
} from '../../src/core/retention';

describe('retentionFromEnv', () => {
  test('defaults: snapshots 35 days, finished sagas and restores 30', () => {
    expect(DEFAULT_RETENTION_DAYS).toEqual({ snapshots: 35, sagas: 30, restores: 30 });
    expect(retentionFromEnv({})).toEqual(DEFAULT_RETENTION_DAYS);
    expect(retentionFromEnv({ VESTA_SAGA_RETENTION_DAYS: '' })).toEqual(DEFAULT_RETENTION_DAYS);
  });

  test('each variable sets its own', () => {
    expect(
      retentionFromEnv({
        VESTA_SNAPSHOT_RETENTION_DAYS: '90',
        VESTA_SAGA_RETENTION_DAYS: '7',
        VESTA_RESTORE_RETENTION_DAYS: '1',
      }),
    ).toEqual({ snapshots: 90, sagas: 7, restores: 1 });
  });

  test.each(['0', '-1', '1.5', 'forever', '36501'])('%s is refused, naming the variable', (raw) => {
    expect(() => retentionFromEnv({ VESTA_RESTORE_RETENTION_DAYS: raw })).toThrow(
      `VESTA_RESTORE_RETENTION_DAYS must be a whole number of days from 1 to 36500, not ${JSON.stringify(raw)}`,
    );
  });
});

describe('isExpired', () => {
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  const ttl = ttlAfter(start, 3);

  test('by the ttl: expired from the second it names on', () => {
    expect(ttl).toBe(start / 1000 + 3 * DAY_SECONDS);
    expect(isExpired(ttl * 1000 - 1, ttl)).toBe(false);
    expect(isExpired(ttl * 1000, ttl)).toBe(true);
  });

  test('by the age, for items without a ttl or a shortened retention', () => {
    const since = new Date(start).toISOString();
    expect(isExpired(start + 3 * DAY_SECONDS * 1000 - 1000, undefined, since, 3)).toBe(false);
    expect(isExpired(start + 3 * DAY_SECONDS * 1000, undefined, since, 3)).toBe(true);
    // A ttl of 30 days, the retention now 3: gone after 3.
    expect(isExpired(start + 3 * DAY_SECONDS * 1000, ttlAfter(start, 30), since, 3)).toBe(true);
  });

  test('nothing to go by: never expired', () => {
    expect(isExpired(Date.now() + 1e12, undefined)).toBe(false);
    expect(isExpired(Date.now() + 1e12, undefined, undefined, 1)).toBe(false);
  });

  test('only sagas that ended for good expire', () => {
    expect([...EXPIRING_SAGA_STATUSES]).toEqual(['SUCCEEDED', 'COMPENSATED']);
  });
});
