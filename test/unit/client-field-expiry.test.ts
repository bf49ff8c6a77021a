import { MAX_EXPIRE_SECONDS, expire, mergePatches, persist, secondsToLive } from '../../src/client';

describe('field expiry helpers', () => {
  test('expire and persist make the patch parts the API takes', () => {
    expect(expire('code', 300)).toEqual({ expire: { code: 300 } });
    expect(persist('a', 'b')).toEqual({ persist: ['a', 'b'] });
  });

  test('expire refuses seconds the API would refuse, naming the field', () => {
    for (const bad of [0, -1, 1.5, MAX_EXPIRE_SECONDS + 1, Number.NaN]) {
      expect(() => expire('code', bad)).toThrow(/expire code: seconds must be a whole number from 1 to 31536000/);
    }
    expect(expire('code', MAX_EXPIRE_SECONDS)).toEqual({ expire: { code: MAX_EXPIRE_SECONDS } });
  });

  test('mergePatches merges maps (a later part wins) and appends lists', () => {
    const body = mergePatches(
      { set: { code: 'x' }, remove: ['old'] },
      expire('code', 60),
      expire('code', 30),
      expire('token', 5),
      persist('keep'),
      persist('also'),
      { remove: ['older'] },
    );

    expect(body).toEqual({
      set: { code: 'x' },
      remove: ['old', 'older'],
      expire: { code: 30, token: 5 },
      persist: ['keep', 'also'],
    });
  });

  test('secondsToLive rounds up, stops at 0 once due, and leaves out fields without expiry', () => {
    const now = Date.parse('2026-01-01T00:00:00.000Z');
    const expires = {
      soon: '2026-01-01T00:00:00.200Z',
      later: '2026-01-01T00:01:00.000Z',
      due: '2025-12-31T23:59:59.000Z',
      unreadable: 'not a time',
    };

    expect(secondsToLive({ expires }, now)).toEqual({ soon: 1, later: 60, due: 0, unreadable: 0 });
    expect(secondsToLive({}, now)).toEqual({});
  });
});
