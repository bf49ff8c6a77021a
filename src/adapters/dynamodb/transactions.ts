/**
 * Transactions: read every key involved (one BatchGetItem, strongly consistent), plan in
 * `src/core/txn.ts`, then one TransactWriteItems that puts each op's next state and checks every
 * other key, each conditioned on exactly the state that was read. A cancelled commit hands back
 * the items whose condition failed (cancellation reasons with ALL_OLD): the plan is re-checked on
 * them, answering 412 with the failed require indexes, or tried again after a lost race.
 */
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { backoffMs, sleep } from '../../core/backoff';
import { UnavailableError } from '../../core/errors';
import { etagOf } from '../../core/etag';
import type { TxnResult } from '../../core/ports';
import type { RecordState } from '../../core/record-view';
import type { WriteEnv } from '../../core/records';
import { planTxn, txnKeys } from '../../core/txn';
import type { TxnBody } from '../../core/types';
import { type Item, fromItem, keyOf, toItem } from './codec';
import { stampAfter } from '../../core/snapshot-cut';
import { cancellationReasons, conditionFailed, firstConditionFailure } from './cancellation';
import { Expr } from './expressions';
import { unchangedClause } from './record-clauses';
import type { DynamoLeaseStore } from './lease-store';
import { type WriteGuards, hasGuards, planGuards } from './write-guards';

/** What a transaction needs from the record store. */
export interface TxnContext {
  readonly client: DynamoDBClient;
  readonly table: string;
  readonly controlTable: string;
  readonly leases: DynamoLeaseStore;
  readonly clock: { now(): Date };
  resolve(s: RecordState | undefined): Promise<RecordState | undefined>;
}

export const MAX_TXN_ATTEMPTS = 8;
/** Backoff after a commit lost to contention without a failed condition (read again after it). */
export const TXN_BACKOFF = { baseMs: 10 } as const;

/** Items committed with the transaction (e.g. a saga-log entry), and what their failed condition means. */
export interface TxnExtra {
  /** The items, given the results the transaction will have when it commits. */
  items(results: readonly TxnResult[]): readonly TransactWriteItem[];
  /** The error to throw when the condition of `items[i]` fails. */
  failure(i: number): Error;
}

/** The stored states (the stored `inc`/`rev`, shown as gone when their lease has expired). */
async function readAll(ctx: TxnContext, ns: string, keys: string[]): Promise<Map<string, RecordState | undefined>> {
  const states = new Map<string, RecordState | undefined>(keys.map((k) => [k, undefined]));
  let pending: Item[] | undefined = keys.map((k) => keyOf(ns, k));
  while (pending && pending.length > 0) {
    const out = await ctx.client.send(
      new BatchGetItemCommand({ RequestItems: { [ctx.table]: { Keys: pending, ConsistentRead: true } } }),
    );
    for (const it of out.Responses?.[ctx.table] ?? []) states.set(it.k.S!, await ctx.resolve(fromItem(it)));
    pending = out.UnprocessedKeys?.[ctx.table]?.Keys as Item[] | undefined;
  }
  return states;
}

/** Runs one transaction; see the file comment. Throws domain errors from planning, or 503 after contention. */
export async function transact(
  ctx: TxnContext,
  ns: string,
  txn: TxnBody,
  env: WriteEnv,
  guards?: WriteGuards,
  extra?: TxnExtra,
): Promise<TxnResult[]> {
  const { client, table } = ctx;
  const keys = txnKeys(txn);
  const written = txn.ops.filter((o) => o.op !== 'delete').map((o) => o.key);
  const guard = hasGuards(guards)
    ? await planGuards(ctx.controlTable, ctx.leases, ns, written, guards, ctx.clock.now().getTime())
    : undefined;
  let states = await readAll(ctx, ns, keys);
  for (let attempt = 0; attempt < MAX_TXN_ATTEMPTS; attempt++) {
    // One stamp for every key, no earlier than any of theirs (`src/core/snapshot-cut.ts`).
    const now = stampAfter(
      env.now,
      [...states.values()].map((st) => st?.updatedAt),
    );
    const plan = planTxn(ns, txn, states, { ...env, now });
    const written = new Map(plan.filter((p) => p.next).map((p) => [p.key, p.next!]));
    const items: TransactWriteItem[] = keys.map((k) => {
      const e = new Expr();
      e.require(unchangedClause(e, states.get(k)));
      const next = written.get(k);
      return next
        ? {
            Put: {
              TableName: table,
              Item: toItem(next, txn.ops.find((o) => o.key === k)?.op),
              ...e.params(),
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          }
        : {
            ConditionCheck: {
              TableName: table,
              Key: keyOf(ns, k),
              ...e.checkParams(),
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          };
    });
    const results: TxnResult[] = plan.map((p) =>
      p.next && !p.next.deleted
        ? { key: p.key, rev: p.next.rev, etag: etagOf(p.next) }
        : { key: p.key, deleted: true as const },
    );
    try {
      const guardItems = guard?.items ?? [];
      await client.send(
        new TransactWriteItemsCommand({ TransactItems: [...items, ...guardItems, ...(extra?.items(results) ?? [])] }),
      );
      return results;
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (!reasons) throw err;
      const failedGuard = firstConditionFailure(reasons, keys.length);
      const guardCount = guard?.items.length ?? 0;
      if (failedGuard >= 0 && failedGuard < keys.length + guardCount)
        throw guard!.failures[failedGuard - keys.length]();
      if (failedGuard >= 0 && extra) throw extra.failure(failedGuard - keys.length - guardCount);
      if (reasons.some(conditionFailed)) {
        states = new Map(states);
        reasons.forEach((r, i) => {
          if (conditionFailed(r)) states.set(keys[i], r.Item ? fromItem(r.Item) : undefined);
        });
        for (const k of keys) states.set(k, await ctx.resolve(states.get(k)));
      } else {
        await sleep(backoffMs(attempt, TXN_BACKOFF));
        states = await readAll(ctx, ns, keys);
      }
    }
  }
  throw new UnavailableError('too many concurrent writes to these keys; retry the transaction');
}
