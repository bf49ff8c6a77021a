/**
 * The dead-letter rules that need no store: an item is tried a bounded number of times, a
 * dependency failure stops the path instead of setting items aside, and an entry's id is the
 * same for the same item however its identity is written.
 */
import { ITEM_ATTEMPTS, deadLetterId, errorOf, isDeadLetterId, tryItem } from '../../src/core/dead-letters';
import { ThrottledError, UnavailableError } from '../../src/core/errors';

test('an item that keeps failing for itself is tried ITEM_ATTEMPTS times, then handed back with its last error', async () => {
  let calls = 0;
  const out = await tryItem(
    async () => {
      calls++;
      throw Object.assign(new Error(`bad item ${calls}`), { name: 'ValidationException' });
    },
    { backoffMs: 0 },
  );
  expect(calls).toBe(ITEM_ATTEMPTS);
  expect(out).toMatchObject({ ok: false, attempts: ITEM_ATTEMPTS });
  expect(errorOf((out as { error: unknown }).error)).toEqual({
    name: 'ValidationException',
    message: `bad item ${ITEM_ATTEMPTS}`,
  });
});

test('an item that goes through on a later try is not set aside', async () => {
  let calls = 0;
  const out = await tryItem(
    async () => {
      if (++calls < 2) throw new Error('once');
      return 'done';
    },
    { backoffMs: 0 },
  );
  expect(out).toEqual({ ok: true, value: 'done' });
});

test.each([
  ['throttled', new ThrottledError('slow down')],
  ['unavailable', new UnavailableError('down')],
])('a dependency failure (%s) after the last try is thrown, not handed back', async (_name, error) => {
  await expect(tryItem(async () => Promise.reject(error), { backoffMs: 0 })).rejects.toBe(error);
});

test('errors are translated before they are judged', async () => {
  const raw = Object.assign(new Error('ThrottlingException'), { name: 'ThrottlingException' });
  const translate = (e: unknown) => ((e as Error).name === 'ThrottlingException' ? new ThrottledError('t') : e);
  await expect(tryItem(async () => Promise.reject(raw), { backoffMs: 0, translate })).rejects.toBeInstanceOf(
    ThrottledError,
  );
});

test('an entry id depends on the source and the item, not on the order its identifiers are written in', () => {
  const a = deadLetterId('reaper', { leaseId: 'x', shard: 1 });
  expect(deadLetterId('reaper', { shard: 1, leaseId: 'x' })).toBe(a);
  expect(deadLetterId('renewer', { leaseId: 'x', shard: 1 })).not.toBe(a.replace('reaper', 'renewer'));
  expect(deadLetterId('reaper', { leaseId: 'y', shard: 1 })).not.toBe(a);
  expect(isDeadLetterId(a)).toBe(true);
  expect(isDeadLetterId('reaper-xyz')).toBe(false);
});

test('error messages are cut to 2048 characters; anything thrown has a name', () => {
  expect(errorOf(new Error('x'.repeat(5000))).message).toHaveLength(2048);
  expect(errorOf('plain string')).toEqual({ name: 'string', message: 'plain string' });
});
