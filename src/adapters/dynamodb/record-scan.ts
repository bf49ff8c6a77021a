/**
 * The records table read whole, for snapshot export (`RecordScan`): a namespace is one Query of
 * its partition, in key order; the whole store is a parallel Scan, one segment per part. Reads
 * are consistent; one page is held at a time.
 */
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { RecordState } from '../../core/record-view';
import type { ItemLocation, RecordScan, StoredItem } from '../../core/snapshot-ports';
import { type Item, fromItem } from './codec';
import { guarded } from './errors';
import { queryPages } from './query';

export class DynamoRecordScan implements RecordScan {
  public constructor(
    private readonly client: DynamoDBClient,
    /** The records table (physical name). */
    private readonly table: string,
  ) {}

  public async *pages(namespace: string | null, segment: number, total: number): AsyncGenerator<Item[]> {
    if (namespace !== null) {
      const pages = queryPages(this.client, {
        TableName: this.table,
        KeyConditionExpression: 'ns = :ns',
        ExpressionAttributeValues: { ':ns': { S: namespace } },
        ConsistentRead: true,
      });
      for await (const page of pages) yield page.items;
      return;
    }
    let start: Item | undefined;
    do {
      const out = await guarded(() =>
        this.client.send(new ScanCommand({ TableName: this.table, Segment: segment, TotalSegments: total, ConsistentRead: true, ExclusiveStartKey: start })),
      );
      yield (out.Items ?? []) as Item[];
      start = out.LastEvaluatedKey;
    } while (start);
  }

  public decode(item: StoredItem): RecordState {
    return fromItem(item as Item);
  }

  public locate(item: StoredItem): ItemLocation {
    const it = item as Item;
    return { namespace: it.ns?.S ?? null, key: it.k?.S ?? null };
  }
}
