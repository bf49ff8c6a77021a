/**
 * DynamoDB Local's stream writes an empty map attribute as a bare `{}`; the local poller repairs
 * it to `{ M: {} }` (what DynamoDB's own stream sends) before the publisher decodes the item.
 */
import { changeFromStreamRecord } from '../../src/adapters/dynamodb/stream-records';
import { withEmptyMaps } from '../../src/local/stream-poller';

const tombstone = (f: unknown) => ({
  eventName: 'MODIFY',
  dynamodb: {
    SequenceNumber: '5',
    NewImage: {
      ns: { S: 'shop' },
      k: { S: 'cart/9' },
      rev: { N: '3' },
      inc: { S: 'abc' },
      tomb: { BOOL: true },
      at: { S: '2026-12-06T00:00:00.000Z' },
      op: { S: 'delete' },
      f,
      sz: { N: '0' },
      '@local': { N: '3' },
      sx: { L: [{ M: { f: {}, dr: { S: 'local' } } }] },
    },
    OldImage: { ns: { S: 'shop' }, k: { S: 'cart/9' }, rev: { N: '2' }, f: { M: { qty: { N: '3' } } } },
  },
});

test("a tombstone's bare {} field map (DynamoDB Local) decodes after the repair, as a delete without fields", () => {
  const raw = tombstone({}) as never;
  expect(() => changeFromStreamRecord(raw)).toThrow(/attribute f must be of type M/);
  const change = changeFromStreamRecord(withEmptyMaps(raw));
  expect(change).toMatchObject({ namespace: 'shop', key: 'cart/9', rev: 3, change: 'delete' });
  expect(change && 'fields' in change).toBe(false);
});

test('the repair turns only bare {} into empty maps, also nested, and changes nothing else', () => {
  const repaired = withEmptyMaps(tombstone({}) as never).dynamodb!;
  expect(repaired.NewImage!.f).toEqual({ M: {} });
  expect(repaired.NewImage!.sx).toEqual({ L: [{ M: { f: { M: {} }, dr: { S: 'local' } } }] });
  expect(repaired.OldImage).toEqual(tombstone({}).dynamodb.OldImage);
  const whole = tombstone(JSON.parse('{"M":{"qty":{"N":"1.10"},"__proto__":{"S":"x"}}}'));
  const kept = withEmptyMaps(whole as never).dynamodb!.NewImage!.f!.M!;
  expect(Object.keys(kept)).toEqual(['qty', '__proto__']);
  expect(kept.__proto__).toEqual({ S: 'x' });
  expect(kept.qty).toEqual({ N: '1.10' });
  expect(withEmptyMaps({ eventName: 'REMOVE' } as never)).toEqual({ eventName: 'REMOVE' });
});
