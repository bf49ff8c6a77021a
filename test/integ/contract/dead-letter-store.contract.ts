/**
 * The contract of `DeadLetterStore` (`src/core/ports.ts`): one entry per source and item, payloads
 * kept exactly, listings newest first. Entries are set aside at times of the fixture's clock, far
 * after those of other suites, so the newest entries of a source are this suite's.
 */
import { ValidationError } from '../../../src/core/errors';
import type { DeadLetterInput } from '../../../src/core/dead-letters';
import type { DeadLetterStore } from '../../../src/core/ports';
import { uniqueNs } from '../harness';
import type { FakeClock } from './clock';

export interface DeadLetterStoreFixture {
  readonly store: DeadLetterStore;
  /** The clock entries are stamped with; the suite moves it forward. */
  readonly clock: FakeClock;
}

const input = (leaseId: string, message = 'boom'): DeadLetterInput => ({
  source: 'renewer',
  item: { leaseId },
  error: { name: 'Error', message },
  attempts: 3,
  payload: {
    leaseId,
    executionArn: 'arn:aws:states:us-east-1:000000000000:execution:m:e',
    n: 12.5,
    list: [1, 'two', null],
  },
});

export function deadLetterStoreContract(backend: string, make: () => DeadLetterStoreFixture): void {
  describe(`DeadLetterStore contract (${backend})`, () => {
    let f: DeadLetterStoreFixture;
    beforeEach(() => {
      f = make();
    });

    test('an item set aside is one entry with its payload as given; setting it aside again adds its attempts', async () => {
      const first = input(uniqueNs('lease'));
      const entry = await f.store.put(first);
      expect(entry).toMatchObject({
        source: 'renewer',
        item: first.item,
        error: first.error,
        attempts: 3,
        firstAt: f.clock.now().toISOString(),
        lastAt: f.clock.now().toISOString(),
        payload: first.payload,
      });
      const firstAt = entry.firstAt;
      f.clock.advance(60);
      const again = await f.store.put({ ...input(String(first.item.leaseId), 'boom again'), attempts: 1 });
      expect(again).toMatchObject({
        id: entry.id,
        attempts: 4,
        error: { name: 'Error', message: 'boom again' },
        firstAt,
        lastAt: f.clock.now().toISOString(),
      });
      expect(await f.store.get(entry.id)).toEqual(again);
    });

    test('listing is newest first, a page at a time, without payloads', async () => {
      f.clock.advance(3600);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        f.clock.advance(1);
        ids.push((await f.store.put(input(uniqueNs('lease')))).id);
      }
      const first = await f.store.list({ source: 'renewer', limit: 2 });
      expect(first.items.map((e) => e.id)).toEqual([ids[2], ids[1]]);
      expect(first.items.every((e) => e.payload === undefined)).toBe(true);
      expect(first.cursor).toEqual(expect.any(String));
      const second = await f.store.list({ source: 'renewer', limit: 1, cursor: first.cursor! });
      expect(second.items.map((e) => e.id)).toEqual([ids[0]]);
      await expect(f.store.list({ limit: 1, cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(ValidationError);
    });

    test('a removed entry is gone, and removing it again says so', async () => {
      const entry = await f.store.put(input(uniqueNs('lease')));
      expect(await f.store.remove(entry.id)).toBe(true);
      expect(await f.store.get(entry.id)).toBeUndefined();
      expect(await f.store.remove(entry.id)).toBe(false);
      expect(await f.store.get('not-an-id')).toBeUndefined();
    });
  });
}
