/**
 * The contract of `RestoreWriter` (`src/core/snapshot-ports.ts`): snapshot lines written back,
 * never over a newer record, each line counted once however often its part runs. Records are
 * read and written through the record store of the same backend.
 */
import type { RecordStore } from '../../../src/core/ports';
import type { RestoreWriter } from '../../../src/core/snapshot-ports';
import { type RestoreMode, type RestoreView, fromLine, toLine } from '../../../src/core/snapshots';
import { uniqueNs } from '../harness';

export interface RestoreWriterFixture {
  readonly writer: RestoreWriter;
  readonly records: RecordStore;
}

const PART = 'part-00000.jsonl.gz';

function restoreOf(target: string, mode: RestoreMode): RestoreView {
  return {
    id: `rest-${uniqueNs('contract')}`,
    snapshotId: 'snap-20260101T000000000Z-00000000',
    namespace: target,
    mode,
    status: 'RUNNING',
    written: 0,
    skipped: 0,
    startedAt: new Date().toISOString(),
    finishedAt: null,
  };
}

async function* linesOf(lines: readonly string[]): AsyncGenerator<string> {
  yield* lines;
}

export function restoreWriterContract(backend: string, make: () => RestoreWriterFixture): void {
  describe(`RestoreWriter contract (${backend})`, () => {
    let f: RestoreWriterFixture;
    beforeEach(() => {
      f = make();
    });

    /** Snapshot lines of records written now to a fresh namespace. */
    async function snapshotLines(fields: Record<string, number>): Promise<string[]> {
      const ns = uniqueNs('restore-src');
      const lines: string[] = [];
      for (const [key, n] of Object.entries(fields)) {
        await f.records.put(ns, key, { n }, { pre: {}, mode: 'reject' });
        lines.push(toLine((await f.records.get(ns, key))!));
      }
      return lines;
    }

    test('a part is written into an empty namespace; running it again writes nothing and counts the same', async () => {
      const lines = await snapshotLines({ a: 1, b: 2 });
      const target = uniqueNs('restore-dst');
      const r = restoreOf(target, 'newer');
      const counts = await f.writer.restorePart(r, PART, () => linesOf(lines), { into: target });
      expect(counts).toEqual({ written: 2, skipped: 0, setAside: 0 });
      expect((await f.records.get(target, 'b'))?.siblings.map((s) => s.fields)).toEqual([{ n: 2 }]);
      expect(await f.writer.restorePart(r, PART, () => linesOf(lines), { into: target })).toEqual(counts);
      expect((await f.records.get(target, 'b'))?.rev).toBe(1);
    });

    test('a line that cannot be parsed is set aside and counted; the lines after it are written', async () => {
      const lines = await snapshotLines({ a: 1 });
      const target = uniqueNs('restore-dst');
      const counts = await f.writer.restorePart(
        restoreOf(target, 'newer'),
        PART,
        () => linesOf(['{"not": "a record"}', ...lines]),
        { into: target },
      );
      expect(counts).toEqual({ written: 1, skipped: 0, setAside: 1 });
      expect(await f.records.get(target, 'a')).toBeDefined();
    });

    test('a record is never written over a newer one, nor over any in mode missing', async () => {
      const [line] = await snapshotLines({ a: 1 });
      const target = uniqueNs('restore-dst');
      await f.records.put(target, 'a', { n: 10 }, { pre: {}, mode: 'reject' });
      await f.records.put(target, 'a', { n: 11 }, { pre: {}, mode: 'reject' });
      const counts = await f.writer.restorePart(restoreOf(target, 'newer'), PART, () => linesOf([line]), {
        into: target,
      });
      expect(counts).toEqual({ written: 0, skipped: 1, setAside: 0 });
      expect(await f.writer.restoreOne(fromLine(line, target), 'missing')).toBe(false);
      expect((await f.records.get(target, 'a'))?.siblings.map((s) => s.fields)).toEqual([{ n: 11 }]);
    });

    test('one record written alone lands where none was', async () => {
      const [line] = await snapshotLines({ a: 7 });
      const target = uniqueNs('restore-dst');
      expect(await f.writer.restoreOne(fromLine(line, target), 'missing')).toBe(true);
      expect((await f.records.get(target, 'a'))?.siblings.map((s) => s.fields)).toEqual([{ n: 7 }]);
    });
  });
}
