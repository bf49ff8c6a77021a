import { ValidationError } from '../../src/core/errors';
import { changeId, changeOf, decodeCursor, encodeCursor } from '../../src/core/changes';
import type { RecordState } from '../../src/core/record-view';

const state = (over: Partial<RecordState> = {}): RecordState => ({
  namespace: 'shop',
  key: 'cart/1',
  inc: 'i1',
  rev: 3,
  vv: { local: 3 },
  siblings: [{ fields: { qty: 1 }, dot: { replica: 'local', counter: 3 }, at: '2026-11-30T00:00:00.000Z' }],
  deleted: false,
  updatedAt: '2026-11-30T00:00:00.000Z',
  ...over,
});

describe('change ids', () => {
  test('are stable for the same namespace, key, incarnation and rev, and differ otherwise', () => {
    const id = changeId('shop', 'cart/1', 'i1', 3);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(changeId('shop', 'cart/1', 'i1', 3)).toBe(id);
    for (const other of [
      changeId('shop', 'cart/1', 'i1', 4),
      changeId('shop', 'cart/1', 'i2', 3),
      changeId('shop', 'cart/2', 'i1', 3),
      changeId('shop2', 'cart/1', 'i1', 3),
    ]) {
      expect(other).not.toBe(id);
    }
    // The separator keeps (a, bc) and (ab, c) apart.
    expect(changeId('a', 'bc', 'i', 1)).not.toBe(changeId('ab', 'c', 'i', 1));
  });
});

describe('changeOf', () => {
  test('a put or patch carries the fields; a delete or expire does not', () => {
    expect(changeOf(state(), 'patch')).toEqual({
      id: changeId('shop', 'cart/1', 'i1', 3),
      namespace: 'shop',
      key: 'cart/1',
      rev: 3,
      vv: { local: 3 },
      change: 'patch',
      fields: { qty: 1 },
    });
    const tomb = state({ deleted: true, siblings: [] });
    expect(changeOf(tomb, 'delete')).not.toHaveProperty('fields');
    expect(changeOf(tomb, 'expire').change).toBe('expire');
    // A tombstone recorded as a put (an item written before kinds were recorded) is a delete.
    expect(changeOf(tomb, 'put').change).toBe('delete');
  });

  test('a write that left siblings lists every value; fields is the newest', () => {
    const two = state({
      siblings: [
        { fields: { v: 1 }, dot: { replica: 'a', counter: 1 }, at: 't1' },
        { fields: { v: 2 }, dot: { replica: 'b', counter: 1 }, at: 't2' },
      ],
    });
    expect(changeOf(two, 'put')).toMatchObject({
      fields: { v: 2 },
      siblings: [
        { fields: { v: 1 }, updatedAt: 't1' },
        { fields: { v: 2 }, updatedAt: 't2' },
      ],
    });
  });
});

describe('cursors', () => {
  test('round-trip and are opaque', () => {
    const c = encodeCursor({ namespace: 'shop', seq: 42 });
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c, 'shop')).toEqual({ namespace: 'shop', seq: 42 });
  });

  test.each([
    ['garbage', 'not-base64!'],
    ['empty', ''],
    ['another format', Buffer.from('x1.5.shop').toString('base64url')],
    ['a negative number', Buffer.from('c1.-1.shop').toString('base64url')],
    ['a leading zero', Buffer.from('c1.05.shop').toString('base64url')],
  ])('%s is a ValidationError on after', (_name, raw) => {
    expect(() => decodeCursor(raw, 'shop')).toThrow(ValidationError);
    try {
      decodeCursor(raw, 'shop');
    } catch (e) {
      expect((e as ValidationError).field).toBe('after');
    }
  });

  test('a cursor of another namespace is refused, naming both', () => {
    expect(() => decodeCursor(encodeCursor({ namespace: 'a', seq: 1 }), 'b')).toThrow(/namespace a, not of b/);
  });
});
