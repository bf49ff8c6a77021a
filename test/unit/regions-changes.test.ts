/**
 * The change feed of a deployment in several Regions: a stream record of one Region's item
 * (`regional-codec.ts`) is a change of the record in its namespace (not its Region's partition),
 * with counters as that Region saw them, and an id that names the writing Region, the same in
 * every Region's feed.
 */
import { fromRegionalItem, toRegionalItem } from '../../src/adapters/dynamodb/regional-codec';
import { type Numeric, numberFromText, numericText } from '../../src/core/decimal';
import {
  changeFromStreamRecord,
  conflictsFromStreamRecord,
  placeholderSourceOf,
} from '../../src/adapters/dynamodb/stream-records';
import { joinAll } from '../../src/core/regions/merge';
import { writeRegional } from '../../src/core/regions/writes';

const REGIONS = ['us-east-1', 'eu-west-1'];
const env = (replica: string) => ({ replica, now: '2026-12-07T10:00:00.000Z', mode: 'reject' as const });

function streamed(region: string, prev: ReturnType<typeof writeRegional>['item'][], incBy: number) {
  const w = writeRegional(
    'shop',
    'hits',
    joinAll(prev),
    undefined,
    { op: 'patch', patch: { increment: { n: incBy } } },
    {},
    env(region),
  );
  const item = toRegionalItem(w.item, region, REGIONS[0], 'patch', 'reject');
  return { w, record: { eventName: 'INSERT', dynamodb: { NewImage: item, Keys: { ns: item.ns, k: item.k } } } };
}

test("a Region's item is a change of the record in its namespace, with the counter as that Region saw it", () => {
  const us = streamed('us-east-1', [], 5);
  const eu = streamed('eu-west-1', [], 7);
  expect(eu.record.dynamodb.NewImage.ns).toEqual({ S: 'shop@eu-west-1' });
  const a = changeFromStreamRecord(us.record)!;
  const b = changeFromStreamRecord(eu.record)!;
  expect(a).toMatchObject({ namespace: 'shop', key: 'hits', change: 'patch', rev: 1, fields: { n: 5 } });
  expect(b).toMatchObject({ namespace: 'shop', key: 'hits', change: 'patch', rev: 1, fields: { n: 7 } });
  // Both at rev 1, written in different Regions: two changes, two ids.
  expect(a.id).not.toBe(b.id);
  expect(placeholderSourceOf(eu.record).namespace).toBe('shop');
  // A later write in the US that has seen the EU's: the sum, one rev more than both.
  const later = streamed('us-east-1', [us.w.item, eu.w.item], 1);
  expect(changeFromStreamRecord(later.record)).toMatchObject({
    rev: 3,
    fields: { n: 13 },
    vv: { 'us-east-1': 2, 'eu-west-1': 1 },
  });
});

test('a write in reject mode that replaces a loser names it, and the stream record is also a conflict change', () => {
  const put = (region: string, prev: ReturnType<typeof writeRegional>['item'][], v: string, now: string) =>
    writeRegional('shop', 'k', joinAll(prev), undefined, { op: 'put', fields: { v } }, {}, { ...env(region), now });
  const us = put('us-east-1', [], 'us', '2026-12-07T10:00:00.000Z');
  const eu = put('eu-west-1', [], 'eu', '2026-12-07T10:00:01.000Z');
  // The US, having both, writes again: EU's later value was the winner, its own the loser.
  const again = put('us-east-1', [us.item, eu.item], 'us2', '2026-12-07T10:00:02.000Z');
  expect(again.item.buried?.map((s) => s.fields)).toEqual([{ v: 'us' }]);
  const item = toRegionalItem(again.item, 'us-east-1', REGIONS[0], 'put', 'reject');
  const record = { eventName: 'MODIFY', dynamodb: { NewImage: item, Keys: { ns: item.ns, k: item.k } } };
  const [conflict, ...rest] = conflictsFromStreamRecord(record);
  expect(rest).toEqual([]);
  expect(conflict).toMatchObject({ namespace: 'shop', key: 'k', change: 'conflict', fields: { v: 'us' }, rev: 3 });
  // The same loser replaced by another Region's write: the same id.
  const other = put('eu-west-1', [us.item, eu.item], 'eu2', '2026-12-07T10:00:03.000Z');
  const otherItem = toRegionalItem(other.item, 'eu-west-1', REGIONS[0], 'put', 'reject');
  const [same] = conflictsFromStreamRecord({ eventName: 'MODIFY', dynamodb: { NewImage: otherItem } });
  expect(same.id).toBe(conflict.id);
  // The join keeps no buried values; an increment replaces nothing; siblings mode buries nothing.
  expect(again.joined.buried).toBeUndefined();
  const inc = writeRegional(
    'shop',
    'k',
    joinAll([us.item, eu.item]),
    undefined,
    { op: 'patch', patch: { increment: { n: 1 } } },
    {},
    env('us-east-1'),
  );
  expect(inc.item.buried).toBeUndefined();
  const sib = writeRegional(
    'shop',
    'k',
    joinAll([us.item, eu.item]),
    undefined,
    { op: 'put', fields: { v: 's' } },
    {},
    { ...env('us-east-1'), mode: 'siblings' },
  );
  expect(sib.item.buried).toBeUndefined();
});

test('a running total that needs more digits than DynamoDB numbers hold is stored as exact text, and the value stays exact', () => {
  let items: ReturnType<typeof writeRegional>['item'][] = [];
  const incBy = (n: string) => {
    const w = writeRegional(
      'shop',
      'big',
      joinAll(items),
      undefined,
      { op: 'patch', patch: { increment: { n: numberFromText(n) } } },
      {},
      env('us-east-1'),
    );
    // Through the item as stored and back, every time.
    items = [
      fromRegionalItem(toRegionalItem(w.item, 'us-east-1', REGIONS[0], 'patch', 'reject'), 'shop', REGIONS[0]).state,
    ];
  };
  for (const n of ['1e20', '-1e20', '1.001e-26']) incBy(n);
  const item = toRegionalItem(items[0], 'us-east-1', REGIONS[0], 'patch', 'reject');
  expect(item.pn.M!.n.M!['us-east-1'].M!.p).toEqual({ S: '100000000000000000000.00000000000000000000000001001' });
  const change = changeFromStreamRecord({ eventName: 'MODIFY', dynamodb: { NewImage: item } })!;
  expect(numericText(change.fields!.n as Numeric)).toBe('1.001e-26');
});
