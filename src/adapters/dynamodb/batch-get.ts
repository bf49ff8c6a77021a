/**
 * Reading many items of one table by key: `BatchGetItem` in chunks of 100 (DynamoDB's limit), each
 * chunk's unprocessed keys asked again after a short backoff until none is left. The one way the
 * adapters read items in batches.
 */
import { BatchGetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { backoffMs, sleep } from '../../core/backoff';
import type { Item } from './codec';
import { guarded } from './errors';

/** Keys per `BatchGetItem` request. */
const MAX_KEYS = 100;
/** Backoff before asking again for the keys DynamoDB left unprocessed. */
const UNPROCESSED_BACKOFF = { baseMs: 20, capMs: 500 } as const;

/**
 * The items of `table` with these keys that exist, read consistently, in no particular order;
 * `attributes` limits each item to those (by name). Throws what `guarded` throws.
 */
export async function batchGetItems(
  client: DynamoDBClient,
  table: string,
  keys: readonly Item[],
  attributes?: readonly string[],
): Promise<Item[]> {
  const projection = attributes && {
    ProjectionExpression: attributes.map((_, i) => `#a${i}`).join(', '),
    ExpressionAttributeNames: Object.fromEntries(attributes.map((a, i) => [`#a${i}`, a])),
  };
  const items: Item[] = [];
  for (let i = 0; i < keys.length; i += MAX_KEYS) {
    let pending: Item[] | undefined = keys.slice(i, i + MAX_KEYS);
    for (let round = 0; pending?.length; round++) {
      if (round > 0) await sleep(backoffMs(round - 1, UNPROCESSED_BACKOFF));
      const req: Item[] = pending;
      const res = await guarded(() =>
        client.send(
          new BatchGetItemCommand({ RequestItems: { [table]: { Keys: req, ConsistentRead: true, ...projection } } }),
        ),
      );
      items.push(...((res.Responses?.[table] ?? []) as Item[]));
      pending = res.UnprocessedKeys?.[table]?.Keys as Item[] | undefined;
    }
  }
  return items;
}
