/**
 * The records of a segment as they stood at the snapshot's cut (`src/core/snapshot-cut.ts`): an
 * item stamped after the cut is replaced by the pre-image the change publisher kept for it (or
 * left out: it did not exist then).
 *
 * - One Region: each page of stored items, as read, rolled back item by item (`atCutPages`).
 * - Several Regions (`GroupedRecordScan`): a record is a group of Region items; each is rolled
 *   back by itself (each Region item has its own pre-image, kept from the stream, which carries
 *   replicated writes too), then the group is kept when this segment writes it (`writesGroup`)
 *   and handed on as one stored item (`combine`), which decodes as the joined record a read returns.
 *   One lookup of pre-images per page, for all its groups' items stamped after the cut.
 */
import { backoffMs, sleep } from '../core/backoff';
import { rolledToCut, writesGroup } from '../core/regions/snapshot-groups';
import { atOrBefore } from '../core/snapshot-cut';
import {
  type GroupedRecordScan,
  type ItemGroup,
  type RecordScan,
  type SnapshotCuts,
  type StoredItem,
  cutKey,
} from '../core/snapshot-ports';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

/** What a part's lines are read with: the scan, and the cut with the pre-images kept for it. */
export interface LineSource {
  readonly scan: RecordScan;
  readonly snapshotId: string;
  /** `undefined`: a snapshot started before cuts existed, exported as read. */
  readonly cut: string | undefined;
  /** The instant the records are taken at (the cut, else the export's time): fields due by then are left out. */
  readonly atMs: number;
  readonly cuts: SnapshotCuts;
  readonly preImageWaitMs: number;
}

/** Pause between looks for pre-images the publisher has not kept yet. */
const PRE_IMAGE_BACKOFF = { baseMs: 50, capMs: 1000 } as const;

/** The pre-image key of an item stamped after `cut`; `undefined` for one at or before it (or unstamped). */
function laterKey(scan: RecordScan, cut: string, item: StoredItem): string | undefined {
  const stamp = scan.stampOf(item);
  if (stamp === null || atOrBefore(stamp, cut)) return undefined;
  const at = scan.locate(item);
  return cutKey(at.namespace ?? '', at.key ?? '');
}

/**
 * The pre-images of `keys` (`cutKey`), waiting for the publisher to keep each. Throws
 * `Vesta.PublisherBehind` when one is still missing after `preImageWaitMs`, and what reading them
 * throws.
 */
async function preImagesOf(src: LineSource, cut: string, keys: ReadonlySet<string>) {
  const found = new Map<string, StoredItem | null>();
  const deadline = Date.now() + src.preImageWaitMs;
  for (let round = 0; ; round++) {
    const missing = [...keys].filter((k) => !found.has(k));
    if (missing.length === 0) break;
    for (const [k, v] of await src.cuts.preImages(src.snapshotId, cut, missing)) found.set(k, v);
    if (missing.every((k) => found.has(k))) break;
    if (Date.now() >= deadline) {
      const lacking = missing.filter((k) => !found.has(k));
      throw named(
        'Vesta.PublisherBehind',
        `the change publisher has not kept the state at the cut of ${lacking.length} record(s) written after it (the first: ${lacking[0]}) within ${src.preImageWaitMs / 1000} s: it is behind or stopped, so the snapshot cannot be exact; take it again once the publisher has caught up`,
      );
    }
    await sleep(backoffMs(round, PRE_IMAGE_BACKOFF));
  }
  return found;
}

/**
 * The items of a page as they stood at the cut: an item written after the cut is replaced by its
 * pre-image (or left out: the key did not exist then), waiting for the publisher to keep it.
 * Throws what `preImagesOf` throws.
 */
async function atCut(src: LineSource, page: readonly StoredItem[]): Promise<StoredItem[]> {
  if (src.cut === undefined) return [...page];
  const cut = src.cut;
  const later = new Map<number, string>();
  page.forEach((item, i) => {
    const k = laterKey(src.scan, cut, item);
    if (k !== undefined) later.set(i, k);
  });
  if (later.size === 0) return [...page];
  const found = await preImagesOf(src, cut, new Set(later.values()));
  const out: StoredItem[] = [];
  page.forEach((item, i) => {
    const k = later.get(i);
    if (k === undefined) out.push(item);
    else {
      const pre = found.get(k);
      if (pre) out.push(pre);
    }
  });
  return out;
}

/** Each page of stored items as it stood at the cut. Throws what reading a page or `atCut` throws. */
export async function* atCutPages(
  src: LineSource,
  pages: AsyncIterable<readonly StoredItem[]>,
): AsyncGenerator<StoredItem[]> {
  for await (const read of pages) yield await atCut(src, read);
}

/**
 * Each page of groups as the records the segment writes, each one stored item (`combine`) of
 * its Region items at the cut; a record no Region had at the cut is left out. Throws what
 * reading a page or `preImagesOf` throws.
 */
export async function* groupsAtCut(
  src: LineSource & { readonly scan: GroupedRecordScan },
  pages: AsyncIterable<readonly ItemGroup[]>,
): AsyncGenerator<StoredItem[]> {
  const { scan, cut } = src;
  const later = (item: StoredItem) => (cut === undefined ? undefined : laterKey(scan, cut, item));
  for await (const groups of pages) {
    const keys = new Set<string>();
    for (const g of groups)
      for (const item of g.items) {
        const k = item === null ? undefined : later(item);
        if (k !== undefined) keys.add(k);
      }
    const found = cut === undefined || keys.size === 0 ? new Map() : await preImagesOf(src, cut, keys);
    const out: StoredItem[] = [];
    for (const g of groups) {
      const items = rolledToCut(g.items, later, found);
      if (!writesGroup(items, g.scanned)) continue;
      out.push(scan.combine(items.filter((x): x is StoredItem => x !== null)));
    }
    yield out;
  }
}
