/**
 * Paginated queries: every page of a Query, one after another. Throws store errors (translated).
 */
import { type DynamoDBClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import type { Item } from './codec';
import { guarded } from './errors';

export interface QueryPage {
  readonly items: Item[];
  /** Items DynamoDB read for the page (before any filter). */
  readonly scanned: number;
}

export async function* queryPages(client: DynamoDBClient, input: Omit<QueryCommandInput, 'ExclusiveStartKey'>): AsyncGenerator<QueryPage> {
  let start: Item | undefined;
  do {
    const out = await guarded(() => client.send(new QueryCommand({ ...input, ExclusiveStartKey: start })));
    yield { items: out.Items ?? [], scanned: out.ScannedCount ?? 0 };
    start = out.LastEvaluatedKey;
  } while (start);
}
