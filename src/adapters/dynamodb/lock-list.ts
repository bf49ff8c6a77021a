/**
 * The lock list (`GET /v1/ns/{ns}/locks`) from the control table's sparse `locksByNamespace`
 * index (`lockNs`, `lockName`), which acquire, release and the reaper keep: only a held lock is
 * in it. A lock whose lease expired is left out even before the reaper frees it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ValidationError } from '../../core/errors';
import { LOCK_NAME } from '../../core/leases';
import type { LockListQuery } from '../../core/ports';
import type { LockPage, LockView } from '../../core/wire/leases';
import type { Item } from './codec';
import { batchGetItems } from './batch-get';
import { leaseIdOf, leaseKey, lockKey } from './control-keys';
import { Expr, S, beginsWith } from './expressions';
import { queryPages } from './query';

/** The sparse index of held locks by namespace and name (`table-defs.ts`). */
const LOCK_INDEX = 'locksByNamespace';

/** Opaque to clients: base64url of `k1.<name>` (the last lock listed). */
const encodeLockCursor = (name: string) => Buffer.from(`k1.${name}`, 'utf8').toString('base64url');
function decodeLockCursor(raw: string, prefix: string): string {
  const text = /^[A-Za-z0-9_-]{1,400}$/.test(raw) ? Buffer.from(raw, 'base64url').toString('utf8') : '';
  const name = text.startsWith('k1.') ? text.slice(3) : undefined;
  if (name === undefined || !name.startsWith(prefix) || !LOCK_NAME.test(name) || encodeLockCursor(name) !== raw)
    throw new ValidationError(
      'cursor',
      'is not a lock list cursor for this prefix; pass the `cursor` of a previous answer',
    );
  return name;
}
/**
 * The locks of `ns` held now: pages of the `locksByNamespace` index (only a lock some lease holds
 * is in it), each followed by one BatchGetItem of the holders' lease items, since a lock whose
 * lease expired is not held even before the reaper frees it. Asks for one lock more than the
 * page holds, to know whether there is a next page. Throws `ValidationError` (field `cursor`) for a
 * cursor this listing did not issue for this prefix; `now` is epoch ms.
 */
export async function listLocks(
  client: DynamoDBClient,
  table: string,
  ns: string,
  q: LockListQuery,
  now: number,
): Promise<LockPage> {
  const e = new Expr();
  e.key(`${e.name('lockNs')} = ${e.value(S(ns))}`);
  if (q.prefix) e.key(beginsWith(e.name('lockName'), e.value(S(q.prefix))));
  const after = q.cursor !== undefined ? decodeLockCursor(q.cursor, q.prefix) : undefined;
  const startKey: Item | undefined =
    after === undefined ? undefined : { ...lockKey(ns, after), lockNs: S(ns), lockName: S(after) };
  const items: LockView[] = [];
  const pages = queryPages(
    client,
    { TableName: table, IndexName: LOCK_INDEX, ...e.queryParams() },
    { startKey, limit: () => q.limit + 1 - items.length },
  );
  let lastKey: Item | undefined;
  for await (const page of pages) {
    const expiries = await leaseExpiries(
      client,
      table,
      page.items.map((it) => it.leaseId?.S).filter((x) => x !== undefined),
    );
    for (const it of page.items) {
      const expiresAt = expiries.get(it.leaseId?.S ?? '');
      if (expiresAt === undefined || expiresAt <= now) continue;
      items.push({
        name: it.lockName.S!,
        fencingToken: Number(it.token?.N ?? 0),
        expiresAt: new Date(expiresAt).toISOString(),
      });
    }
    lastKey = page.lastKey;
    if (items.length > q.limit) break;
  }
  const more = items.length > q.limit || lastKey !== undefined;
  const out = items.slice(0, q.limit);
  return { items: out, cursor: more && out.length > 0 ? encodeLockCursor(out[out.length - 1].name) : null };
}

/**
 * The expiry (epoch ms) of each of these leases that still has an item, read consistently: one
 * BatchGetItem per 100 leases (more only for keys DynamoDB leaves unprocessed). Throws store
 * errors (translated).
 */
export async function leaseExpiries(
  client: DynamoDBClient,
  table: string,
  ids: readonly string[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const keys = [...new Set(ids)].map(leaseKey);
  for (const it of await batchGetItems(client, table, keys, ['pk', 'expiresAt'])) {
    if (it.expiresAt?.N) out.set(leaseIdOf(it.pk.S!), Number(it.expiresAt.N));
  }
  return out;
}
