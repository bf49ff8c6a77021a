/**
 * Field expiry in the change feed and in snapshots, the pure parts: what a change carries
 * (`expires`, `expired`), how it reads at a later instant (`changeAt`), how the stream decodes an
 * `expire-fields` write, and what a snapshot line keeps (`keptAt`, `expires` in lines).
 */
import { MAX_DETAIL_BYTES, storedDetail } from '../../src/adapters/dynamodb/change-log';
import { changeFromStreamRecord } from '../../src/adapters/dynamodb/stream-records';
import { MAX_ENTRY_BYTES, entryOf } from '../../src/adapters/events/entry';
import { toItem } from '../../src/adapters/dynamodb/codec';
import { type ChangeDetail, changeAt, changeOf } from '../../src/core/changes';
import { ValidationError } from '../../src/core/errors';
import { sweptState } from '../../src/core/field-expiry';
import type { RecordState, Sibling } from '../../src/core/record-view';
import { fromLine, keptAt, restorePlan, toLine } from '../../src/core/snapshots';
import { newMap } from '../../src/core/values';

const T = Date.parse('2031-05-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function value(fields: Record<string, unknown>, expires?: Record<string, number>, replica = 'local'): Sibling {
  const f = Object.assign(newMap(), fields);
  return {
    fields: f,
    ...(expires ? { expires: Object.assign(newMap<number>(), expires) } : {}),
    dot: { replica, counter: 1 },
    at: iso(T),
  };
}

const state = (over: Partial<RecordState> = {}): RecordState => ({
  namespace: 'shop',
  key: 'cart/1',
  inc: 'i1',
  rev: 3,
  vv: { local: 3 },
  siblings: [value({ qty: 1, code: 'x' }, { code: T + 1000 })],
  deleted: false,
  updatedAt: iso(T),
  ...over,
});

describe('changeOf with expiries', () => {
  test('a change carries expires (ISO) next to fields, and per sibling', () => {
    expect(changeOf(state(), 'put')).toMatchObject({ fields: { qty: 1, code: 'x' }, expires: { code: iso(T + 1000) } });
    const two = state({ siblings: [value({ a: 1 }, { a: T + 5 }, 'r1'), value({ b: 2 }, undefined, 'r2')] });
    const c = changeOf(two, 'patch');
    expect(c.fields).toEqual({ b: 2 });
    expect(c).not.toHaveProperty('expires');
    expect(c.siblings).toEqual([
      { fields: { a: 1 }, expires: { a: iso(T + 5) }, updatedAt: iso(T) },
      { fields: { b: 2 }, updatedAt: iso(T) },
    ]);
    expect(changeOf(state(), 'put')).not.toHaveProperty('expired');
  });

  test('an expire-fields write carries expired; left with no value, it has no fields', () => {
    const live = changeOf(state({ siblings: [value({ qty: 1 })] }), 'expire-fields', ['code']);
    expect(live).toMatchObject({ change: 'expire-fields', fields: { qty: 1 }, expired: ['code'] });
    const tomb = changeOf(state({ deleted: true, siblings: [] }), 'expire-fields', ['qty', 'code']);
    expect(tomb).toMatchObject({ change: 'expire-fields', expired: ['qty', 'code'] });
    expect(tomb).not.toHaveProperty('fields');
    // Delete and expire (of a lease) stay as they were.
    expect(changeOf(state({ deleted: true, siblings: [] }), 'expire')).not.toHaveProperty('expired');
    expect(changeOf(state({ deleted: true, siblings: [] }), 'delete').change).toBe('delete');
  });
});

describe('changeAt', () => {
  const c = changeOf(state(), 'put');

  test('a field is there 1 ms before its due time and gone at it', () => {
    expect(changeAt(c, T + 999)).toBe(c);
    const at = changeAt(c, T + 1000);
    expect(at.fields).toEqual({ qty: 1 });
    expect(at).not.toHaveProperty('expires');
    expect(at.id).toBe(c.id);
  });

  test('a change whose every field is due shows empty fields; a change without fields is as it is', () => {
    const all = changeOf(state({ siblings: [value({ code: 'x' }, { code: T })] }), 'put');
    expect(changeAt(all, T).fields).toEqual({});
    const del: ChangeDetail = changeOf(state({ deleted: true, siblings: [] }), 'delete');
    expect(changeAt(del, T + 1e9)).toBe(del);
  });

  test('siblings lose their due fields; a sibling with none left is left out, and fields is the newest left', () => {
    const three = changeOf(
      state({
        siblings: [
          value({ a: 1, k: 0 }, { a: T }, 'r1'),
          value({ b: 2 }, undefined, 'r2'),
          value({ c: 3 }, { c: T }, 'r3'),
        ],
      }),
      'put',
    );
    const at = changeAt(three, T);
    expect(at.siblings).toEqual([
      { fields: { k: 0 }, updatedAt: iso(T) },
      { fields: { b: 2 }, updatedAt: iso(T) },
    ]);
    expect(at.fields).toEqual({ b: 2 });
    const one = changeOf(
      state({ siblings: [value({ a: 1 }, { a: T }, 'r1'), value({ b: 2 }, { b: T + 9 }, 'r2')] }),
      'put',
    );
    const left = changeAt(one, T);
    expect(left).not.toHaveProperty('siblings');
    expect(left).toMatchObject({ fields: { b: 2 }, expires: { b: iso(T + 9) } });
  });
});

