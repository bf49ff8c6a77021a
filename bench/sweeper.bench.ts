/**
 * The field sweeper, run by `npm run bench` (records.bench.ts) on the same DynamoDB Local: one
 * run over tables of its own holding `BENCH_SWEEPER_PLAIN` records without expiry (default 20,000)
 * and, in turn, 100 and 1,000 records with one expired field each. Reports items read per removed
 * field (the sweeper reads the `byFieldExpiry` index and each record found there, never the rest
 * of the table, so this stays at 2 whatever the table's size), DynamoDB requests and time per
 * field.
 */
import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Item, toItem } from '../src/adapters/dynamodb/codec';
import { RECORDS_TABLE } from '../src/adapters/dynamodb/table-defs';
import { wireFieldSweeper } from '../src/api/wiring';
import type { Clock } from '../src/core/ports';
import type { RecordState } from '../src/core/record-view';
import { ensureTables } from '../src/local/bootstrap-tables';
import { localClient } from '../src/local/dynamodb-local';
import { RequestCounter } from './lib';

export interface SweeperRow {
  readonly plainRecords: number;
  readonly dueFields: number;
  readonly fieldsRemoved: number;
  readonly itemsRead: number;
  readonly itemsReadPerField: number;
  readonly requests: number;
  readonly ms: number;
  readonly msPerField: number;
}

export interface SweeperBenchResult {
  readonly rows: SweeperRow[];
  readonly text: string;
}

const NS = 'bench-sweep';
const T0 = Date.parse('2030-01-01T00:00:00.000Z');

/** A record of one value, with `expires` when given. */
function item(key: string, expires?: Record<string, number>): Item {
  const at = new Date(T0).toISOString();
  const state: RecordState = {
    namespace: NS,
    key,
    inc: 'bench',
    rev: 1,
    vv: { local: 1 },
    siblings: [
      { fields: { v: 1, gone: 'x' }, ...(expires ? { expires } : {}), dot: { replica: 'local', counter: 1 }, at },
    ],
    deleted: false,
    updatedAt: at,
  };
  return toItem(state);
}

async function writeAll(client: DynamoDBClient, table: string, items: Item[]): Promise<void> {
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < items.length; i += 25) {
    const batch = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    pending.push(client.send(new BatchWriteItemCommand({ RequestItems: { [table]: batch } })));
    if (pending.length >= 8) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}

export async function sweeperBench(endpoint: string, plain: number): Promise<SweeperBenchResult> {
  const client = localClient(endpoint);
  const requests = new RequestCounter();
  try {
    const tables = await ensureTables(client, 'vesta-bench-sweep');
    const table = tables[RECORDS_TABLE.envVar];
    let t = T0;
    const clock: Clock = { now: () => new Date(t) };
    const sweeperClient = localClient(endpoint);
    requests.attach(sweeperClient);
    const { sweeper } = wireFieldSweeper({ client: sweeperClient, clock, env: { ...tables, VESTA_REPLICA: 'local' } });
    await writeAll(
      client,
      table,
      Array.from({ length: plain }, (_, i) => item(`plain-${i}`)),
    );
    const rows: SweeperRow[] = [];
    for (const due of [100, 1000]) {
      t += 60_000;
      await writeAll(
        client,
        table,
        Array.from({ length: due }, (_, i) => item(`due-${t}-${i}`, { gone: t - 1000 })),
      );
      const before = requests.total;
      const started = performance.now();
      const r = await sweeper.run();
      const ms = performance.now() - started;
      rows.push({
        plainRecords: plain,
        dueFields: due,
        fieldsRemoved: r.fieldsRemoved,
        itemsRead: r.itemsRead,
        itemsReadPerField: r.itemsRead / Math.max(1, r.fieldsRemoved),
        requests: requests.total - before,
        ms,
        msPerField: ms / Math.max(1, r.fieldsRemoved),
      });
    }
    sweeperClient.destroy();
    const text = [
      `Field sweeper (one run; ${plain.toLocaleString('en-US')} records without expiry in the table):`,
      '  due fields  removed  items read  read/field  requests  ms total  ms/field',
      ...rows.map(
        (r) =>
          `  ${String(r.dueFields).padStart(10)}  ${String(r.fieldsRemoved).padStart(7)}  ${String(r.itemsRead).padStart(10)}  ${r.itemsReadPerField.toFixed(2).padStart(10)}  ${String(r.requests).padStart(8)}  ${r.ms.toFixed(0).padStart(8)}  ${r.msPerField.toFixed(2).padStart(8)}`,
      ),
    ].join('\n');
    return { rows, text };
  } finally {
    client.destroy();
  }
}
