/**
 * What snapshot export and restore need from the records' store, besides the snapshot store and
 * the blob store of `ports.ts`: reading every record of a segment as stored (`RecordScan`), and
 * writing a part's records back with their checkpoint (`RestoreWriter`). DynamoDB implements both
 * in `src/adapters/dynamodb/`.
 */
import type { RecordState } from './record-view';
import type { RestoreView } from './snapshots';

/**
 * A record as the store keeps it, as read. Opaque outside the adapter, but JSON: it is kept with a
 * dead letter as it is, so that a replay decodes it again (`RecordScan.decode`).
 */
export type StoredItem = Readonly<Record<string, unknown>>;

/** Where a stored item says it belongs, without decoding it (`null` when it does not say). */
export interface ItemLocation {
  readonly namespace: string | null;
  readonly key: string | null;
}

/** Every stored record of a segment, tombstones and records of leases included, as stored. */
export interface RecordScan {
  /**
   * The items of one segment, a page at a time, read consistently: the partition of `namespace`
   * in key order (then `segment` and `total` are 0 and 1), or with `namespace` null segment
   * `segment` of `total` of a parallel scan of the whole store. Memory holds one page. Throws
   * `ThrottledError` / `UnavailableError` when a page cannot be read (the pages before it were
   * handed out).
   */
  pages(namespace: string | null, segment: number, total: number): AsyncIterable<readonly StoredItem[]>;
  /** The record an item holds. Throws `MalformedItemError` when it is not one this version can read. */
  decode(item: StoredItem): RecordState;
  /** When the item was last written (ISO, the record's `updatedAt`); `null` when it does not say. Never throws. */
  stampOf(item: StoredItem): string | null;
  /** Where an item says it belongs. Never throws. */
  locate(item: StoredItem): ItemLocation;
}

/**
 * The stored items of one record in a deployment of several Regions (docs/regions.md): each
 * Region's own item of the key, in the deployment's Region order (the first Region first).
 */
export interface ItemGroup {
  /** Each Region's item as read, `null` where that Region has none. */
  readonly items: readonly (StoredItem | null)[];
  /**
   * A whole-store scan: the Regions (indexes into `items`) whose items this segment scanned. The
   * segment writes the record only when the first Region whose item existed at the cut is one of
   * them (`writesGroup`), so exactly one segment writes it. Absent: the segment writes it (a
   * namespace is read whole by one segment).
   */
  readonly scanned?: readonly number[];
}

/**
 * A `RecordScan` of a deployment of several Regions: a record is made of several stored items,
 * each rolled back to the cut by itself (its own pre-image) before they join. The export reads
 * `groups` instead of `pages`; `decode` reads what `combine` makes, and a single stored item.
 */
export interface GroupedRecordScan extends RecordScan {
  /**
   * The records of one segment, a page of groups at a time, every item read consistently (as
   * `pages`). Memory holds a page. Throws `ThrottledError` / `UnavailableError` when a page cannot
   * be read.
   */
  groups(namespace: string | null, segment: number, total: number): AsyncIterable<readonly ItemGroup[]>;
  /**
   * The stored item that stands for the record joined from `items` (each Region's item at the
   * cut, at least one, all of one key): what `decode` reads and a dead letter keeps. Never throws.
   */
  combine(items: readonly StoredItem[]): StoredItem;
}

/** Whether a scan reads records as groups of Region items. Never throws. */
export function isGrouped(scan: RecordScan): scan is GroupedRecordScan {
  return typeof (scan as Partial<GroupedRecordScan>).groups === 'function';
}

/** Which lines of a part a restore takes, and into which namespace. */
export interface PartTarget {
  /** Only records of this namespace (a whole-store snapshot restored into one namespace). */
  readonly only?: string;
  /** Every record goes into this namespace (a namespace snapshot restored elsewhere). */
  readonly into?: string;
}

/** A restored part's counts: records written, skipped (a newer one was there), and lines set aside. */
export interface PartCounts {
  readonly written: number;
  readonly skipped: number;
  readonly setAside: number;
}

/** What a restore dead letter keeps: the snapshot line as read (exact text) and how to write it. */
export interface RestorePayload {
  readonly line: string;
  /** Target namespace of the restore, `null`: each record's own. */
  readonly target: string | null;
  readonly mode: RestoreView['mode'];
}

/**
 * Writes snapshot records into the records' store, never over a newer record (`restorePlan`),
 * with each part's checkpoint, so a retried or resumed part goes on where it stopped and counts
 * each line once.
 */
export interface RestoreWriter {
  /**
   * Restores part `part` of restore `restore` from its checkpoint on, reading its lines from
   * `lines`; resolves to the part's counts, those of earlier runs included. A line that cannot be
   * parsed, or a record that keeps failing for itself, is set aside as a dead letter (source
   * `restore`, payload `RestorePayload`) and counted. Throws `ThrottledError` /
   * `UnavailableError` and other store errors (a retry resumes from the checkpoint), what reading
   * `lines` throws, and what setting a line aside throws.
   */
  restorePart(
    restore: RestoreView,
    part: string,
    lines: () => AsyncIterable<string>,
    target: PartTarget,
  ): Promise<PartCounts>;
  /**
   * Writes one snapshot record alone, as a restore would (never over a newer record): a replayed
   * dead letter. True when written, false when skipped. Throws store errors.
   */
  restoreOne(snap: RecordState, mode: RestoreView['mode']): Promise<boolean>;
}

/** Where a record's pre-image is kept: its namespace and key. */
export const cutKey = (namespace: string, key: string): string => `${namespace}#${key}`;

/**
 * The open cuts of running snapshots and the pre-images the change publisher kept for them
 * (`snapshot-cut.ts`).
 */
export interface SnapshotCuts {
  /** Opens cut `cut` (ISO) of snapshot `snapshotId` (instead of one opened before): from now on the publisher keeps its pre-images. */
  open(snapshotId: string, cut: string): Promise<void>;
  /** Closes it (the snapshot ended); its pre-images expire by themselves. */
  close(snapshotId: string): Promise<void>;
  /**
   * The pre-images kept for these keys (`cutKey`): the stored item the first write after the cut
   * replaced, `null` when the key had none at the cut; a key without an entry has none kept yet.
   */
  preImages(snapshotId: string, cut: string, keys: readonly string[]): Promise<Map<string, StoredItem | null>>;
}