test('a change too big for an event or a change item goes without fields, expires and siblings; expired stays', () => {
  const big = changeOf(
    state({ siblings: [value({ code: 'x'.repeat(MAX_DETAIL_BYTES) }, { code: T + 5 })] }),
    'expire-fields',
    ['other'],
  );
  expect(MAX_DETAIL_BYTES).toBeGreaterThan(MAX_ENTRY_BYTES);
  for (const text of [entryOf(big).Detail!, storedDetail(big)]) {
    const d = JSON.parse(text) as ChangeDetail;
    expect(d).toMatchObject({ fieldsOmitted: true, expired: ['other'] });
    for (const gone of ['fields', 'expires', 'siblings']) expect(d).not.toHaveProperty(gone);
  }
  // Small enough: the log keeps it whole, expires included, for a later read to filter.
  expect(JSON.parse(storedDetail(changeOf(state(), 'put')))).toMatchObject({ expires: { code: iso(T + 1000) } });
});

describe('the stream decoding of expire-fields writes', () => {
  const record = (item: Record<string, unknown>, oldRev: number) =>
    ({ eventName: 'MODIFY', dynamodb: { NewImage: item, OldImage: { rev: { N: String(oldRev) } } } }) as never;

  test("the sweeper's write is an expire-fields change with expired from xf", () => {
    const prev = state({ siblings: [value({ qty: 1, code: 'x' }, { code: T })] });
    const swept = sweptState(prev, T, 'local', iso(T))!;
    const c = changeFromStreamRecord(record(toItem(swept.state, 'expire-fields', swept.expired), 3));
    expect(c).toMatchObject({ change: 'expire-fields', rev: 4, fields: { qty: 1 }, expired: ['code'] });
    expect(c).not.toHaveProperty('expires');
  });

  test('a swept record left with no value is expire-fields without fields', () => {
    const prev = state({ siblings: [value({ code: 'x' }, { code: T })] });
    const swept = sweptState(prev, T, 'local', iso(T))!;
    expect(swept.state.deleted).toBe(true);
    const c = changeFromStreamRecord(record(toItem(swept.state, 'expire-fields', swept.expired), 3));
    expect(c).toMatchObject({ change: 'expire-fields', rev: 4, expired: ['code'] });
    expect(c).not.toHaveProperty('fields');
  });

  test('a stale xf of another write is ignored; an update that keeps rev is no change', () => {
    const item = { ...toItem(state(), 'patch'), xf: { L: [{ S: 'old' }] } };
    expect(changeFromStreamRecord(record(item, 2))).not.toHaveProperty('expired');
    expect(changeFromStreamRecord(record(item, 3))).toBeUndefined();
  });
});

describe('snapshot lines with expiries', () => {
  test('a line keeps each value expiries and reads back the same due instants', () => {
    const s = state({ siblings: [value({ a: 1 }, { a: T + 7 }, 'r1'), value({ b: 2 }, undefined, 'r2')] });
    const back = fromLine(toLine(s));
    expect(back).toEqual(s);
    expect(back.siblings[0].expires).toEqual({ a: T + 7 });
    expect(Object.getPrototypeOf(back.siblings[0].expires)).toBeNull();
  });

  test('a line without expires (written before field expiry) still reads', () => {
    const old = JSON.stringify({
      ns: 'shop',
      key: 'k',
      inc: 'i',
      rev: 1,
      vv: { r: 1 },
      siblings: [{ fields: { a: 1 }, dot: { replica: 'r', counter: 1 }, at: iso(T) }],
      updatedAt: iso(T),
    });
    expect(fromLine(old).siblings[0]).not.toHaveProperty('expires');
  });

  test('a malformed expires is refused', () => {
    const line = JSON.parse(toLine(state())) as { siblings: { expires: unknown }[] };
    for (const bad of [[1], { code: 'soon' }, { code: 1.5 }, null, { nofield: T }]) {
      line.siblings[0].expires = bad;
      expect(() => fromLine(JSON.stringify(line))).toThrow(ValidationError);
    }
  });

  test('keptAt leaves out the fields due by then, and a record with none left', () => {
    const s = state();
    expect(keptAt(s, T + 999)).toBe(s);
    expect(keptAt(s, T + 1000)!.siblings[0]).toEqual({
      fields: { qty: 1 },
      dot: { replica: 'local', counter: 1 },
      at: iso(T),
    });
    expect(keptAt(state({ siblings: [value({ code: 'x' }, { code: T })] }), T)).toBeUndefined();
    expect(keptAt(state({ deleted: true, siblings: [] }), T)).toBeUndefined();
  });

  test('a restore plan keeps the due instants of the fields left (not re-based)', () => {
    const snap = keptAt(fromLine(toLine(state())), T)!;
    const tomb = state({ deleted: true, siblings: [], rev: 9, vv: { local: 9 } });
    expect(restorePlan(tomb, snap, 'missing', 'local')!.siblings[0].expires).toEqual({ code: T + 1000 });
  });
});
