/**
 * The contract of `ChangeLog` (`src/core/ports.ts`): each namespace's changes numbered 1, 2, 3, ...
 * in the order appended, without gaps, each id at most once, kept at least the retention period,
 * and a read after a position whose next changes are gone is `CursorExpiredError`. Expiry follows
 * the log's clock, which the fixture lets the suite move.
 */
import { randomUUID } from 'node:crypto';
import type { ChangeDetail } from '../../../src/core/changes';
import { CursorExpiredError } from '../../../src/core/errors';
import type { ChangeLog } from '../../../src/core/ports';
import { uniqueNs } from '../harness';
import type { FakeClock } from './clock';

export interface ChangeLogFixture {
  readonly log: ChangeLog;
  /** The clock the log stamps and expires changes with. */
  readonly clock: FakeClock;
  /** How long the log keeps changes. */
  readonly retentionSeconds: number;
}

const change = (namespace: string, key: string, rev = 1, fields: Record<string, unknown> = { rev }): ChangeDetail => ({
  id: randomUUID().replaceAll('-', ''),
  namespace,
  key,
  rev,
  vv: { local: rev },
  change: 'put',
  fields: fields as ChangeDetail['fields'],
});

/** Reads `ns` a change at a time from `after`, giving the position each read hands back. */
async function positions(log: ChangeLog, ns: string, after?: number): Promise<number[]> {
  const out: number[] = [];
  let pos = after;
  for (;;) {
    const page = await log.read(ns, { ...(pos !== undefined ? { after: pos } : {}), limit: 1 });
    if (page.items.length === 0) return out;
    out.push(page.seq);
    pos = page.seq;
  }
}

