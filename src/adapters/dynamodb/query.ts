/**
 * Paging Query and Scan: every page, one request after another, each from where the last one
 * stopped (`LastEvaluatedKey`), until there is none. This is the one way the adapters page; a
 * caller that has what it needs stops iterating and no further request is sent.
 */
import {
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandInput,
  type ScanCommandOutput,
} from '@aws-sdk/client-dynamodb';
import type { Item } from './codec';
import { guarded } from './errors';

export interface Page {
  readonly items: Item[];
  /** Items DynamoDB read for the page (before any filter). */
  readonly scanned: number;
  /** Where the page stopped; undefined on the last page. */
  readonly lastKey?: Item;
}

export interface PageOptions {
  /** The key the first page starts after (a listing cursor's position). @default the beginning */
  readonly startKey?: Item;
  /**
   * Items to ask for in the next page, called before each request (a caller that stops after n
   * items asks for what it still lacks). @default the input's `Limit`
   */
  readonly limit?: () => number;
}

/** The pages of a Query. Each request throws store errors (translated). */
export function queryPages(
  client: DynamoDBClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
  opts: PageOptions = {},
): AsyncGenerator<Page> {
  return pages((start, limit) => client.send(new QueryCommand({ ...input, ...limit, ExclusiveStartKey: start })), opts);
}

/** The pages of a Scan (or of one segment of a parallel Scan). Each request throws store errors (translated). */
export function scanPages(
  client: DynamoDBClient,
  input: Omit<ScanCommandInput, 'ExclusiveStartKey'>,
  opts: PageOptions = {},
): AsyncGenerator<Page> {
  return pages((start, limit) => client.send(new ScanCommand({ ...input, ...limit, ExclusiveStartKey: start })), opts);
}

async function* pages(
  send: (start: Item | undefined, limit: { Limit?: number }) => Promise<QueryCommandOutput | ScanCommandOutput>,
  opts: PageOptions,
): AsyncGenerator<Page> {
  let start = opts.startKey;
  do {
    const limit = opts.limit ? { Limit: opts.limit() } : {};
    const out = await guarded(() => send(start, limit));
    start = out.LastEvaluatedKey;
    yield { items: out.Items ?? [], scanned: out.ScannedCount ?? 0, ...(start ? { lastKey: start } : {}) };
  } while (start);
}
