import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CHANGES_TABLE, DEAD_LETTERS_TABLE } from '../src/adapters/dynamodb/table-defs';
import { type CountingProxy, type Recorded, isWrite } from './ddb-proxy';
import { type Call, expectStatus } from './gateway';
import { FIELDS, recordsOf } from './record-ops';
import { type Unsized, type WriteCost, itemSize, tablesOf, wcuOf, writeCosts } from './wcu';

import { waitQuiet } from './http-stack';

const COST_OPS = Number(process.env.BENCH_COST_OPS ?? 100);
const LOAD_OPS = Number(process.env.BENCH_LOAD_OPS ?? 2000);
const LOAD_CLIENTS = 32;
const LOAD_KEYS = 1000;
const LOAD_NAMESPACES = 4;

export interface CostPhase {
  readonly phase: string;
  /** Writes answered 2xx (each a change). */
  readonly committed: number;
  readonly failed: number;
  readonly perOp: {
    /** Every DynamoDB request of the API (reads too). */
    readonly apiRequests: number;
    readonly apiWcu: number;
    readonly feedWriteRequests: number;
    readonly feedReadRequests: number;
    readonly feedWcu: number;
  };
  /** Stream requests (GetRecords, GetShardIterator, ...) over the phase, polling included. */
  readonly streamRequests: number;
  readonly byTarget: Record<string, number>;
}

/** What the recorded requests of a phase cost, per committed write. */
async function costOf(
  phase: string,
  recorded: readonly Recorded[],
  committed: number,
  failed: number,
  feedTables: ReadonlySet<string>,
  sizeOf: (u: Unsized) => Promise<number | undefined>,
): Promise<CostPhase> {
  let apiRequests = 0;
  let feedWrites = 0;
  let feedReads = 0;
  let streamRequests = 0;
  const apiCosts: WriteCost[] = [];
  const feedCosts: WriteCost[] = [];
  const byTarget: Record<string, number> = {};
  for (const r of recorded) {
    byTarget[r.target] = (byTarget[r.target] ?? 0) + 1;
    if (!r.target.startsWith('DynamoDB_')) {
      streamRequests++;
      continue;
    }
    const feed = tablesOf(r).some((t) => feedTables.has(t));
    const write = isWrite(r.target);
    if (feed && write) feedWrites++;
    else if (feed) feedReads++;
    else apiRequests++;
    if (write) (feed ? feedCosts : apiCosts).push(...writeCosts(r));
  }
  const per = (n: number) => Number((n / Math.max(1, committed)).toFixed(3));
  return {
    phase,
    committed,
    failed,
    perOp: {
      apiRequests: per(apiRequests),
      apiWcu: per(await wcuOf(apiCosts, sizeOf)),
      feedWriteRequests: per(feedWrites),
      feedReadRequests: per(feedReads),
      feedWcu: per(await wcuOf(feedCosts, sizeOf)),
    },
    streamRequests,
    byTarget,
  };
}

export async function costPhases(
  call: Call,
  proxy: CountingProxy,
  client: DynamoDBClient,
  tables: Record<string, string>,
): Promise<CostPhase[]> {
  const feedTables = new Set([tables[CHANGES_TABLE.envVar], tables[DEAD_LETTERS_TABLE.envVar]]);
  const sizes = new Map<string, number | undefined>();
  const sizeOf = async (u: Unsized) => {
    const id = `${u.table} ${JSON.stringify(u.key)}`;
    if (!sizes.has(id)) {
      const out = await client.send(
        new GetItemCommand({ TableName: u.table, Key: u.key as never, ConsistentRead: true }),
      );
      sizes.set(id, out.Item ? itemSize(out.Item as never) : undefined);
    }
    return sizes.get(id);
  };
  const phases: CostPhase[] = [];
  const measure = async (phase: string, run: () => Promise<{ committed: number; failed: number }>) => {
    await waitQuiet(proxy);
    proxy.reset();
    proxy.record = true;
    const { committed, failed } = await run();
    await waitQuiet(proxy);
    proxy.record = false;
    phases.push(await costOf(phase, proxy.recorded, committed, failed, feedTables, sizeOf));
    proxy.reset();
  };

  const cost = recordsOf(call, 'cost');
  const keys = Array.from({ length: 10 }, (_, i) => `c${i}`);
  const etags: Record<string, string> = {};
  for (const k of keys) etags[k] = expectStatus(await cost('PUT', k, { fields: FIELDS })(), [201], 'seed').etag ?? '';
  const sequential = (body: (k: string, i: number) => [string, unknown, Record<string, string>]) => async () => {
    let committed = 0;
    let failed = 0;
    for (let i = 0; i < COST_OPS; i++) {
      const k = keys[i % keys.length];
      const [method, b, extra] = body(k, i);
      const reply = await cost(method, k, b, extra)();
      if (reply.status === 200 || reply.status === 201) {
        committed++;
        etags[k] = reply.etag ?? '';
      } else failed++;
    }
    return { committed, failed };
  };
  await measure(
    `PUT with If-Match, ${COST_OPS} sequential`,
    sequential((k, i) => ['PUT', { fields: { ...FIELDS, count: i } }, { 'if-match': etags[k] }]),
  );
  await measure(
    `PATCH increment, ${COST_OPS} sequential`,
    sequential(() => ['PATCH', { increment: { n: 1 } }, {}]),
  );

  // Under load: 32 clients, PUTs and PATCHes on keys seeded first.
  const loadKey = (n: number) => [`load${n % LOAD_NAMESPACES}`, `k${n}`] as const;
  let seeded = 0;
  await Promise.all(
    Array.from({ length: LOAD_CLIENTS }, async () => {
      while (seeded < LOAD_KEYS) {
        const [ns, k] = loadKey(seeded++);
        expectStatus(await recordsOf(call, ns)('PUT', k, { fields: FIELDS })(), [201], 'seed');
      }
    }),
  );
  await measure(
    `PUT and PATCH from ${LOAD_CLIENTS} clients, ${LOAD_OPS} on ${LOAD_KEYS} keys in ${LOAD_NAMESPACES} namespaces`,
    async () => {
      let started = 0;
      let committed = 0;
      let failed = 0;
      await Promise.all(
        Array.from({ length: LOAD_CLIENTS }, async () => {
          while (started < LOAD_OPS) {
            const i = started++;
            const [ns, k] = loadKey(Math.floor(Math.random() * LOAD_KEYS));
            const run =
              i % 2 === 0
                ? recordsOf(call, ns)('PUT', k, { fields: { ...FIELDS, count: i } })
                : recordsOf(call, ns)('PATCH', k, { increment: { n: 1 } });
            const reply = await run();
            if (reply.status === 200 || reply.status === 201) committed++;
            else failed++;
          }
        }),
      );
      return { committed, failed };
    },
  );
  return phases;
}

export function formatCost(phases: readonly CostPhase[]): string {
  const head = [
    'phase',
    'committed',
    'API req/op',
    'API WCU/op',
    'feed writes/op',
    'feed reads/op',
    'feed WCU/op',
    'stream req',
  ];
  const body = phases.map((p) => [
    p.phase,
    String(p.committed) + (p.failed ? ` (+${p.failed} failed)` : ''),
    p.perOp.apiRequests.toFixed(2),
    p.perOp.apiWcu.toFixed(2),
    p.perOp.feedWriteRequests.toFixed(2),
    p.perOp.feedReadRequests.toFixed(2),
    p.perOp.feedWcu.toFixed(2),
    String(p.streamRequests),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
