/**
 * The records table read whole for a snapshot export in a deployment of several Regions
 * (`GroupedRecordScan`; docs/regions.md, `regional-codec.ts`): each record is the group of its
 * Region items, which the export rolls back to the cut one by one and joins as a read does.
 *
 * - A namespace: one consistent Query per Region's partition, read side by side and merged by
 *   key in UTF-8 byte order (as listings are), so each key's items come together: one group per
 *   key. Memory holds one page per Region and a page of groups; requests: one Query per page of
 *   each Region's partition, as one Region's export takes per partition.
 * - The whole store: a key's Region items may fall into different segments of the parallel Scan.
 *   For each page it scans, a segment reads every Region's item of each key the page holds (one
 *   consistent `BatchGetItem` per 100 items: keys × Regions), and the group names the Regions it
 *   scanned; only the segment that scanned the first Region (in `VESTA_REGIONS` order) whose item
 *   existed at the cut writes the record (`writesGroup`). Cost: per Scan page of n keys, 1 Scan
 *   and ⌈n × Regions / 100⌉ `BatchGetItem`s; a key with items in k Regions is read k times
 *   (k × Regions item reads, besides the Scan's). Limit: an item stamped at or before the cut that
 *   replication has not brought to this Region when a segment reads is missing from that
 *   segment's group; the record then lacks that Region's writes, and when it would have been the
 *   first Region present, two segments may each write the record (each saw a different first
 *   Region). An item of a Region no longer in the list is read by no record (reads ignore it).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MalformedItemError } from '../../core/errors';
import type { RecordState } from '../../core/record-view';
import { readOf } from '../../core/regions/read';
import type { GroupedRecordScan, ItemGroup, ItemLocation, StoredItem } from '../../core/snapshot-ports';
import { batchGetItems } from './batch-get';
import type { Item } from './codec';
import { Expr, S } from './expressions';
import { queryPages, scanPages } from './query';
import { DynamoRecordScan, readAhead } from './record-scan';
import { fromRegionalItem, regionPartition, regionalKeyOf } from './regional-codec';
import { ItemCursor } from './regional-records';

/** Groups handed out at a time by a namespace export. */
const GROUPS_PER_PAGE = 256;

