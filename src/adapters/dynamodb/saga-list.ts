/**
 * The saga list (`GET /v1/sagas`) from the sagas table's sparse `byStatus` index: header items
 * only, keyed by `listStatus` and `listOrder` (`<startedAt>#<id>`, `control-keys.ts`), which the
 * saga log writes with every status move.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ValidationError } from '../../core/errors';
import { SAGA_STATUSES, type SagaStatus } from '../../core/sagas';
import type { SagaListQuery } from '../../core/saga-log';
import type { SagaPage, SagaSummary } from '../../core/wire/sagas';
import { Expr, S } from './expressions';
import { queryPages } from './query';

/** The sparse index of saga headers by status, newest first (`table-defs.ts`). */
const LIST_INDEX = 'byStatus';

/** Opaque to clients: base64url of `s1.<listOrder>` (the last saga's `<startedAt>#<id>`). */
const encodeSagaCursor = (order: string) => Buffer.from(`s1.${order}`, 'utf8').toString('base64url');
function decodeSagaCursor(raw: string): string {
  const text = /^[A-Za-z0-9_-]{1,200}$/.test(raw) ? Buffer.from(raw, 'base64url').toString('utf8') : '';
  const m = /^s1\.(\d{4}-\d\d-\d\dT[\d:.]+Z#[A-Za-z0-9][A-Za-z0-9._-]{0,79})$/.exec(text);
  if (!m || encodeSagaCursor(m[1]) !== raw)
    throw new ValidationError('cursor', 'is not a saga list cursor; pass the `cursor` of a previous answer');
  return m[1];
}

/**
 * Sagas newest first (by `startedAt`, then id), of one status or of all: one Query of the
 * `byStatus` index per status (the four merged by `listOrder`), each asking for one item more
 * than the page holds, all after the cursor's position. The index is eventually consistent: a
 * saga just started or finished may take a moment to be listed (under its new status). Throws
 * `ValidationError` (field `cursor`) for a cursor this listing did not issue.
 */
export async function listSagas(
  client: DynamoDBClient,
  table: string,
  q: SagaListQuery,
  hidden: Hidden = () => false,
): Promise<SagaPage> {
  const before = q.cursor !== undefined ? decodeSagaCursor(q.cursor) : undefined;
  const statuses = q.status ? [q.status] : SAGA_STATUSES;
  const found = await Promise.all(statuses.map((st) => newest(client, table, st, q.limit + 1, before, hidden)));
  const merged = found.flat().sort((a, b) => (a.order < b.order ? 1 : a.order > b.order ? -1 : 0));
  const items = merged.slice(0, q.limit);
  const more = merged.length > q.limit;
  return {
    items: items.map((x) => x.summary),
    cursor: more ? encodeSagaCursor(items[items.length - 1].order) : null,
  };
}

/**
 * Whether a listed saga is left out: one past its retention (the index holds `finishedAt`, not
 * `ttl`, so the log decides from the status and the end).
 */
export type Hidden = (status: SagaStatus, finishedAt: string | undefined) => boolean;

/** Up to `limit` headers of one status, newest first, after `before` (a `listOrder`), none `hidden`. */
async function newest(
  client: DynamoDBClient,
  table: string,
  status: SagaStatus,
  limit: number,
  before: string | undefined,
  hidden: Hidden,
): Promise<{ order: string; summary: SagaSummary }[]> {
  const out: { order: string; summary: SagaSummary }[] = [];
  const e = new Expr();
  e.key(`${e.name('listStatus')} = ${e.value(S(status))}`);
  if (before !== undefined) e.key(`${e.name('listOrder')} < ${e.value(S(before))}`);
  const pages = queryPages(
    client,
    { TableName: table, IndexName: LIST_INDEX, ...e.queryParams(), ScanIndexForward: false },
    { limit: () => limit - out.length },
  );
  for await (const page of pages) {
    for (const it of page.items) {
      if (hidden(status, it.finishedAt?.S)) continue;
      out.push({
        order: it.listOrder.S!,
        summary: {
          id: it.id.S!,
          status,
          type: it.type?.S === 'transfer' ? 'transfer' : 'steps',
          startedAt: it.startedAt?.S ?? '',
          finishedAt: it.finishedAt?.S ?? null,
        },
      });
    }
    if (out.length >= limit) break;
  }
  return out;
}
