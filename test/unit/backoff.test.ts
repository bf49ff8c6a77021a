/**
 * The one backoff of our own retries: the ceiling doubles from the base up to the cap, and the
 * delay is drawn with full jitter below it.
 */
import { MAX_DOUBLINGS, backoffCeilingMs, backoffMs } from '../../src/core/backoff';

test('the ceiling doubles from the base with each attempt until it reaches the cap', () => {
  const policy = { baseMs: 5, capMs: 200 };

  const ceilings = [0, 1, 2, 3, 4, 5, 6, 7].map((a) => backoffCeilingMs(a, policy));

  expect(ceilings).toEqual([5, 10, 20, 40, 80, 160, 200, 200]);
});

test('without a cap the ceiling keeps doubling, up to MAX_DOUBLINGS doublings', () => {
  expect(backoffCeilingMs(7, { baseMs: 10 })).toBe(1280);
  expect(backoffCeilingMs(MAX_DOUBLINGS + 50, { baseMs: 1 })).toBe(2 ** MAX_DOUBLINGS);
});

test('a huge attempt number still gives the cap, and a zero base gives no wait at all', () => {
  expect(backoffCeilingMs(10_000, { baseMs: 500, capMs: 5000 })).toBe(5000);
  expect(backoffCeilingMs(10_000, { baseMs: 0 })).toBe(0);
  expect(backoffCeilingMs(-1, { baseMs: 7 })).toBe(7);
});

test('the delay is the injected random fraction of the ceiling (full jitter)', () => {
  const policy = { baseMs: 10, capMs: 640 };

  expect(backoffMs(3, policy, () => 0)).toBe(0);
  expect(backoffMs(3, policy, () => 0.5)).toBe(40);
  expect(backoffMs(9, policy, () => 0.25)).toBe(160);
});

test('with Math.random the delay stays within [0, ceiling)', () => {
  for (let i = 0; i < 200; i++) {
    const d = backoffMs(i % 12, { baseMs: 1, capMs: 50 });
    expect(d).toBeGreaterThanOrEqual(0);
    expect(d).toBeLessThan(backoffCeilingMs(i % 12, { baseMs: 1, capMs: 50 }));
  }
});
