/**
 * The pure parts of point-in-time snapshots (`src/core/snapshot-cut.ts`): which write's old image
 * is a key's state at a cut, the stamp a write commits with, and the writes still in flight.
 */
import fc from 'fast-check';
import { WritesInFlight, firstAfterCut, stampAfter, stampedAfter } from '../../src/core/snapshot-cut';
import type { RecordState } from '../../src/core/record-view';

const iso = fc
  .integer({ min: Date.parse('2020-01-01T00:00:00.000Z'), max: Date.parse('2040-01-01T00:00:00.000Z') })
  .map((ms) => new Date(ms).toISOString());

describe('firstAfterCut', () => {
  test('of any history of one key with stamps that never go down, exactly one write is first after the cut when the last is after it, and its old image is the last state at or before the cut', () => {
    fc.assert(
      fc.property(fc.array(iso, { minLength: 1, maxLength: 20 }), iso, fc.boolean(), (raw, cut, removed) => {
        const stamps = [...raw].sort();
        // States: undefined (no item) then one per write; a removal at the end leaves no item.
        const states: (string | undefined)[] = [undefined, ...stamps, ...(removed ? [undefined] : [])];
        const firsts: number[] = [];
        for (let i = 1; i < states.length; i++) if (firstAfterCut(states[i - 1], states[i], cut)) firsts.push(i);
        const anyAfter = stamps.some((s) => s > cut) || removed;
        if (!anyAfter) return expect(firsts).toEqual([]);
        expect(firsts).toHaveLength(1);
        // The write's old image is the state at the cut.
        const old = states[firsts[0] - 1];
        const atCut = stamps.filter((s) => s <= cut).pop();
        expect(old).toBe(atCut);
      }),
    );
  });

  test('at the edges: equal to the cut is before it; no item before and after is no write', () => {
    const cut = '2026-12-07T10:00:00.000Z';
    expect(firstAfterCut(cut, '2026-12-07T10:00:00.001Z', cut)).toBe(true);
    expect(firstAfterCut('2026-12-07T09:59:59.999Z', cut, cut)).toBe(false);
    expect(firstAfterCut(undefined, '2026-12-07T10:00:00.001Z', cut)).toBe(true);
    expect(firstAfterCut(cut, undefined, cut)).toBe(true);
    expect(firstAfterCut(undefined, undefined, cut)).toBe(false);
    expect(firstAfterCut('2026-12-07T10:00:00.001Z', '2026-12-07T10:00:00.002Z', cut)).toBe(false);
  });
});

describe('stamps never go down', () => {
  test('stampAfter is the newest of its own and the stored ones', () => {
    fc.assert(
      fc.property(iso, fc.array(fc.option(iso, { nil: undefined })), (own, stored) => {
        const s = stampAfter(own, stored);
        expect(s >= own).toBe(true);
        for (const t of stored) if (t !== undefined) expect(s >= t).toBe(true);
        expect([own, ...stored]).toContain(s);
      }),
    );
  });

  test('stampedAfter keeps a later stamp and lifts an earlier one to the stored', () => {
    const state = (updatedAt: string) => ({ state: { updatedAt } as RecordState, created: false });
    expect(
      stampedAfter(state('2026-01-02T00:00:00.000Z'), { updatedAt: '2026-01-01T00:00:00.000Z' } as RecordState).state
        .updatedAt,
    ).toBe('2026-01-02T00:00:00.000Z');
    expect(
      stampedAfter(state('2026-01-01T00:00:00.000Z'), { updatedAt: '2026-01-02T00:00:00.000Z' } as RecordState).state
        .updatedAt,
    ).toBe('2026-01-02T00:00:00.000Z');
    expect(stampedAfter(state('2026-01-01T00:00:00.000Z'), undefined).state.updatedAt).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('WritesInFlight', () => {
  test('quiet(cut) resolves once every write stamped at or before the cut has ended, not before; later writes do not hold it', async () => {
    const f = new WritesInFlight();
    const cut = '2026-12-07T10:00:00.000Z';
    const endEarly = f.begin('2026-12-07T09:59:59.000Z');
    const endAtCut = f.begin(cut);
    const endLater = f.begin('2026-12-07T10:00:01.000Z');
    let quiet = false;
    const p = f.quiet(cut).then(() => {
      quiet = true;
    });
    endEarly();
    await Promise.resolve();
    expect(quiet).toBe(false);
    endAtCut();
    endAtCut(); // ending twice is harmless
    await p;
    expect(quiet).toBe(true);
    expect(f.size).toBe(1);
    endLater();
    expect(f.size).toBe(0);
    await f.quiet(cut); // nothing in flight: at once
  });

  test('any interleaving of begins and ends: quiet resolves exactly when the last write at or before the cut ends', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(iso, fc.nat()), { minLength: 1, maxLength: 12 }), iso, async (writes, cut) => {
        const f = new WritesInFlight();
        const ends = writes.map(([stamp]) => ({ stamp, end: f.begin(stamp) }));
        let quiet = false;
        const p = f.quiet(cut).then(() => {
          quiet = true;
        });
        const order = [...ends.keys()].sort((a, b) => writes[a][1] - writes[b][1] || a - b);
        let left = ends.filter((e) => e.stamp <= cut).length;
        for (const i of order) {
          await Promise.resolve();
          expect(quiet).toBe(left === 0);
          ends[i].end();
          if (ends[i].stamp <= cut) left--;
          await Promise.resolve();
          await Promise.resolve();
        }
        await p;
        expect(quiet).toBe(true);
      }),
    );
  });
});
