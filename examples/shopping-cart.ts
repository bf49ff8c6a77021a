/**
 * A shopping cart in siblings mode.
 *
 * The cart's namespace keeps concurrent writes side by side (`conflicts: 'siblings'`) instead of
 * letting the last one win. Two devices add items at the same time without having seen each
 * other's cart: the record then has two siblings and a GET answers `300 Multiple Choices`. The
 * next `update` merges them (every item of either cart, the larger quantity of each) and writes
 * one cart again. A watch on the namespace prints each change of the cart as it happens.
 *
 * Run: `npx tsx examples/shopping-cart.ts` (VESTA_URL: the API, default the local stack).
 * Exits 1 when an outcome is not the one expected.
 */
import { randomUUID } from 'node:crypto';
import {
  connect,
  hasSiblings,
  recordPath,
  type Change,
  type Fields,
  type SiblingValue,
  type SiblingsRecord,
  type VestaRecord,
} from '../src/client';

const vesta = connect({ url: process.env.VESTA_URL ?? 'http://127.0.0.1:8080' });
const ns = `cart-${randomUUID().slice(0, 8)}`;
const key = 'cart/alice';

type Items = Record<string, number>; // sku -> quantity

function check(ok: boolean, what: string): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) process.exitCode = 1;
}

/** Every item of every sibling, each with the largest quantity any sibling has. */
function mergeCarts(siblings: readonly SiblingValue[]): Fields {
  const items: Items = {};
  for (const s of siblings) {
    for (const [sku, qty] of Object.entries(s.fields.items as Items)) items[sku] = Math.max(items[sku] ?? 0, qty);
  }
  return { items };
}

function sameItems(a: Items, b: Items): boolean {
  return Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([sku, qty]) => a[sku] === qty);
}

function describe(c: Change): string {
  const carts = c.siblings
    ? c.siblings.map((s) => JSON.stringify(s.fields.items)).join(' | ')
    : JSON.stringify(c.fields?.items);
  return `rev ${c.rev} ${c.change}${c.siblings ? ` (${c.siblings.length} siblings)` : ''}: ${carts}`;
}

async function main(): Promise<void> {
  console.log(`namespace ${ns} at ${vesta.url}`);
  await vesta.setNamespace(ns, { conflicts: 'siblings' });

  // Watch the cart from now on; stop after the three changes this program makes.
  const stop = new AbortController();
  const seen: Change[] = [];
  const stream = vesta.watch(ns, { prefix: 'cart/', after: 'now', waitSeconds: 2, signal: stop.signal });
  // Fix "now" before writing, so that every write below is seen.
  await stream.start();
  const watching = (async () => {
    for await (const c of stream) {
      seen.push(c);
      console.log(`  watch: ${describe(c)}`);
      if (seen.length === 3) stop.abort();
    }
  })();
  const giveUp = setTimeout(() => stop.abort(), 20_000);
  try {
    await changeTheCart();
    await watching;
    console.log(`watch saw ${seen.length} changes`);
    // Values per change: the phone's cart, then both carts side by side, then the merged one.
    check(
      seen.map((c) => c.siblings?.length ?? 1).join() === '1,2,1',
      "the watch saw both devices' writes and the merge",
    );
  } finally {
    stop.abort();
    clearTimeout(giveUp);
  }
  console.log(process.exitCode ? '\nshopping-cart: FAILED' : '\nshopping-cart: all checks passed');
}

/** The two devices' concurrent writes, then the merge. */
async function changeTheCart(): Promise<void> {
  // Two devices write at the same time, neither with an If-Match: both values are kept.
  const phone: Items = { apple: 2, pear: 1 };
  const laptop: Items = { apple: 1, plum: 3 };
  console.log('phone adds', phone, '| laptop adds', laptop);
  await Promise.all([vesta.put(ns, key, { items: phone }), vesta.put(ns, key, { items: laptop })]);

  // vesta.get() gives the record and its ETag; the raw request also shows the HTTP status.
  const raw = await vesta.request<VestaRecord | SiblingsRecord>('GET', recordPath(ns, key));
  const siblings = hasSiblings(raw.body) ? raw.body.siblings : [];
  console.log(`GET ${key}: ${raw.status}, ${siblings.length} siblings`);
  check(raw.status === 300 && siblings.length === 2, 'the concurrent carts are both kept (300 Multiple Choices)');

  // Merge the siblings and write one cart: update() sends the ETag that covers both.
  const merged = await vesta.update(ns, key, (cart) => cart, { resolveSiblings: mergeCarts });
  const items = merged?.record.fields.items as Items;
  console.log('merged cart', items);
  check(
    sameItems(items, { apple: 2, pear: 1, plum: 3 }),
    'the merged cart has every item, each at its largest quantity',
  );
  const after = await vesta.get(ns, key);
  check(!hasSiblings(after.record), 'the cart has one value again');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
