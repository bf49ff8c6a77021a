/**
 * Dead-letter entries on DynamoDB (layout: `DEAD_LETTERS_TABLE` in table-defs.ts).
 *
 * `put` is one `UpdateItem` that creates or updates the item's entry (`ADD attempts`, first time
 * kept with `if_not_exists`), so a retried batch or a later run that sets the same item aside
 * again leaves one entry. The payload is kept as gzip of its JSON (`p`): a publisher's payload is
 * a whole stream image, which compresses well below the 400 KB item limit; a payload still over
 * `MAX_PAYLOAD_BYTES` is left out (`pOmitted`) and the entry says so. Listing queries the
 * `bySource` index of each source asked for, newest first, and merges them by `order`.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DEAD_LETTER_RETENTION_DAYS,
  DEAD_LETTER_SOURCES,
  type DeadLetter,
  type DeadLetterInput,
  type DeadLetterPage,
  type DeadLetterQuery,
  deadLetterId,
  isDeadLetterId,
  isDeadLetterSource,
} from '../../core/dead-letters';
import { ValidationError } from '../../core/errors';
import { parseJson, stringifyJson } from '../../core/json';
import type { Clock, DeadLetterStore } from '../../core/ports';
import { deadLetterOrder } from './control-keys';
import { guarded } from './errors';
import { BOOL, Expr, N, S, ifNotExists } from './expressions';
import { queryPages } from './query';

type Item = Record<string, AttributeValue>;

/** Compressed payload bytes kept in an entry (DynamoDB items hold 400 KB in all). */
export const MAX_PAYLOAD_BYTES = 300 * 1024;
const INDEX = 'bySource';

export interface DynamoDeadLetterStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly clock: Clock;
  /** @default DEAD_LETTER_RETENTION_DAYS */
  readonly retentionDays?: number;
}

// Lossless JSON: a number in a payload comes back with every digit it had.
const encodePayload = (payload: unknown): Buffer => gzipSync(Buffer.from(stringifyJson(payload ?? null), 'utf8'));
const decodePayload = (b: Uint8Array): unknown => parseJson(gunzipSync(b).toString('utf8'), Infinity);

function entryOf(it: Item, withPayload: boolean): DeadLetter {
  const source = it.source?.S;
  if (!isDeadLetterSource(source)) throw new Error(`dead letter ${it.id?.S} has no known source`);
  const ttl = Number(it.ttl?.N ?? 0);
  return {
    id: it.id.S!,
    source,
    item: parseJson(it.item?.S ?? '{}', Infinity) as DeadLetter['item'],
    error: { name: it.errName?.S ?? 'Error', message: it.errMessage?.S ?? '' },
    attempts: Number(it.attempts?.N ?? 0),
    firstAt: it.firstAt?.S ?? '',
    lastAt: it.lastAt?.S ?? '',
    expiresAt: new Date(ttl * 1000).toISOString(),
    ...(withPayload ? { payload: it.p?.B ? decodePayload(it.p.B) : null } : {}),
    ...(withPayload && it.pOmitted?.BOOL ? { payloadOmitted: true } : {}),
  };
}

