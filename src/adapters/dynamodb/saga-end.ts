/**
 * Ending a saga in the saga log (`saga-log.ts`), and the status moves its writes share. A saga
 * that ends SUCCEEDED or COMPENSATED gets its `ttl` (`src/core/retention.ts`) on its header,
 * steps and entries, in the transaction that ends it; one that ends otherwise keeps everything.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { ThrottledError } from '../../core/errors';
import { EXPIRING_SAGA_STATUSES, ttlAfter } from '../../core/retention';
import type { SagaStatus } from '../../core/sagas';
import { cancellationReasons, conditionFailed } from './cancellation';
import { SAGA_HEADER_SK as HEADER, sagaListOrder } from './control-keys';
import { guarded, isConditionFailure } from './errors';
import { Expr, N, S, attributeExists, isIn } from './expressions';
import { queryPages } from './query';
import { SAGAS_TABLE } from './table-defs';

/** The attribute DynamoDB's TTL clean-up of the sagas table reads. */
export const TTL = SAGAS_TABLE.ttlAttribute!;

/** Items of one TransactWriteItems. */
const MAX_TRANSACTION_ITEMS = 100;

export const expiring = (status: string | undefined): boolean =>
  (EXPIRING_SAGA_STATUSES as readonly (string | undefined)[]).includes(status);

/** An update conditioned on the item existing. */
export function existing(): Expr {
  const e = new Expr();
  return e.require(attributeExists(e.name('sk')));
}

/** Sets `status` to `to` and `at` to `now`, conditioned on `status` being one of `from`. */
export function moveStatus(from: readonly string[], to: string, at: string, now: string): Expr {
  const e = new Expr();
  const status = e.name('status');
  // `listStatus`, the `byStatus` index's key, moves with `status` in the same write.
  e.set(`${status} = ${e.value(S(to))}`)
    .set(`${e.name('listStatus')} = ${e.value(S(to))}`)
    .set(`${e.name(at)} = ${e.value(S(now))}`);
  return e.require(
    isIn(
      status,
      from.map((f) => e.value(S(f))),
    ),
  );
}

/**
 * Ends a saga whose status is one of `from` with `status`; false when it had another. The
 * header's `listStatus` moves with `status`; a header written before the `byStatus` index (no
 * `listOrder`) gets its `listOrder` in a second update, so it is listed from then on.
 */
export async function finishSaga(
  client: DynamoDBClient,
  table: string,
  id: string,
  status: SagaStatus,
  from: readonly SagaStatus[],
  now: Date,
  retentionDays: number,
): Promise<boolean> {
  const e = moveStatus(from, status, 'finishedAt', now.toISOString());
  // SUCCEEDED and COMPENSATED are final: the whole log is kept for the retention from now.
  if (expiring(status)) return finishForGood(client, table, id, e, ttlAfter(now.getTime(), retentionDays));
  let out: Record<string, AttributeValue> | undefined;
  try {
    out = (
      await guarded(() =>
        client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: marshall({ id, sk: HEADER }),
            ...e.updateParams(),
            ReturnValues: 'ALL_NEW',
          }),
        ),
      )
    ).Attributes;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
  if (out && !out.listOrder && out.startedAt?.S) {
    const b = existing();
    b.set(`${b.name('listOrder')} = ${b.value(S(sagaListOrder(out.startedAt.S, id)))}`);
    await guarded(() =>
      client.send(new UpdateItemCommand({ TableName: table, Key: marshall({ id, sk: HEADER }), ...b.updateParams() })),
    );
  }
  return true;
}

/**
 * Ends a saga for good: in one transaction the header's move `move` (and its `listOrder` if it
 * has none) and `ttl` on the header and on every step and entry, read by one consistent Query
 * first (at most 1 + 3 x `MAX_SAGA_STEPS` items, inside a transaction's 100). False when the
 * header's condition fails; a transaction cancelled for another cause (a write racing on one of
 * its items) is a `ThrottledError`, to be retried.
 */
async function finishForGood(
  client: DynamoDBClient,
  table: string,
  id: string,
  move: Expr,
  ttl: number,
): Promise<boolean> {
  const q = new Expr();
  q.key(`${q.name('id')} = ${q.value(S(id))}`).project(['sk', 'startedAt', 'listOrder']);
  const items: Record<string, AttributeValue>[] = [];
  for await (const page of queryPages(client, {
    TableName: table,
    ...q.queryParams(),
    ConsistentRead: true,
  }))
    items.push(...page.items);
  const header = items.find((it) => it.sk.S === HEADER);
  if (!header) return false;
  move.set(`${move.name(TTL)} = ${move.value(N(ttl))}`);
  if (!header.listOrder && header.startedAt?.S)
    move.set(`${move.name('listOrder')} = ${move.value(S(sagaListOrder(header.startedAt.S, id)))}`);
  const expire = (sk: string): TransactWriteItem => {
    const e = existing();
    e.set(`${e.name(TTL)} = ${e.value(N(ttl))}`);
    return { Update: { TableName: table, Key: marshall({ id, sk }), ...e.updateParams() } };
  };
  const rest = items.filter((it) => it.sk.S !== HEADER).map((it) => expire(it.sk.S!));
  const first = rest.slice(0, MAX_TRANSACTION_ITEMS - 1);
  try {
    await guarded(() =>
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Update: { TableName: table, Key: marshall({ id, sk: HEADER }), ...move.updateParams() } },
            ...first,
          ],
        }),
      ),
    );
  } catch (e) {
    const reasons = cancellationReasons(e);
    if (!reasons) throw e;
    if (conditionFailed(reasons[0])) return false;
    throw new ThrottledError(`saga ${id} could not end: its items were being written; retry`, 1, { cause: e });
  }
  // Never with the definitions this version accepts; a log written by another could be longer.
  for (const u of rest.slice(first.length))
    await guarded(() => client.send(new UpdateItemCommand(u.Update!))).catch((e: unknown) => {
      if (!isConditionFailure(e)) throw e;
    });
  return true;
}
