/**
 * A snapshot record restored in one Region (`src/core/regions/restores.ts`), on the pure rules: it
 * replaces what it read, never a value of another Region it had not read, keeps `rev` the sum of
 * `vv` and no lower than the single-Region plan, and sets counter fields as bases after the totals
 * it read.
 */
import { numberFromText } from '../../src/core/decimal';
import { OutOfRangeError } from '../../src/core/errors';
import type { Fields, RecordState } from '../../src/core/record-view';
import { type RegionalState, join, revOf, settle } from '../../src/core/regions/merge';
import { restoreRegional } from '../../src/core/regions/restores';
import { writeRegional } from '../../src/core/regions/writes';

const [US, EU] = ['us-east-1', 'eu-west-1'];
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const env = (replica: string, s: number, mode: 'reject' | 'siblings' = 'reject') => ({ replica, now: at(s), mode });

function snap(rev: number, ...values: Record<string, unknown>[]): RecordState {
  return {
    namespace: 'ns',
    key: 'k',
    inc: 'old',
    rev,
    vv: { gone: rev },
    siblings: values.map((fields, i) => ({ fields, dot: { replica: 'gone', counter: rev - i }, at: at(0) })),
    deleted: false,
    updatedAt: at(0),
  } as RecordState;
}

const put = (joined: RegionalState | undefined, r: string, s: number, fields: Fields) =>
  writeRegional('ns', 'k', joined, undefined, { op: 'put', fields }, {}, env(r, s, 'siblings'));

test('a key never written takes the snapshot values, each with a dot of this Region, at the snapshot rev', () => {
  const w = restoreRegional(undefined, undefined, snap(6, { a: 1 }, { a: 2 }), 'missing', env(EU, 10))!;
  expect(w.item.vv).toEqual({ [EU]: 6 });
  expect(w.item.rev).toBe(6);
  expect(w.item.siblings.map((s) => [s.fields, s.dot])).toEqual([
    [{ a: 1 }, { replica: EU, counter: 5 }],
    [{ a: 2 }, { replica: EU, counter: 6 }],
  ]);
});

test('in siblings mode it replaces every value it read, and a value of another Region it did not read stays beside it', () => {
  const us = put(undefined, US, 1, { v: 'us' }).item;
  const eu = put(undefined, EU, 2, { v: 'eu' }).item;
  const read = join(us, eu);
  const visible = settle(read, 'siblings').state;
  const w = restoreRegional(read, visible, snap(5, { v: 'snap' }), 'newer', env(EU, 3, 'siblings'))!;
  expect(settle(w.joined, 'siblings').state.siblings.map((s) => s.fields)).toEqual([{ v: 'snap' }]);
  expect(w.item.rev).toBe(revOf(w.item.vv));
  expect(w.item.rev).toBe(5);
  // US wrote again meanwhile, unseen by the restore: both values stay, as for any concurrent write.
  const later = put(us, US, 4, { v: 'us-later' }).item;
  const values = settle(join(w.item, later), 'siblings').state.siblings.map((s) => s.fields);
  expect(values).toEqual([{ v: 'snap' }, { v: 'us-later' }]);
});

test('a counter field becomes a base after the totals read; a value past DynamoDB range is refused', () => {
  const inc = writeRegional(
    'ns',
    'k',
    undefined,
    undefined,
    { op: 'patch', patch: { increment: { n: 3 } } },
    {},
    env(US, 1),
  );
  const w = restoreRegional(inc.item, undefined, snap(4, { n: 10 }), 'newer', env(EU, 2))!;
  const more = writeRegional(
    'ns',
    'k',
    w.joined,
    undefined,
    { op: 'patch', patch: { increment: { n: 5 } } },
    {},
    env(US, 3),
  );
  expect(settle(join(w.item, more.item), 'reject').state.siblings[0].fields).toEqual({ n: 15 });
  const huge = numberFromText('1e200');
  expect(() => restoreRegional(inc.item, undefined, snap(4, { n: huge }), 'newer', env(EU, 2))).toThrow(
    OutOfRangeError,
  );
});

test('a newer record, or any live one in mode missing, is skipped', () => {
  const live = put(undefined, US, 1, { v: 'us' }).item;
  const visible = settle(live, 'reject').state;
  expect(restoreRegional(live, visible, snap(1, { v: 's' }), 'newer', env(EU, 2))).toBeUndefined();
  expect(restoreRegional(live, visible, snap(9, { v: 's' }), 'missing', env(EU, 2))).toBeUndefined();
});
