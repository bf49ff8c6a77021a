/**
 * The field sweeper's rules across Regions (`src/core/regions/sweep.ts`), on items made by the
 * real regional writes: which Region sweeps (the same whatever order the items join in), what the
 * others do, the removal's new dots, and what two Regions cut off from each other make of one value
 * they both swept.
 */
import { changeFromStreamRecord } from '../../src/adapters/dynamodb/stream-records';
import { toRegionalItem } from '../../src/adapters/dynamodb/regional-codec';
import { type RegionalState, joinAll, settle } from '../../src/core/regions/merge';
import { SWEEP_TAKEOVER_MS, regionalSweepPlan, sweepingRegion } from '../../src/core/regions/sweep';
import { writeRegional } from '../../src/core/regions/writes';
import type { ConflictMode } from '../../src/core/wire/records';

const [US, EU, AP] = ['us-east-1', 'eu-west-1', 'ap-south-1'];
const T0 = Date.parse('2031-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function put(
  region: string,
  prev: RegionalState[],
  fields: Record<string, unknown>,
  expire: Record<string, number>,
  at: number,
  mode: ConflictMode,
) {
  return writeRegional(
    'ns',
    'k',
    joinAll(prev),
    undefined,
    { op: 'put', fields: fields as never, expire },
    {},
    { replica: region, now: iso(at), mode },
  ).item;
}

function sweepBy(region: string, prev: RegionalState[], at: number, mode: ConflictMode) {
  return writeRegional(
    'ns',
    'k',
    joinAll(prev),
    undefined,
    { op: 'expire-fields', nowMs: at },
    {},
    {
      replica: region,
      now: iso(at),
      mode,
    },
  );
}

test('the sweeping Region is the writer of the newest value with a due field, whatever order the items join in', () => {
  const us = put(US, [], { u: 1, tu: 'x' }, { tu: 60 }, T0, 'siblings');
  const eu = put(EU, [], { e: 1, te: 'y' }, { te: 60 }, T0 + 1000, 'siblings');
  const ap = put(AP, [], { a: 1 }, {}, T0 + 2000, 'siblings');
  const orders = [
    [us, eu, ap],
    [ap, eu, us],
    [eu, ap, us],
  ];
  for (const items of orders) {
    const joined = joinAll(items)!;
    expect(sweepingRegion(joined, 'siblings', T0 + 30_000)).toBeUndefined();
    // Both due: EU's value is the newer one with a due field (AP's newest has none).
    expect(sweepingRegion(joined, 'siblings', T0 + 61_000)).toBe(EU);
  }
  // In reject mode only the winner is shown: AP's value, with nothing due.
  expect(sweepingRegion(joinAll([us, eu, ap])!, 'reject', T0 + 61_000)).toBeUndefined();
});

test('the removal: new dots of the sweeping Region, one rev per rewritten value, an expire-fields change with expired', () => {
  const us = put(US, [], { u: 1, tu: 'x' }, { tu: 60 }, T0, 'siblings');
  const eu = put(EU, [], { e: 1, te: 'y' }, { te: 60 }, T0 + 1000, 'siblings');
  const w = sweepBy(EU, [us, eu], T0 + 61_000, 'siblings');
  expect(w.expired).toEqual(['tu', 'te']);
  expect(w.item.vv).toEqual({ [US]: 1, [EU]: 3 });
  expect(w.item.siblings.map((s) => [s.dot, s.fields])).toEqual([
    [{ replica: EU, counter: 2 }, { u: 1 }],
    [{ replica: EU, counter: 3 }, { e: 1 }],
  ]);
  // Joined with the other Regions' old items, the old copies are gone (the removal has seen them).
  const after = settle(joinAll([us, eu, w.item])!, 'siblings').state;
  expect(after.rev).toBe(4);
  expect(after.siblings.map((s) => s.fields)).toEqual([{ u: 1 }, { e: 1 }]);
  const item = toRegionalItem(w.item, EU, US, 'expire-fields', 'siblings', w.expired);
  expect(item.due).toBeUndefined();
  const change = changeFromStreamRecord({ eventName: 'MODIFY', dynamodb: { NewImage: item } });
  expect(change).toMatchObject({ namespace: 'ns', key: 'k', change: 'expire-fields', rev: 4, expired: ['tu', 'te'] });
});

test('another Region waits, takes over once the field is overdue, and drops its bound once the removal is joined', () => {
  const eu = put(EU, [], { e: 1, te: 'y' }, { te: 60 }, T0, 'siblings');
  // US writes a value of its own without seeing EU's context: its item holds EU's value too.
  const us = put(US, [eu], { u: 1 }, {}, T0 + 1000, 'siblings');
  expect(us.siblings).toHaveLength(2);
  const due = T0 + 60_000;
  const joined = joinAll([eu, us])!;
  expect(regionalSweepPlan(joined, us, due, 'siblings', US, due + 1000)).toEqual({ kind: 'wait', region: EU });
  expect(regionalSweepPlan(joined, eu, due, 'siblings', EU, due + 1000)).toEqual({ kind: 'write' });
  expect(regionalSweepPlan(joined, us, due, 'siblings', US, due + SWEEP_TAKEOVER_MS)).toEqual({ kind: 'write' });
  const removal = sweepBy(EU, [eu, us], due + 1000, 'siblings').item;
  const healed = joinAll([eu, us, removal])!;
  expect(regionalSweepPlan(healed, us, due, 'siblings', US, due + 2000)).toEqual({ kind: 'bound', due: undefined });
  expect(regionalSweepPlan(healed, removal, undefined, 'siblings', EU, due + 2000)).toEqual({ kind: 'none' });
});

test('cut off from each other past the take-over delay, two Regions both sweep one value: two equal siblings, or one winner and a loser', () => {
  for (const mode of ['siblings', 'reject'] as const) {
    const eu = put(EU, [], { e: 1, te: 'y' }, { te: 60 }, T0, mode);
    // An increment in the US: its item holds EU's value as it is, and the running total.
    const us = writeRegional(
      'ns',
      'k',
      eu,
      undefined,
      { op: 'patch', patch: { increment: { n: 2 } } },
      {},
      {
        replica: US,
        now: iso(T0 + 1000),
        mode,
      },
    ).item;
    const late = T0 + 60_000 + SWEEP_TAKEOVER_MS;
    expect(regionalSweepPlan(joinAll([eu, us])!, us, T0 + 60_000, mode, US, late)).toEqual({ kind: 'write' });
    const byEu = sweepBy(EU, [eu], late, mode);
    const byUs = sweepBy(US, [eu, us], late + 1000, mode);
    const healed = settle(joinAll([eu, us, byEu.item, byUs.item])!, mode);
    expect(healed.state.rev).toBe(4);
    // No field and no increment is lost, and nothing due is back: EU's value twice, without `te`.
    const values = [...healed.state.siblings, ...healed.losers].map((s) => s.fields);
    expect(values).toEqual([
      { e: 1, n: 2 },
      { e: 1, n: 2 },
    ]);
    // Siblings mode keeps both; reject mode shows one, the other a loser (a `conflict` change).
    expect(healed.state.siblings).toHaveLength(mode === 'siblings' ? 2 : 1);
    expect(healed.losers).toHaveLength(mode === 'siblings' ? 0 : 1);
  }
});
