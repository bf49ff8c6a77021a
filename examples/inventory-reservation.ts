/**
 * Inventory reservation as a saga.
 *
 * An order reserves several items, one saga step per item: each step takes `n` from the item's
 * stock only while at least `n` is left (`require: stock >= n`), and its compensation puts the
 * `n` back. Either every item of the order is reserved, or none is: when a step fails, Vesta runs
 * the compensations of the steps already done, and the saga ends COMPENSATED.
 *
 * Run: `npx tsx examples/inventory-reservation.ts` (VESTA_URL: the API, default the local stack).
 * Exits 1 when an outcome is not the one expected.
 */
import { randomUUID } from 'node:crypto';
import { connect, type Saga, type SagaInput } from '../src/client';

const vesta = connect({ url: process.env.VESTA_URL ?? 'http://127.0.0.1:8080' });
// A namespace of its own, so that runs never see each other's records.
const ns = `inventory-${randomUUID().slice(0, 8)}`;

type Order = Record<string, number>; // item -> quantity

function check(ok: boolean, what: string): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) process.exitCode = 1;
}

/** One step per item: take `n` while at least `n` is in stock; the compensation gives it back. */
function reservation(orderId: string, order: Order): SagaInput {
  return {
    id: `${orderId}-${randomUUID().slice(0, 8)}`,
    namespace: ns,
    steps: Object.entries(order).map(([item, n]) => ({
      name: `reserve-${item}`,
      action: {
        op: 'patch',
        key: `item/${item}`,
        increment: { stock: -n },
        require: [{ field: 'stock', op: '>=', value: n }],
      },
      compensation: { op: 'patch', key: `item/${item}`, increment: { stock: n } },
    })),
  };
}

/** Starts the saga and prints every change of its status until it ends. */
async function place(orderId: string, order: Order): Promise<Saga> {
  console.log(
    `\n${orderId}: reserve ${Object.entries(order)
      .map(([item, n]) => `${n} ${item}`)
      .join(', ')}`,
  );
  return vesta.sagas.run(reservation(orderId, order), {
    intervalMs: 200,
    timeoutMs: 30_000,
    onProgress: (s) =>
      console.log(`  ${s.status.padEnd(11)} ${s.steps.map((st) => `${st.name}=${st.status}`).join(' ')}`),
  });
}

async function stock(): Promise<Order> {
  const out: Order = {};
  for await (const item of vesta.listAll(ns, { prefix: 'item/', fields: true }))
    out[item.key.slice('item/'.length)] = Number(item.fields?.stock);
  return out;
}

async function main(): Promise<void> {
  console.log(`namespace ${ns} at ${vesta.url}`);
  for (const [item, n] of Object.entries({ apple: 10, pear: 5, plum: 2 }))
    await vesta.put(ns, `item/${item}`, { stock: n });
  const initial = await stock();
  console.log('stock', initial);

  // 1. Enough of everything: every step is DONE.
  const first = await place('order-1', { apple: 3, pear: 2, plum: 1 });
  check(first.status === 'SUCCEEDED', `order-1 ${first.status}`);
  const afterFirst = await stock();
  console.log('stock', afterFirst);
  check(
    afterFirst.apple === 7 && afterFirst.pear === 3 && afterFirst.plum === 1,
    'order-1 took 3 apple, 2 pear, 1 plum',
  );

  // 2. Only 1 plum is left: the last step fails, and the apples and pears already taken go back.
  const second = await place('order-2', { apple: 2, pear: 1, plum: 5 });
  check(second.status === 'COMPENSATED', `order-2 ${second.status}`);
  const failed = second.steps.find((s) => s.status === 'FAILED');
  console.log(`  failed step: ${failed?.name}`, JSON.stringify(failed?.error));
  check(failed?.name === 'reserve-plum', 'order-2 failed on reserve-plum (not enough stock)');
  check(
    second.steps.filter((s) => s.name !== 'reserve-plum').every((s) => s.status === 'COMPENSATED'),
    'order-2 gave back what it had reserved',
  );
  const afterSecond = await stock();
  console.log('stock', afterSecond);
  check(JSON.stringify(afterSecond) === JSON.stringify(afterFirst), 'stock after order-2 is what it was before it');

  console.log(process.exitCode ? '\ninventory-reservation: FAILED' : '\ninventory-reservation: all checks passed');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
