/**
 * Listing a namespace: a Query on the namespace's partition in sort-key order (DynamoDB orders
 * string sort keys by UTF-8 bytes), skipping tombstones, with an opaque cursor.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ValidationError } from '../../core/errors';
import type { ListPage, ListQuery } from '../../core/ports';
import type { RecordState } from '../../core/record-view';
import { type Item, fromItem } from './codec';
import { BOOL, Expr, S, beginsWith } from './expressions';
import { queryPages } from './query';

interface CursorBody {
  readonly k: string;
}

export function encodeCursor(lastKey: string): string {
  return Buffer.from(JSON.stringify({ k: lastKey } satisfies CursorBody)).toString('base64url');
}

/** Throws `ValidationError` (field `cursor`) when the cursor is not one this API issued for the prefix. */
export function decodeCursor(cursor: string, prefix: string): string {
  try {
    const body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorBody;
    if (typeof body.k === 'string' && body.k.startsWith(prefix) && encodeCursor(body.k) === cursor) return body.k;
  } catch {
    // falls through to the error below
  }
  throw new ValidationError('cursor', 'is not a cursor returned by this listing');
}

/**
 * `resolve` shows a record as reads see it (a record of an expired lease, or whose every field is
 * due, as gone); such records are left out. Without fields the listing reads only metadata: a
 * record whose `due` bound has passed (a due field the sweeper has not removed yet) is read whole
 * with `reread` to tell whether anything of it is left.
 */
export async function listRecords(
  client: DynamoDBClient,
  table: string,
  ns: string,
  q: ListQuery,
  resolve: (s: RecordState) => Promise<RecordState | undefined>,
  reread: { readonly nowMs: number; readonly get: (key: string) => Promise<RecordState | undefined> },
): Promise<ListPage> {
  const e = new Expr();
  e.key(`${e.name('ns')} = ${e.value(S(ns))}`);
  if (q.prefix) e.key(beginsWith(e.name('k'), e.value(S(q.prefix))));
  e.filter(`${e.name('tomb')} = ${e.value(BOOL(false))}`);
  if (!q.withFields) e.project(['ns', 'k', 'rev', 'at', 'inc', 'tomb', 'lease', 'due']);
  const items: RecordState[] = [];
  const startKey: Item | undefined = q.cursor
    ? { ns: { S: ns }, k: { S: decodeCursor(q.cursor, q.prefix) } }
    : undefined;
  const pages = queryPages(
    client,
    { TableName: table, ...e.queryParams(), ConsistentRead: true },
    { startKey, limit: () => q.limit + 1 - items.length },
  );
  let lastKey: Item | undefined;
  for await (const page of pages) {
    for (const it of page.items) {
      const partial = !q.withFields && it.due?.N !== undefined && Number(it.due.N) <= reread.nowMs;
      const s = partial ? await reread.get(it.k.S!) : await resolve(fromItem(it));
      if (s && !s.deleted) items.push(s);
    }
    lastKey = page.lastKey;
    if (items.length > q.limit) break;
  }
  const more = items.length > q.limit || lastKey !== undefined;
  const page = items.slice(0, q.limit);
  return { items: page, cursor: more && page.length > 0 ? encodeCursor(page[page.length - 1].key) : null };
}
