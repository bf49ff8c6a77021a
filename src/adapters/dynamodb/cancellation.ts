/**
 * The cancellation reasons of a `TransactionCanceledException`: one per item of the transaction,
 * in order, with `Code` (`None` for an item that was not the cause, `ConditionalCheckFailed`,
 * `TransactionConflict`, a throttling code...) and, for a failed condition asked with
 * `ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`, the item as it stood.
 */
import type { Item } from './codec';
import { errorName } from './errors';

export interface CancellationReason {
  readonly Code?: string;
  readonly Message?: string;
  readonly Item?: Item;
}

/**
 * The reasons of a cancelled transaction, by item position (empty when DynamoDB gave none);
 * `undefined` when `e` is not a `TransactionCanceledException`. Never throws.
 */
export function cancellationReasons(e: unknown): readonly CancellationReason[] | undefined {
  if (errorName(e) !== 'TransactionCanceledException') return undefined;
  return (e as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
}

/** Whether the item's condition is what failed. Never throws. */
export function conditionFailed(reason: CancellationReason | undefined): boolean {
  return reason?.Code === 'ConditionalCheckFailed';
}

/** Position of the first reason from `from` on whose condition failed, or -1. Never throws. */
export function firstConditionFailure(reasons: readonly CancellationReason[], from = 0): number {
  return reasons.findIndex((r, i) => i >= from && conditionFailed(r));
}