/** Where a Region item belongs: its namespace, key and Region (an index into the Region list). */
interface Place {
  readonly ns: string;
  readonly key: string;
  readonly region: number;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export class DynamoRegionalScan implements GroupedRecordScan {
  private readonly single: DynamoRecordScan;
  private readonly first: string;

  public constructor(
    private readonly client: DynamoDBClient,
    /** The records table (physical name). */
    private readonly table: string,
    /** Every Region of the deployment, the first one first. */
    private readonly regions: readonly string[],
  ) {
    this.single = new DynamoRecordScan(client, table);
    this.first = regions[0];
  }

  /**
   * Every stored item of a segment as stored, each Region's apart (`RecordScan.pages`; the export
   * reads `groups`). Throws `ThrottledError` / `UnavailableError` when a page cannot be read.
   */
  public pages(namespace: string | null, segment: number, total: number): AsyncIterable<Item[]> {
    return this.single.pages(namespace, segment, total);
  }

  /**
   * The records of a segment as groups of Region items (see the file comment). Throws
   * `ThrottledError` / `UnavailableError` when a page, or a page's `BatchGetItem`, cannot be read.
   */
  public groups(namespace: string | null, segment: number, total: number): AsyncIterable<ItemGroup[]> {
    return namespace !== null ? this.namespaceGroups(namespace) : this.scanGroups(segment, total);
  }

  private async *namespaceGroups(ns: string): AsyncGenerator<ItemGroup[]> {
    const heads = this.regions.map((r) => {
      const e = new Expr();
      e.key(`${e.name('ns')} = ${e.value(S(regionPartition(ns, r, this.first)))}`);
      return new ItemCursor(
        queryPages(this.client, { TableName: this.table, ...e.queryParams(), ConsistentRead: true }),
      );
    });
    let page: ItemGroup[] = [];
    for (;;) {
      const firsts = await Promise.all(heads.map((h) => h.peek()));
      const keys = firsts.filter((x): x is Item => x !== undefined).map((x) => x.k?.S ?? '');
      if (keys.length === 0) break;
      const key = keys.reduce((a, b) => (byteOrder(a, b) <= 0 ? a : b));
      const items: (Item | null)[] = [];
      for (const [i, h] of heads.entries()) {
        const head = firsts[i];
        items.push(head !== undefined && (head.k?.S ?? '') === key ? await h.take() : null);
      }
      page.push({ items });
      if (page.length >= GROUPS_PER_PAGE) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }

  private async *scanGroups(segment: number, total: number): AsyncGenerator<ItemGroup[]> {
    const scanned = scanPages(this.client, {
      TableName: this.table,
      Segment: segment,
      TotalSegments: total,
      ConsistentRead: true,
    });
    for await (const read of readAhead(scanned)) {
      const keys = new Map<string, { ns: string; key: string; scanned: number[] }>();
      const out: ItemGroup[] = [];
      for (const item of read) {
        const at = this.placeOf(item);
        if (at === null) {
          // No namespace or key: a record of its own, which cannot be decoded and is set aside.
          out.push({ items: [item] });
          continue;
        }
        if (at === undefined) continue; // a Region no longer in the list: no read sees it
        const id = JSON.stringify([at.ns, at.key]);
        const g = keys.get(id) ?? { ns: at.ns, key: at.key, scanned: [] };
        g.scanned.push(at.region);
        keys.set(id, g);
      }
      const wanted = [...keys.values()].flatMap((g) =>
        this.regions.map((r) => regionalKeyOf(g.ns, g.key, r, this.first)),
      );
      const found = new Map<string, Item>();
      for (const it of await batchGetItems(this.client, this.table, wanted))
        found.set(JSON.stringify([it.ns?.S, it.k?.S]), it);
      for (const g of keys.values()) {
        const items = this.regions.map(
          (r) => found.get(JSON.stringify([regionPartition(g.ns, r, this.first), g.key])) ?? null,
        );
        out.push({ items, scanned: g.scanned });
      }
      yield out;
    }
  }

  /**
   * The namespace, key and Region of a stored item; `null` when it names no namespace or key,
   * `undefined` when its partition is of a Region not in the list.
   */
  private placeOf(item: Item): Place | null | undefined {
    const partition = item.ns?.S;
    const key = item.k?.S;
    if (partition === undefined || key === undefined) return null;
    const at = partition.indexOf('@');
    if (at < 0) return { ns: partition, key, region: 0 };
    const region = this.regions.indexOf(partition.slice(at + 1));
    return region > 0 ? { ns: partition.slice(0, at), key, region } : undefined;
  }

  /** A record joined from Region items at the cut, as `{ns, k, rx: [items]}` (see `decode`). Never throws. */
  public combine(items: readonly StoredItem[]): StoredItem {
    const where = this.placeOf(items[0] as Item);
    return {
      ...(where ? { ns: { S: where.ns }, k: { S: where.key } } : {}),
      rx: { L: items.map((M) => ({ M })) },
    };
  }

  /**
   * The record a combined item (`combine`), or a single Region's item, reads as: its Region items
   * joined and settled as a read does (`readOf`). Throws `MalformedItemError` when an item is not
   * one this version can read, names no namespace and key, or names another key than the others.
   */
  public decode(stored: StoredItem): RecordState {
    const it = stored as Item;
    const parts = it.rx?.L ? it.rx.L.map((x) => (x.M ?? {}) as Item) : [it];
    const places = parts.map((p) => this.placeOf(p));
    const place = places[0];
    if (!place || places.some((p) => !p || p.ns !== place.ns || p.key !== place.key))
      throw new MalformedItemError('ns', 'a snapshot record whose items name no namespace and key, or several');
    const read = readOf(parts.map((p) => fromRegionalItem(p, place.ns, this.first)));
    if (!read) throw new MalformedItemError('rx', 'a snapshot record without items');
    return read;
  }

  /** When a Region item was last written (its `at`); `null` when it does not say. Never throws. */
  public stampOf(item: StoredItem): string | null {
    return this.single.stampOf(item);
  }

  /** Where an item says it belongs: for a Region's own item, its partition (`<ns>@<Region>`). Never throws. */
  public locate(item: StoredItem): ItemLocation {
    return this.single.locate(item);
  }
}