/** Opaque to clients: base64url of `d1.<order>` (the last entry's `<firstAt>#<id>`). */
const encodeCursor = (order: string) => Buffer.from(`d1.${order}`, 'utf8').toString('base64url');
function decodeCursor(raw: string): string {
  const text = /^[A-Za-z0-9_-]{1,400}$/.test(raw) ? Buffer.from(raw, 'base64url').toString('utf8') : '';
  const m = /^d1\.(\d{4}-\d\d-\d\dT[\d:.]+Z#[a-z]+-[0-9a-f]{32})$/.exec(text);
  if (!m) throw new ValidationError('cursor', 'not a dead-letter cursor; pass the `cursor` of a previous answer');
  return m[1];
}

export class DynamoDeadLetterStore implements DeadLetterStore {
  public constructor(private readonly opts: DynamoDeadLetterStoreOptions) {}

  public async put(input: DeadLetterInput): Promise<DeadLetter> {
    const id = deadLetterId(input.source, input.item);
    const now = this.opts.clock.now();
    const at = now.toISOString();
    const ttl = Math.floor(now.getTime() / 1000) + (this.opts.retentionDays ?? DEAD_LETTER_RETENTION_DAYS) * 86400;
    const payload = encodePayload(input.payload);
    const kept = payload.length <= MAX_PAYLOAD_BYTES;
    const e = new Expr();
    const set = (attr: string, av: AttributeValue) => e.set(`${e.name(attr)} = ${e.value(av)}`);
    set('source', S(input.source));
    set('item', S(stringifyJson(input.item)));
    set('errName', S(input.error.name));
    set('errMessage', S(input.error.message || '(no message)'));
    const atValue = e.value(S(at));
    e.set(`${e.name('lastAt')} = ${atValue}`);
    set('ttl', N(ttl));
    e.set(`${e.name('firstAt')} = ${ifNotExists(e.name('firstAt'), atValue)}`);
    e.set(`${e.name('order')} = ${ifNotExists(e.name('order'), e.value(S(deadLetterOrder(at, id))))}`);
    if (kept) set('p', { B: payload });
    else set('pOmitted', BOOL(true));
    e.add(e.name('attempts'), e.value(N(input.attempts))).remove(e.name(kept ? 'pOmitted' : 'p'));
    const out = await guarded(() =>
      this.opts.client.send(
        new UpdateItemCommand({
          TableName: this.opts.tableName,
          Key: { id: S(id) },
          ...e.updateParams(),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return entryOf(out.Attributes!, true);
  }

  public async get(id: string): Promise<DeadLetter | undefined> {
    if (!isDeadLetterId(id)) return undefined;
    const out = await guarded(() =>
      this.opts.client.send(
        new GetItemCommand({ TableName: this.opts.tableName, Key: { id: S(id) }, ConsistentRead: true }),
      ),
    );
    return out.Item ? entryOf(out.Item, true) : undefined;
  }

  public async list(query: DeadLetterQuery): Promise<DeadLetterPage> {
    const before = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
    const sources = query.source ? [query.source] : DEAD_LETTER_SOURCES;
    const pages = await Promise.all(sources.map((source) => this.newest(source, query.limit + 1, before)));
    const merged = pages.flat().sort((a, b) => (a.order < b.order ? 1 : a.order > b.order ? -1 : 0));
    const items = merged.slice(0, query.limit);
    const more = merged.length > query.limit;
    return { items: items.map((x) => x.entry), cursor: more ? encodeCursor(items[items.length - 1].order) : null };
  }

  /** Up to `limit` entries of one source, newest first, before `before` (an `order`). */
  private async newest(
    source: string,
    limit: number,
    before: string | undefined,
  ): Promise<{ order: string; entry: DeadLetter }[]> {
    const out: { order: string; entry: DeadLetter }[] = [];
    const e = new Expr();
    e.key(`${e.name('source')} = ${e.value(S(source))}`);
    if (before !== undefined) e.key(`${e.name('order')} < ${e.value(S(before))}`);
    const pages = queryPages(
      this.opts.client,
      { TableName: this.opts.tableName, IndexName: INDEX, ...e.queryParams(), ScanIndexForward: false },
      { limit: () => limit - out.length },
    );
    for await (const page of pages) {
      for (const it of page.items) out.push({ order: it.order.S!, entry: entryOf(it, false) });
      if (out.length >= limit) break;
    }
    return out;
  }

  public async remove(id: string): Promise<boolean> {
    if (!isDeadLetterId(id)) return false;
    const out = await guarded(() =>
      this.opts.client.send(
        new DeleteItemCommand({ TableName: this.opts.tableName, Key: { id: S(id) }, ReturnValues: 'ALL_OLD' }),
      ),
    );
    return out.Attributes !== undefined;
  }
}
