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
    const s = state({
      siblings: [...state().siblings, { fields: { qty: 2, tags: ['a'] }, dot: { replica: 'r2', counter: 1 }, at: 'x' }],
      vv: { r1: 5, r2: 1 },
    });
    expect(fromLine(toLine(s))).toEqual(s);
    expect(toLine(fromLine(toLine(s)))).toBe(toLine(s));
  });

  test('into another namespace', () => {
    expect(fromLine(toLine(state()), 'other').namespace).toBe('other');
  });

  test.each([
    ['not json', '{'],
    ['unknown member', JSON.stringify({ ...JSON.parse(toLine(state())), x: 1 })],
    ['no siblings', JSON.stringify({ ...JSON.parse(toLine(state())), siblings: [] })],
  ])('a bad line is a ValidationError: %s', (_name, text) => {
    expect(() => fromLine(text)).toThrow(ValidationError);
  });

  test('only live records without a lease are exported', () => {
    expect(exportable(state())).toBe(true);
    expect(exportable(state({ deleted: true, siblings: [] }))).toBe(false);
    expect(exportable(state({ lease: 'abc.30' }))).toBe(false);
  });
});

describe('restorePlan', () => {
  const snap = state({ rev: 5 });

  test('a key never written gets the snapshot state exactly, in both modes', () => {
    expect(restorePlan(undefined, snap, 'missing', 'r2')).toEqual(snap);
    expect(restorePlan(undefined, snap, 'newer', 'r2')).toEqual(snap);
  });

  test('a deleted key comes back above its tombstone, never lowering rev, as a new write of the replica', () => {
    const tomb = state({ inc: 'i0', rev: 9, deleted: true, siblings: [], vv: { r1: 9 } });
    for (const mode of ['missing', 'newer'] as const) {
      const p = restorePlan(tomb, snap, mode, 'r1')!;
      expect(p).toMatchObject({
        inc: 'i0',
        rev: 10,
        vv: { r1: 10 },
        deleted: false,
        siblings: [{ fields: { qty: 1 }, dot: { replica: 'r1', counter: 10 } }],
      });
      // A writer that saw only the tombstone ({r1: 9}) does not cover the restored value's dot.
      expect(p.siblings[0].dot.counter).toBeGreaterThan(tomb.vv.r1);
    }
  });

  test('missing never touches a live record', () => {
    expect(restorePlan(state({ rev: 1 }), snap, 'missing', 'r1')).toBeUndefined();
  });

  test('newer replaces only a live record with a lower rev, keeping its incarnation, with new dots for every value', () => {
    expect(restorePlan(state({ rev: 5 }), snap, 'newer', 'r1')).toBeUndefined();
    expect(restorePlan(state({ rev: 6 }), snap, 'newer', 'r1')).toBeUndefined();
    const two = state({
      siblings: [
        ...snap.siblings,
        { fields: { qty: 2 }, dot: { replica: 'r3', counter: 1 }, at: '2026-01-01T00:00:00.000Z' },
      ],
      vv: { r1: 5, r3: 1 },
    });
    expect(restorePlan(state({ rev: 3, inc: 'iX', vv: { r9: 1, r2: 4 } }), two, 'newer', 'r2')).toMatchObject({
      inc: 'iX',
      rev: 5,
      vv: { r1: 5, r3: 1, r9: 1, r2: 6 },
      siblings: [
        { fields: { qty: 1 }, dot: { replica: 'r2', counter: 5 } },
        { fields: { qty: 2 }, dot: { replica: 'r2', counter: 6 } },
      ],
    });
  });

  test('a record of a live lease is never replaced', () => {
    expect(restorePlan(state({ rev: 1, lease: 'abc.30' }), snap, 'newer', 'r1')).toBeUndefined();
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
