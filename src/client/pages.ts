/** A page of a listing: its items, and the cursor of the next page (`null` on the last). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly cursor: string | null;
}

/**
 * Every item of a listing, page after page: `page(cursor)` fetches the page after `cursor`
 * (`undefined`: the first). Rejects with what `page` rejects with.
 */
export async function* everyItem<T>(page: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    yield* p.items;
    cursor = p.cursor ?? undefined;
  } while (cursor);
}
