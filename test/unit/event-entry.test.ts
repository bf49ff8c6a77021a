/**
 * EventBridge entry sizes as EventBridge counts them, and the local bus holding to the limit the
 * same way: a change whose entry would reach 256 KB goes without fields, listeners get what was
 * sent, and an entry still too big is refused.
 */
import { LocalEventBus } from '../../src/adapters/events/local-bus';
import { MAX_ENTRY_BYTES, entryOf, entrySize } from '../../src/adapters/events/entry';
import type { ChangeDetail } from '../../src/core/changes';

const change = (key: string, fields: Record<string, string>): ChangeDetail => ({
  id: '0'.repeat(32),
  namespace: 'shop',
  key,
  rev: 1,
  vv: { local: 1 },
  change: 'put',
  fields,
});

test('an entry counts the UTF-8 bytes of Source, DetailType, Detail and Resources, and 14 for Time', () => {
  expect(entrySize({ Source: 'vesta', DetailType: 'vesta.StateChanged', Detail: '{"a":"é"}' })).toBe(5 + 18 + 10);
  expect(entrySize({ Source: 'vesta', DetailType: 'd', Time: new Date(), Resources: ['arn:x', 'ü'] })).toBe(
    14 + 5 + 1 + 5 + 2,
  );
});

test('the whole detail goes while the entry is under 256 KB; from there on, fields are left out', () => {
  const envelope = entrySize({
    Source: 'vesta',
    DetailType: 'vesta.StateChanged',
    Detail: JSON.stringify(change('k', { v: '' })),
  });
  const fits = change('k', { v: 'x'.repeat(MAX_ENTRY_BYTES - envelope - 1) });
  expect(entrySize(entryOf(fits))).toBe(MAX_ENTRY_BYTES - 1);
  expect(JSON.parse(entryOf(fits).Detail!).fields).toEqual(fits.fields);
  const over = change('k', { v: 'x'.repeat(MAX_ENTRY_BYTES - envelope) });
  expect(JSON.parse(entryOf(over).Detail!)).toEqual({
    id: over.id,
    namespace: 'shop',
    key: 'k',
    rev: 1,
    vv: { local: 1 },
    change: 'put',
    fieldsOmitted: true,
  });
  // Multi-byte characters count as their UTF-8 bytes, not as characters.
  const wide = change('k', { v: 'é'.repeat(Math.ceil((MAX_ENTRY_BYTES - envelope) / 2)) });
  expect(JSON.parse(entryOf(wide).Detail!).fieldsOmitted).toBe(true);
});

test('the local bus hands listeners the detail as sent and refuses an entry that cannot get under the limit', async () => {
  const bus = new LocalEventBus();
  const seen: ChangeDetail[] = [];
  bus.subscribe((c) => seen.push(c));
  const big = change('big', { v: 'x'.repeat(MAX_ENTRY_BYTES) });
  const huge = { ...change('k'.repeat(MAX_ENTRY_BYTES), {}), id: '1'.repeat(32) };
  const refused = await bus.publish([change('small', { v: 'x' }), big, huge]);
  expect([...refused]).toEqual([huge.id]);
  expect(seen.map((c) => [c.key, c.fieldsOmitted ?? false])).toEqual([
    ['small', false],
    ['big', true],
  ]);
});
