/**
 * A record of a deployment of several Regions as a snapshot holds it (docs/regions.md): each
 * Region's item of the key rolled back to the cut by itself, then joined as a read joins them.
 * A whole-store export reads the table in parallel segments, and a key's Region items may fall
 * into different segments; each segment that scans one of them reads them all, and only the one
 * that scanned the first Region present at the cut writes the record. Pure functions, no I/O.
 */

/**
 * The items as they stood at the cut: an item written after it (`laterKey` gives its pre-image's
 * key) is replaced by its pre-image, or by `null` when the item did not exist then; an item with
 * no entry in `preImages` is kept as read. Never throws.
 */
export function rolledToCut<T>(
  items: readonly (T | null)[],
  laterKey: (item: T) => string | undefined,
  preImages: ReadonlyMap<string, T | null>,
): (T | null)[] {
  return items.map((item) => {
    if (item === null) return null;
    const k = laterKey(item);
    if (k === undefined || !preImages.has(k)) return item;
    return preImages.get(k) ?? null;
  });
}

/**
 * Whether a segment writes a record whose items at the cut are `atCut` (in Region order): always
 * when `scanned` is absent (the segment read the whole namespace), else only when the first
 * Region with an item at the cut is one the segment scanned. Each segment that reads the same
 * items at the cut decides the same, so exactly one writes the record. False when no Region had
 * an item at the cut. Never throws.
 */
export function writesGroup(atCut: readonly unknown[], scanned?: readonly number[]): boolean {
  const first = atCut.findIndex((x) => x !== null && x !== undefined);
  if (first < 0) return false;
  return scanned === undefined || scanned.includes(first);
}
