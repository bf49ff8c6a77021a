/**
 * The records table read whole, for snapshot export (`RecordScan`): a namespace is one Query of
 * its partition, in key order; the whole store is a parallel Scan, one segment per part. Reads
 * are consistent. The next page is asked for as soon as a page is handed out, so that reading it
 * overlaps the writing of the one before: at most two pages are held at a time.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RecordState } from '../../core/record-view';
import type { ItemLocation, RecordScan, StoredItem } from '../../core/snapshot-ports';
import { type Item, fromItem } from './codec';
import { Expr, S } from './expressions';
import { type Page, queryPages, scanPages } from './query';

export class DynamoRecordScan implements RecordScan {
  public constructor(
    private readonly client: DynamoDBClient,
    /** The records table (physical name). */
    private readonly table: string,
  ) {}

  public async *pages(namespace: string | null, segment: number, total: number): AsyncGenerator<Item[]> {
    const e = new Expr();
    const pages =
      namespace !== null
        ? queryPages(this.client, {
            TableName: this.table,
            ...e.key(`${e.name('ns')} = ${e.value(S(namespace))}`).queryParams(),
            ConsistentRead: true,
          })
        : scanPages(this.client, {
            TableName: this.table,
            Segment: segment,
            TotalSegments: total,
            ConsistentRead: true,
          });
    yield* readAhead(pages);
  }

  public decode(item: StoredItem): RecordState {
    return fromItem(item as Item);
  }

  public stampOf(item: StoredItem): string | null {
    return (item as Item).at?.S ?? null;
  }

  public locate(item: StoredItem): ItemLocation {
    const it = item as Item;
    return { namespace: it.ns?.S ?? null, key: it.k?.S ?? null };
  }
}

/**
 * The items of each page, the next page's request sent before the current page is handed out.
 * A failed request rejects where its page would have come; a consumer that stops early leaves at
 * most one request in flight, whose outcome is ignored.
 */
export async function* readAhead(pages: AsyncGenerator<Page>): AsyncGenerator<Item[]> {
  let next = pages.next();
  for (;;) {
    const got = await next;
    if (got.done) return;
    next = pages.next();
    // Observed now, awaited on the next turn (or never, when the consumer stops first).
    next.catch(() => undefined);
    yield got.value.items;
  }
}
