/**
 * The contract of `RecordScan` (`src/core/snapshot-ports.ts`): every record of a segment as
 * stored, tombstones included, decodable one by one. Records are written through the record store
 * of the same backend.
 */
import { MalformedItemError } from '../../../src/core/errors';
import type { RecordStore } from '../../../src/core/ports';
import type { RecordScan, StoredItem } from '../../../src/core/snapshot-ports';
import { uniqueNs } from '../harness';

export interface RecordScanFixture {
  readonly scan: RecordScan;
  readonly records: RecordStore;
}

async function all(pages: AsyncIterable<readonly StoredItem[]>): Promise<StoredItem[]> {
  const items: StoredItem[] = [];
  for await (const page of pages) items.push(...page);
  return items;
}

export function recordScanContract(backend: string, make: () => RecordScanFixture): void {
  describe(`RecordScan contract (${backend})`, () => {
    let f: RecordScanFixture;
    beforeEach(() => {
      f = make();
    });

    const write = (ns: string, key: string, n: number) => f.records.put(ns, key, { n }, { pre: {}, mode: 'reject' });

    test('a namespace reads as its records in key order, tombstones included', async () => {
      const ns = uniqueNs('scan-contract');
      for (const [i, key] of ['k2', 'k1', 'k3'].entries()) await write(ns, key, i);
      await f.records.delete(ns, 'k3', {});
      const items = await all(f.scan.pages(ns, 0, 1));
      expect(items.map((it) => f.scan.locate(it))).toEqual(['k1', 'k2', 'k3'].map((key) => ({ namespace: ns, key })));
      const states = items.map((it) => f.scan.decode(it));
      expect(states.map((s) => [s.key, s.deleted, s.rev])).toEqual([
        ['k1', false, 1],
        ['k2', false, 1],
        ['k3', true, 2],
      ]);
      expect(states[0].siblings.map((s) => s.fields)).toEqual([{ n: 1 }]);
    });

    test('the segments of a whole-store scan hold each record exactly once', async () => {
      const ns = uniqueNs('scan-contract');
      const keys = Array.from({ length: 12 }, (_, i) => `k${String(i).padStart(2, '0')}`);
      for (const [i, key] of keys.entries()) await write(ns, key, i);
      const total = 3;
      const seen: string[] = [];
      for (let segment = 0; segment < total; segment++) {
        for (const it of await all(f.scan.pages(null, segment, total))) {
          const at = f.scan.locate(it);
          if (at.namespace === ns) seen.push(f.scan.decode(it).key);
        }
      }
      expect(seen.sort()).toEqual(keys);
    });

    test('an item that holds no record fails to decode with MalformedItemError, and locating it never throws', () => {
      expect(() => f.scan.decode({})).toThrow(MalformedItemError);
      expect(f.scan.locate({})).toEqual({ namespace: null, key: null });
    });
  });
}
