/**
 * A record of several Regions in a snapshot (`src/core/regions/snapshot-groups.ts`): each Region's
 * item rolled back to the cut by itself, and, in a whole-store export whose segments split a key's
 * items, exactly one segment writes the key.
 */
import fc from 'fast-check';
import { rolledToCut, writesGroup } from '../../src/core/regions/snapshot-groups';

test('each item rolls back by itself: kept at or before the cut, its pre-image after, absent when it had none', () => {
  const later = (x: string) => (x.endsWith('+') ? `pre:${x}` : undefined);
  const pre = new Map<string, string | null>([
    ['pre:b+', 'b'],
    ['pre:c+', null],
  ]);
  expect(rolledToCut(['a', 'b+', 'c+', null], later, pre)).toEqual(['a', 'b', null, null]);
  // An item stamped after the cut whose pre-image is not known is kept as read.
  expect(rolledToCut(['d+'], later, pre)).toEqual(['d+']);
});

test('a namespace segment writes every record some Region had at the cut; none when no Region had it', () => {
  expect(writesGroup([null, 'b', null])).toBe(true);
  expect(writesGroup([null, null, null])).toBe(false);
  expect(writesGroup([null, null, null], [0, 1, 2])).toBe(false);
});

test("whatever segments a key's Region items fall into, exactly one segment writes the key", () => {
  fc.assert(
    fc.property(
      fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 5, maxLength: 5 }),
      (present, segmentOf) => {
        const atCut = present.map((p, i) => (p ? `item${i}` : null));
        // A segment scans the Regions whose items it holds (every stored item is scanned once).
        const writers = [0, 1, 2, 3].filter((seg) => {
          const scanned = atCut.flatMap((_, i) => (segmentOf[i] === seg ? [i] : []));
          return scanned.length > 0 && writesGroup(atCut, scanned);
        });
        expect(writers).toHaveLength(present.some((p) => p) ? 1 : 0);
      },
    ),
  );
});
