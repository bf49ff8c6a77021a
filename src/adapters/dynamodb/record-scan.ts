/**
 * The records table read whole, for snapshot export (`RecordScan`): a namespace is one Query of
 * its partition, in key order; the whole store is a parallel Scan, one segment per part. Reads
 * are consistent; one page is held at a time.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RecordState } from '../../core/record-view';
import type { ItemLocation, RecordScan, StoredItem } from '../../core/snapshot-ports';
import { type Item, fromItem } from './codec';
import { Expr, S } from './expressions';
import { queryPages, scanPages } from './query';

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
    for await (const page of pages) yield page.items;
  }

  public decode(item: StoredItem): RecordState {
    return fromItem(item as Item);
  }

  public locate(item: StoredItem): ItemLocation {
    const it = item as Item;
    return { namespace: it.ns?.S ?? null, key: it.k?.S ?? null };
  }
}