export function changeLogContract(backend: string, make: () => ChangeLogFixture): void {
  describe(`ChangeLog contract (${backend})`, () => {
    let f: ChangeLogFixture;
    beforeEach(() => {
      f = make();
    });

    test('changes are numbered 1, 2, 3, ... in the order appended, across appends, without gaps', async () => {
      const ns = uniqueNs('changes-contract');
      const first = [change(ns, 'b'), change(ns, 'a'), change(ns, 'c')];
      const second = [change(ns, 'a', 2), change(ns, 'd')];
      expect(await f.log.append(first)).toEqual({ appended: 3, duplicates: 0, notDone: new Set() });
      expect(await f.log.append(second)).toEqual({ appended: 2, duplicates: 0, notDone: new Set() });
      expect(await f.log.read(ns, { limit: 100 })).toEqual({ items: [...first, ...second], seq: 5 });
      expect(await f.log.read(ns, { after: 2, limit: 2 })).toEqual({ items: [first[2], second[0]], seq: 4 });
      expect(await f.log.read(ns, { after: 5, limit: 100 })).toEqual({ items: [], seq: 5 });
      expect(await positions(f.log, ns)).toEqual([1, 2, 3, 4, 5]);
    });

    test('each namespace has its own numbering, whatever order their changes come in', async () => {
      const a = uniqueNs('changes-contract');
      const b = uniqueNs('changes-contract');
      const changes = [change(a, 'k1'), change(b, 'k1'), change(a, 'k2'), change(b, 'k2'), change(b, 'k3')];
      expect((await f.log.append(changes)).appended).toBe(5);
      expect(await f.log.read(a, { limit: 100 })).toEqual({ items: [changes[0], changes[2]], seq: 2 });
      expect(await f.log.read(b, { limit: 100 })).toEqual({ items: [changes[1], changes[3], changes[4]], seq: 3 });
    });

    test('a change whose id is already in the log is skipped, in a later append or the same one', async () => {
      const ns = uniqueNs('changes-contract');
      const [x, y, z] = [change(ns, 'x'), change(ns, 'y'), change(ns, 'z')];
      await f.log.append([x, y]);
      expect(await f.log.append([y, z, x, z])).toEqual({ appended: 1, duplicates: 3, notDone: new Set() });
      expect(await f.log.read(ns, { limit: 100 })).toEqual({ items: [x, y, z], seq: 3 });
    });

    test('a read with a prefix gives only keys that start with it, and its position passes the others', async () => {
      const ns = uniqueNs('changes-contract');
      const changes = [change(ns, 'cart/1'), change(ns, 'user/1'), change(ns, 'cart/2'), change(ns, 'user/2')];
      await f.log.append(changes);
      expect(await f.log.read(ns, { prefix: 'cart/', limit: 100 })).toEqual({
        items: [changes[0], changes[2]],
        seq: 4,
      });
      expect(await f.log.read(ns, { prefix: 'user/', after: 2, limit: 100 })).toEqual({
        items: [changes[3]],
        seq: 4,
      });
    });

    test('a change too big for the log is kept without its fields, marked fieldsOmitted', async () => {
      const ns = uniqueNs('changes-contract');
      const big = change(ns, 'big', 1, { blob: 'x'.repeat(500 * 1024) });
      const after = change(ns, 'after');
      expect((await f.log.append([big, after])).appended).toBe(2);
      const { fields: _f, ...rest } = big;
      expect(await f.log.read(ns, { limit: 100 })).toEqual({
        items: [{ ...rest, fieldsOmitted: true }, after],
        seq: 2,
      });
    });

    test('a change the store refuses for itself takes the substitute in its place; without one it and the rest of its namespace are not done', async () => {
      const ns = uniqueNs('changes-contract');
      const other = uniqueNs('changes-contract');
      // A key no store item can hold (DynamoDB: 400 KB per item), even without fields.
      const refused = () => change(ns, 'k'.repeat(500 * 1024));
      const [before, bad, next, elsewhere] = [change(ns, 'a'), refused(), change(ns, 'b'), change(other, 'c')];
      const outcome = await f.log.append([before, bad, next, elsewhere]);
      expect(outcome.error).toBeDefined();
      expect([...outcome.notDone]).toEqual(expect.arrayContaining([bad.id, next.id]));
      expect(outcome.notDone.has(elsewhere.id)).toBe(false);
      // What of the namespace went in is what was given before the refused change, without a gap.
      const kept = [before].filter((c) => !outcome.notDone.has(c.id));
      expect(outcome.appended).toBe(kept.length + 1);
      expect(await f.log.read(ns, { limit: 100 })).toEqual({ items: kept, seq: kept.length });
      expect(await f.log.read(other, { limit: 100 })).toEqual({ items: [elsewhere], seq: 1 });

      const { fields: _f, ...shape } = bad;
      const placeholder: ChangeDetail = { ...shape, key: 'placeholder', fieldsOmitted: true };
      const seen: unknown[] = [];
      const retried = await f.log.append([before, bad, next], async (c, error) => {
        seen.push(c.id, error);
        return placeholder;
      });
      expect(retried).toEqual({ appended: 3 - kept.length, duplicates: kept.length, notDone: new Set() });
      expect(seen).toEqual([bad.id, expect.anything()]);
      expect(await f.log.read(ns, { limit: 100 })).toEqual({ items: [before, placeholder, next], seq: 3 });
    });

    test('changes are kept the retention period; after it a cursor before them is expired, the head is not', async () => {
      const ns = uniqueNs('changes-contract');
      const old = [change(ns, 'a'), change(ns, 'b'), change(ns, 'c')];
      await f.log.append(old);
      f.clock.advance(f.retentionSeconds - 1);
      expect(await f.log.read(ns, { after: 1, limit: 100 })).toEqual({ items: old.slice(1), seq: 3 });

      f.clock.advance(2);
      await expect(f.log.read(ns, { after: 1, limit: 100 })).rejects.toBeInstanceOf(CursorExpiredError);
      expect(await f.log.read(ns, { after: 3, limit: 100 })).toEqual({ items: [], seq: 3 });
      expect((await f.log.read(ns, { limit: 100 })).items).toEqual([]);

      const fresh = change(ns, 'd');
      await f.log.append([fresh]);
      expect(await f.log.read(ns, { limit: 100 })).toEqual({ items: [fresh], seq: 4 });
      expect(await f.log.read(ns, { after: 3, limit: 100 })).toEqual({ items: [fresh], seq: 4 });
      await expect(f.log.read(ns, { after: 0, limit: 100 })).rejects.toBeInstanceOf(CursorExpiredError);
    });
  });
}
