/**
 * The contract of `EventBus` (`src/core/ports.ts`): every change published reaches the bus's
 * consumers once, with the `vesta` envelope, and `publish` resolves to the ids of the changes
 * that could not be published instead of throwing. Size follows EventBridge's limit on every
 * adapter (`src/adapters/events/entry.ts`): a change whose whole detail would not fit in an entry
 * smaller than 256 KB goes without its fields (`fieldsOmitted`), and one that does not fit even
 * then is refused, by the local bus exactly as by EventBridge.
 */
import { randomUUID } from 'node:crypto';
import type { ChangeDetail } from '../../../src/core/changes';
import type { EventBus } from '../../../src/core/ports';

/** An event as a consumer of the bus gets it. */
export interface DeliveredEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: ChangeDetail;
}

export interface EventBusFixture {
  readonly bus: EventBus;
  /** The events delivered so far, as the bus's consumers got them. */
  delivered(): readonly DeliveredEvent[];
}

const KB = 1024;
/** EventBridge's limit: an entry must be smaller than this. */
const LIMIT = 256 * KB;

const change = (over: Partial<ChangeDetail> = {}): ChangeDetail => ({
  id: randomUUID().replaceAll('-', ''),
  namespace: 'shop',
  key: 'cart/1',
  rev: 1,
  vv: { local: 1 },
  change: 'put',
  fields: { total: 12.5, items: ['é', '😀'], nested: { ok: true } },
  ...over,
});

/** EventBridge's count of an event entry carrying `detail`. */
const entryBytes = (detail: unknown) =>
  Buffer.byteLength('vesta') + Buffer.byteLength('vesta.StateChanged') + Buffer.byteLength(JSON.stringify(detail));

/**
 * A change too big to go whole, whose entry without fields (as sent: with `fieldsOmitted`) is
 * exactly `bytes` long, made so by its key.
 */
function strippedOfSize(bytes: number): ChangeDetail {
  const base = change({ key: '', fields: { blob: 'x'.repeat(LIMIT) } });
  const { fields: _f, ...rest } = base;
  return { ...base, key: 'k'.repeat(bytes - entryBytes({ ...rest, fieldsOmitted: true })) };
}

export function eventBusContract(backend: string, make: () => EventBusFixture): void {
  describe(`EventBus contract (${backend})`, () => {
    let f: EventBusFixture;
    beforeEach(() => {
      f = make();
    });

    test('every change published is delivered once, with the vesta envelope and its detail as given', async () => {
      const changes = [change(), change({ key: 'cart/2', rev: 3, change: 'patch' }), change({ change: 'delete' })];
      const { fields: _f, ...deleted } = changes[2];
      const failed = await f.bus.publish([changes[0], changes[1], deleted]);
      expect([...failed]).toEqual([]);
      const got = f.delivered();
      expect(got.map((e) => [e.source, e.detailType])).toEqual(Array(3).fill(['vesta', 'vesta.StateChanged']));
      expect(got.map((e) => e.detail).sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(
        [changes[0], changes[1], deleted].sort((a, b) => (a.id < b.id ? -1 : 1)),
      );
    });

    test('publishing nothing delivers nothing and fails nothing', async () => {
      expect([...(await f.bus.publish([]))]).toEqual([]);
      expect(f.delivered()).toEqual([]);
    });

    test('a change too big for one event goes without its fields and siblings, marked fieldsOmitted', async () => {
      const big = change({
        fields: { blob: 'x'.repeat(300 * KB) },
        siblings: [{ fields: { a: 1 }, updatedAt: '2026-11-22T10:00:00.000Z' }],
      });
      expect([...(await f.bus.publish([big]))]).toEqual([]);
      const { fields: _f, siblings: _s, ...rest } = big;
      expect(f.delivered().map((e) => e.detail)).toEqual([{ ...rest, fieldsOmitted: true }]);
    });

    test('an entry not smaller than 256 KB even without fields is refused: its id is returned, the others go', async () => {
      const fits = strippedOfSize(LIMIT - 1);
      const over = strippedOfSize(LIMIT);
      const small = change();
      const failed = await f.bus.publish([fits, over, small]);
      expect([...failed]).toEqual([over.id]);
      const byId = new Map(f.delivered().map((e) => [e.detail.id, e.detail]));
      expect([...byId.keys()].sort()).toEqual([fits.id, small.id].sort());
      expect(byId.get(fits.id)).toMatchObject({ key: fits.key, fieldsOmitted: true });
      expect(byId.get(fits.id)).not.toHaveProperty('fields');
    }, 20_000);
  });
}
