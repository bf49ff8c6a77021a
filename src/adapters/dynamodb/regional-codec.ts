/**
 * Records-table items of a deployment in several Regions (docs/regions.md): each Region writes only
 * its own item of a key. The first Region's items are the single-Region items (partition `<ns>`),
 * so a deployment that grows a Region rewrites nothing; every other Region's items live in the
 * partition `<ns>@<region>` (`@` is never in a namespace), under the same sort key. A read takes
 * one `BatchGetItem` of the key's item in every Region's partition.
 *
 * On top of the single-Region layout (`codec.ts`), an item carries:
 * - `rg` (S): the Region that owns it; `cm` (S): the conflict mode of its last write, which reads
 *   settle by (that of the newest item);
 * - `pn` (M): every Region's counter totals the item knows, field (stored name) to Region to
 *   `{p, n}` (exact decimal text, S: a total may need more digits than N holds); `pf` (M): the
 *   totals a delete had seen, in the same form;
 * - `sn` (M): what the newest value had seen of the totals (each value in `sx` carries its own);
 * - `lz` (L of M, as `sx`): in `reject` mode, the losers the item's write replaced, which the change
 *   publisher turns into `conflict` changes; only the write that replaced them names them.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { ChangeKind } from '../../core/changes';
import { numberFromText, numericText } from '../../core/decimal';
import type { Contributions, PN } from '../../core/regions/counters';
import type { RegionalSibling, RegionalState } from '../../core/regions/merge';
import type { RegionalItem } from '../../core/regions/read';
import type { ConflictMode } from '../../core/wire/records';
import { newMap } from '../../core/values';
import { type Item, fromItem, siblingFrom, siblingTo, storedName, toItem } from './codec';

/** The partition of `ns` that `region` writes: `ns` itself for the deployment's first Region. */
export function regionPartition(ns: string, region: string, first: string): string {
  return region === first ? ns : `${ns}@${region}`;
}

export function regionalKeyOf(ns: string, key: string, region: string, first: string): Item {
  return { ns: { S: regionPartition(ns, region, first) }, k: { S: key } };
}

const nameFromStore = (stored: string) => (stored.charCodeAt(0) === 0 ? stored.slice(1) : stored);

function contributionsTo(c: Contributions): AttributeValue {
  const m = newMap<AttributeValue>();
  for (const f of Object.keys(c)) {
    const byRegion = newMap<AttributeValue>();
    for (const r of Object.keys(c[f])) {
      // Text, not N: a running total may need more than DynamoDB's 38 digits (1e20 up and down
      // again, then 1e-26), while the counter's value does not.
      byRegion[r] = { M: { p: { S: numericText(c[f][r].p) }, n: { S: numericText(c[f][r].n) } } };
    }
    m[storedName(f)] = { M: byRegion };
  }
  return { M: m };
}

function contributionsFrom(av: AttributeValue | undefined): Contributions | undefined {
  if (!av?.M) return undefined;
  const out = newMap<Record<string, PN>>();
  for (const stored of Object.keys(av.M)) {
    const byRegion = newMap<PN>();
    const regions = av.M[stored].M ?? {};
    for (const r of Object.keys(regions)) {
      const pn = regions[r].M ?? {};
      byRegion[r] = { p: numberFromText(pn.p?.S ?? pn.p?.N ?? '0'), n: numberFromText(pn.n?.S ?? pn.n?.N ?? '0') };
    }
    out[nameFromStore(stored)] = byRegion;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The item `region` stores for `state` (its own item), written by a write of kind `op` in `mode`;
 * `expired`, the fields an `expire-fields` write removed. Its `due` and `xshard` are those of the
 * values it holds, as in one Region: each Region's field sweeper finds its own items through the
 * `byFieldExpiry` index (`regional-sweeper.ts`). Throws what `toItem` throws.
 */
export function toRegionalItem(
  state: RegionalState,
  region: string,
  first: string,
  op: ChangeKind,
  mode: ConflictMode,
  expired?: readonly string[],
): Item {
  const item = toItem(state, op, expired);
  item.ns = { S: regionPartition(state.namespace, region, first) };
  item.rg = { S: region };
  item.cm = { S: mode };
  if (state.counters) item.pn = contributionsTo(state.counters);
  if (state.floor) item.pf = contributionsTo(state.floor);
  const values = state.siblings;
  const newest = values[values.length - 1];
  if (newest?.seen) item.sn = contributionsTo(newest.seen);
  values.slice(0, -1).forEach((s, i) => {
    const m = item.sx?.L?.[i]?.M;
    if (m && s.seen) m.sn = contributionsTo(s.seen);
  });
  if (state.buried) item.lz = { L: state.buried.map((s) => ({ M: siblingTo(s) })) };
  return item;
}

export type { RegionalItem } from '../../core/regions/read';

/** Decodes an item of any Region's partition of `ns`. Throws what `fromItem` throws. */
export function fromRegionalItem(item: Item, ns: string, first: string): RegionalItem {
  const base = fromItem(item);
  const seenOf = (m: Item | undefined) => contributionsFrom(m?.sn);
  const extra = item.sx?.L ?? [];
  const siblings: RegionalSibling[] = base.siblings.map((s, i) => {
    const seen = i < extra.length ? seenOf(extra[i].M) : seenOf(item);
    return seen ? { ...s, seen } : s;
  });
  const counters = contributionsFrom(item.pn);
  const floor = contributionsFrom(item.pf);
  const buried = (item.lz?.L ?? []).map((x) => siblingFrom(x.M ?? {}));
  const due = item.due?.N === undefined ? undefined : Number(item.due.N);
  return {
    region: item.rg?.S ?? first,
    ...(due !== undefined ? { due } : {}),
    mode: item.cm?.S === 'siblings' ? 'siblings' : 'reject',
    state: {
      ...base,
      namespace: ns,
      siblings,
      ...(counters ? { counters } : {}),
      ...(floor ? { floor } : {}),
      ...(buried.length > 0 ? { buried } : {}),
    },
  };
}
