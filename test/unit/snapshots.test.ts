import { ValidationError } from '../../src/core/errors';
import type { RecordState } from '../../src/core/record-view';
import {
  SNAPSHOT_ID_PATTERN,
  exportable,
  fromLine,
  newId,
  parseCreateSnapshot,
  parseRestore,
  restorePlan,
  toLine,
  validateSnapshotId,
} from '../../src/core/snapshots';

const state = (over: Partial<RecordState> = {}): RecordState => ({
  namespace: 'shop',
  key: 'cart/1',
  inc: 'i1',
  rev: 5,
  vv: { r1: 5 },
  siblings: [{ fields: { qty: 1 }, dot: { replica: 'r1', counter: 5 }, at: '2026-01-01T00:00:00.000Z' }],
  deleted: false,
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

describe('lines', () => {
  test('a record survives toLine and fromLine exactly', () => {
    const s = state({ siblings: [...state().siblings, { fields: { qty: 2, tags: ['a'] }, dot: { replica: 'r2', counter: 1 }, at: 'x' }], vv: { r1: 5, r2: 1 } });
    expect(fromLine(toLine(s))).toEqual(s);
    expect(toLine(fromLine(toLine(s)))).toBe(toLine(s));
  });

  test('into another namespace', () => {
    expect(fromLine(toLine(state()), 'other').namespace).toBe('other');
  });

  test.each([['not json', '{'], ['unknown member', JSON.stringify({ ...JSON.parse(toLine(state())), x: 1 })], ['no siblings', JSON.stringify({ ...JSON.parse(toLine(state())), siblings: [] })]])(
    'a bad line is a ValidationError: %s',
    (_name, text) => {
      expect(() => fromLine(text)).toThrow(ValidationError);
    },
  );

  test('only live records without a lease are exported', () => {
    expect(exportable(state())).toBe(true);
    expect(exportable(state({ deleted: true, siblings: [] }))).toBe(false);
    expect(exportable(state({ lease: 'abc.30' }))).toBe(false);
  });
});

describe('restorePlan', () => {
  const snap = state({ rev: 5 });

  test('a key never written gets the snapshot state exactly, in both modes', () => {
    expect(restorePlan(undefined, snap, 'missing')).toEqual(snap);
    expect(restorePlan(undefined, snap, 'newer')).toEqual(snap);
  });

  test('a deleted key comes back above its tombstone, never lowering rev', () => {
    const tomb = state({ inc: 'i0', rev: 9, deleted: true, siblings: [], vv: { r1: 9 } });
    for (const mode of ['missing', 'newer'] as const) {
      const p = restorePlan(tomb, snap, mode)!;
      expect(p).toMatchObject({ inc: 'i0', rev: 10, vv: { r1: 9 }, deleted: false, siblings: snap.siblings });
    }
  });

  test('missing never touches a live record', () => {
    expect(restorePlan(state({ rev: 1 }), snap, 'missing')).toBeUndefined();
  });

  test('newer replaces only a live record with a lower rev, keeping its incarnation', () => {
    expect(restorePlan(state({ rev: 5 }), snap, 'newer')).toBeUndefined();
    expect(restorePlan(state({ rev: 6 }), snap, 'newer')).toBeUndefined();
    expect(restorePlan(state({ rev: 3, inc: 'iX', vv: { r9: 1 } }), snap, 'newer')).toMatchObject({ inc: 'iX', rev: 5, vv: { r1: 5, r9: 1 } });
  });

  test('a record of a live lease is never replaced', () => {
    expect(restorePlan(state({ rev: 1, lease: 'abc.30' }), snap, 'newer')).toBeUndefined();
  });
});

describe('ids and bodies', () => {
  test('ids sort by creation time', () => {
    const a = newId('snap', new Date('2026-01-01T00:00:00.000Z'));
    const b = newId('snap', new Date('2026-01-01T00:00:00.001Z'));
    expect(a).toMatch(SNAPSHOT_ID_PATTERN);
    expect([b, a].sort()).toEqual([a, b]);
    expect(validateSnapshotId(a, 'snap')).toBe(a);
    expect(() => validateSnapshotId(a, 'rest')).toThrow(ValidationError);
    expect(() => validateSnapshotId('../etc', 'snap')).toThrow(ValidationError);
  });

  test('create and restore bodies', () => {
    expect(parseCreateSnapshot(undefined)).toEqual({ namespace: null });
    expect(parseCreateSnapshot({ namespace: 'shop' })).toEqual({ namespace: 'shop' });
    expect(() => parseCreateSnapshot({ namespace: 'Bad NS' })).toThrow(/body.namespace/);
    expect(() => parseCreateSnapshot({ ns: 'shop' })).toThrow(/body.ns/);
    expect(parseRestore({ mode: 'newer' })).toEqual({ namespace: null, mode: 'newer' });
    expect(() => parseRestore({ namespace: 'shop' })).toThrow(/body.mode/);
    expect(() => parseRestore({ namespace: 'shop', mode: 'all' })).toThrow(/body.mode/);
  });
});
