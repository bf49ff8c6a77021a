/**
 * Transactions in a deployment of several Regions (docs/regions.md): every key's items are read in
 * every Region's partition (`BatchGetItem`, 100 items a request), the plan and its checks are the
 * single-Region ones (`src/core/txn.ts`) on the joined records, each written key's new item is
 * this Region's own (`src/core/regions/writes.ts`), and one `TransactWriteItems` puts them and
 * checks this Region's items of the other keys, each conditioned on the version read.
 *
 * Atomic and isolated in this Region, as DynamoDB transactions are in a global table: another
 * Region sees the transaction's items arrive one by one, and its concurrent writes to the same keys
 * are siblings, or winners and `conflict` losers, like any other concurrent write.
 */
import { type DynamoDBClient, type TransactWriteItem, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { backoffMs, sleep } from '../../core/backoff';
import { UnavailableError } from '../../core/errors';
import { etagOf } from '../../core/etag';
import type { Clock, TxnResult, WriteGuards } from '../../core/ports';
import type { Preconditions, WriteEnv } from '../../core/records';
import type { RecordState } from '../../core/record-view';
import { type RegionalState, joinAll, settle } from '../../core/regions/merge';
import { type RegionalOp, writeRegional } from '../../core/regions/writes';
import { parseEtag } from '../../core/etag';
import { planTxn, txnKeys } from '../../core/txn';
import type { ConflictMode, TxnBody } from '../../core/types';
import { cancellationReasons, conditionFailed, firstConditionFailure } from './cancellation';
import { guarded } from './errors';
import { Expr } from './expressions';
import { unchangedClause } from './record-clauses';
import type { RegionalItem } from './regional-codec';
import { regionalKeyOf, toRegionalItem } from './regional-codec';
import type { TxnExtra } from './transactions';
import type { DynamoLeaseStore } from './lease-store';
import { hasGuards, planGuards } from './write-guards';

/** Tries of a transaction that loses races with writers in this Region, before 503. */
export const MAX_REGIONAL_TXN_ATTEMPTS = 8;

interface KeyRead {
  readonly own: RegionalState | undefined;
  readonly joined: RegionalState | undefined;
  readonly visible: RecordState | undefined;
}

/** What a transaction needs of the regional records store (its options, `regional-records.ts`). */
export interface RegionalTxnContext {
  readonly opts: {
    readonly client: DynamoDBClient;
    readonly tableName: string;
    readonly self: string;
    readonly clock: Clock;
    readonly leases: DynamoLeaseStore;
    readonly controlTable: string;
    readonly resolve: (s: RecordState | undefined) => Promise<RecordState | undefined>;
  };
  readonly first: string;
  /** Every Region's item of each key (one request per 100 items). */
  itemsOf(ns: string, keys: readonly string[]): Promise<Map<string, RegionalItem[]>>;
}

const regionalOp = (op: TxnBody['ops'][number]): RegionalOp =>
  op.op === 'put'
    ? { op: 'put', fields: op.fields, expire: op.expire }
    : op.op === 'patch'
      ? { op: 'patch', patch: op }
      : { op: 'delete' };

/** Runs one transaction; see the file comment. Throws the plan's errors (409, 412, 413, 422), or 503. */
export async function transactRegional(
  ctx: RegionalTxnContext,
  ns: string,
  txn: TxnBody,
  mode: ConflictMode,
  guards?: WriteGuards,
  extra?: TxnExtra,
): Promise<TxnResult[]> {
  const { client, tableName, clock, controlTable, leases, self } = ctx.opts;
  const keys = txnKeys(txn);
  const written = txn.ops.filter((o) => o.op !== 'delete').map((o) => o.key);
  const guard = hasGuards(guards)
    ? await planGuards(controlTable, leases, ns, written, guards, clock.now().getTime())
    : undefined;
  for (let attempt = 0; attempt < MAX_REGIONAL_TXN_ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(backoffMs(attempt, { baseMs: 10 }));
    const items = await ctx.itemsOf(ns, keys);
    const reads = new Map<string, KeyRead>();
    for (const k of keys) {
      const all = items.get(k) ?? [];
      const joined = joinAll(all.map((i) => i.state));
      const visible = joined ? await ctx.opts.resolve(settle(joined, mode).state) : undefined;
      reads.set(k, { own: all.find((i) => i.region === self)?.state, joined, visible });
    }
    // One stamp for every key, no earlier than any of theirs (stamps never go down).
    let now = clock.now().toISOString();
    for (const r of reads.values()) if (r.joined && r.joined.updatedAt > now) now = r.joined.updatedAt;
    const env: WriteEnv = { replica: self, now, mode, lease: guards?.lease };
    const visible = new Map([...reads].map(([k, r]) => [k, r.visible]));
    // The single-Region plan checks every require and every op (and throws what they throw).
    const plan = planTxn(ns, txn, visible, env);
    const results: TxnResult[] = [];
    const puts = new Map<string, TransactWriteItem>();
    for (const [i, op] of txn.ops.entries()) {
      if (!plan[i].next) {
        results.push({ key: op.key, deleted: true as const });
        continue;
      }
      const r = reads.get(op.key)!;
      const etagReq = (txn.require ?? []).find((q) => q.key === op.key && q.etag !== undefined);
      const pre: Preconditions = etagReq ? { ifMatch: { any: false, ctx: parseEtag(etagReq.etag!) } } : {};
      const w = writeRegional(ns, op.key, r.joined, r.visible, regionalOp(op), pre, env);
      const after = settle(w.joined, mode).state;
      results.push(
        after.deleted ? { key: op.key, deleted: true as const } : { key: op.key, rev: after.rev, etag: etagOf(after) },
      );
      const e = new Expr();
      e.require(unchangedClause(e, r.own));
      puts.set(op.key, {
        Put: {
          TableName: tableName,
          Item: toRegionalItem(w.item, self, ctx.first, op.op, mode),
          ...e.params(),
        },
      });
    }
    const checks: TransactWriteItem[] = keys.map((k) => {
      const put = puts.get(k);
      if (put) return put;
      const e = new Expr();
      e.require(unchangedClause(e, reads.get(k)!.own));
      return {
        ConditionCheck: { TableName: tableName, Key: regionalKeyOf(ns, k, self, ctx.first), ...e.checkParams() },
      };
    });
    const guardItems = guard?.items ?? [];
    try {
      await client.send(
        new TransactWriteItemsCommand({ TransactItems: [...checks, ...guardItems, ...(extra?.items(results) ?? [])] }),
      );
      return results;
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (!reasons) return guarded(() => Promise.reject(err));
      const failed = firstConditionFailure(reasons, keys.length);
      const guardCount = guardItems.length;
      if (failed >= keys.length && failed < keys.length + guardCount) throw guard!.failures[failed - keys.length]();
      if (failed >= keys.length + guardCount && extra) throw extra.failure(failed - keys.length - guardCount);
      // A key's own item changed since it was read (or a race without a failed condition): again.
      if (!reasons.some(conditionFailed)) continue;
    }
  }
  throw new UnavailableError('too many concurrent writes to these keys; retry the transaction');
}
