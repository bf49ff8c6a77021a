/**
 * The change log on DynamoDB (layout: `CHANGES_TABLE` in table-defs.ts).
 *
 * Append: one `TransactWriteItems` per chunk of a namespace's changes moves the head from `h` to
 * `h + n` (conditioned on it still being `h`), puts changes `h + 1 .. h + n`, and puts one id item
 * per change conditioned on not existing. So numbers never have gaps or repeats, and a replayed
 * change (its id item exists) is dropped from the chunk and the rest retried. Heads are cached per
 * instance: a stale cache costs one failed transaction, which hands back the current head.
 *
 * Read: one consistent `Query` of `seq > after` returns the changes in order and then the head.
 * DynamoDB does not promise that a `Query` sees a concurrent transaction's items all at once, so a
 * hole in the numbers may be a commit in flight: a read stops before a hole, and a hole right after
 * the cursor is looked at again once, `GAP_RECHECK_MS` later. A hole that is still there is changes
 * that DynamoDB's TTL clean-up removed: `CursorExpiredError`. Expiry is also checked on every
 * change (`exp`), as TTL deletion is late and DynamoDB Local never does it.
 */
import { type DynamoDBClient, type TransactWriteItem, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { backoffMs, sleep } from '../../core/backoff';
import { type ChangeDetail, DEFAULT_CHANGE_RETENTION_SECONDS, keyMatches } from '../../core/changes';
import { CursorExpiredError } from '../../core/errors';
import { isDependencyFailure } from '../../core/dead-letters';
import { parseJson, stringifyJson } from '../../core/json';
import type { AppendOutcome, ChangeLog, ChangePage, ChangeQuery, ChangeSubstitute, Clock } from '../../core/ports';
import { cancellationReasons, conditionFailed } from './cancellation';
import { translate } from './errors';
import { Expr, N, S, attributeNotExists } from './expressions';
import { queryPages } from './query';
import { HEAD_SEQ, changeMarkerKey } from './control-keys';

export { HEAD_SEQ };
/** Changes per transaction: 1 head update + 2 items per change within DynamoDB's 100. */
export const MAX_CHANGES_PER_APPEND = 49;
/** Detail bytes of one change item (with its key twice), under DynamoDB's 400 KB per item. */
export const MAX_DETAIL_BYTES = 390 * 1024;
/** Detail bytes per transaction, under DynamoDB's 4 MB per transaction. */
export const MAX_APPEND_BYTES = 3 * 1024 * 1024;
/** Tries of one chunk under contention (other publishers appending to the same namespace). */
export const MAX_APPEND_ATTEMPTS = 60;
/** Detail bytes per read, so an answer stays well under Lambda's 6 MB response limit. */
export const MAX_READ_BYTES = 4 * 1024 * 1024;
/** How long a hole after the cursor is given to fill before it counts as expired. */
export const GAP_RECHECK_MS = 150;
/** Backoff after a chunk lost to a conflicting transaction on the head (or throttled). */
export const APPEND_BACKOFF = { baseMs: 5, capMs: 200 } as const;
/** DynamoDB's TTL clean-up may delete a change this long after its `exp`. */
const TTL_GRACE_SECONDS = 3600;

export interface DynamoChangeLogOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly clock: Clock;
  /** @default DEFAULT_CHANGE_RETENTION_SECONDS (24 h) */
  readonly retentionSeconds?: number;
}

/** The condition of an id item's Put: no change with that id was appended before. */
const ID_IS_NEW = (() => {
  const e = new Expr();
  return e.require(attributeNotExists(e.name('ns'))).params();
})();
const GAP = Symbol('gap');

export class DynamoChangeLog implements ChangeLog {
  private readonly heads = new Map<string, number>();
  private readonly retention: number;

  public constructor(private readonly opts: DynamoChangeLogOptions) {
    this.retention = opts.retentionSeconds ?? DEFAULT_CHANGE_RETENTION_SECONDS;
  }

  public async append(changes: readonly ChangeDetail[], substitute?: ChangeSubstitute): Promise<AppendOutcome> {
    const byNs = new Map<string, ChangeDetail[]>();
    const seen = new Set<string>();
    let duplicates = 0;
    for (const c of changes) {
      if (seen.has(c.id)) {
        duplicates++;
        continue;
      }
      seen.add(c.id);
      byNs.set(c.namespace, [...(byNs.get(c.namespace) ?? []), c]);
    }
    let appended = 0;
    let error: unknown;
    const notDone = new Set<string>();
    await Promise.all(
      [...byNs].map(async ([ns, list]) => {
        let i = 0;
        try {
          while (i < list.length) {
            const chunk = nextChunk(list, i);
            const r = await this.appendIsolating(ns, chunk, substitute);
            appended += r.appended;
            duplicates += r.duplicates;
            i += chunk.length;
          }
        } catch (e) {
          error ??= e;
          for (const c of list.slice(i)) notDone.add(c.id);
        }
      }),
    );
    return { appended, duplicates, notDone, ...(error !== undefined ? { error } : {}) };
  }

  /**
   * Appends a chunk; when the store refuses it for something else than throttling, unavailability
   * or contention, appends its changes one at a time, and one the store refuses on its own is
   * replaced by its substitute (which must then go in). Throws what it cannot get past.
   */
  private async appendIsolating(
    ns: string,
    chunk: readonly ChangeDetail[],
    substitute?: ChangeSubstitute,
  ): Promise<{ appended: number; duplicates: number }> {
    try {
      return await this.appendChunk(ns, chunk);
    } catch (e) {
      if (isDependencyFailure(e) || !substitute) throw e;
      if (chunk.length === 1) return this.appendChunk(ns, [await substitute(chunk[0], e)]);
    }
    const total = { appended: 0, duplicates: 0 };
    for (const c of chunk) {
      const r = await this.appendIsolating(ns, [c], substitute);
      total.appended += r.appended;
      total.duplicates += r.duplicates;
    }
    return total;
  }

  private async appendChunk(
    ns: string,
    chunk: readonly ChangeDetail[],
  ): Promise<{ appended: number; duplicates: number }> {
    const { client, tableName, clock } = this.opts;
    let pending = chunk;
    let duplicates = 0;
    let head = this.heads.get(ns) ?? 0;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      if (pending.length === 0) return { appended: 0, duplicates };
      const nowMs = clock.now().getTime();
      const exp = Math.floor(nowMs / 1000) + this.retention;
      const ttl = N(exp + TTL_GRACE_SECONDS);
      const move = new Expr();
      const h = move.name('head');
      move
        .set(`${h} = ${move.value(N(head + pending.length))}`)
        .require(head === 0 ? attributeNotExists(h) : `${h} = ${move.value(N(head))}`);
      const items: TransactWriteItem[] = [
        {
          Update: {
            TableName: tableName,
            Key: { ns: S(ns), seq: N(HEAD_SEQ) },
            ...move.updateParams(),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        ...pending.flatMap((c, i): TransactWriteItem[] => [
          {
            Put: {
              TableName: tableName,
              Item: {
                ns: S(ns),
                seq: N(head + 1 + i),
                id: S(c.id),
                k: S(c.key),
                d: S(storedDetail(c)),
                at: N(nowMs),
                exp: N(exp),
                ttl,
              },
            },
          },
          { Put: { TableName: tableName, Item: { ...changeMarkerKey(c.id), ttl }, ...ID_IS_NEW } },
        ]),
      ];
      try {
        await client.send(new TransactWriteItemsCommand({ TransactItems: items }));
        this.heads.set(ns, head + pending.length);
        return { appended: pending.length, duplicates };
      } catch (err) {
        const reasons = cancellationReasons(err);
        if (!reasons) throw translate(err);
        const moved = conditionFailed(reasons[0]);
        if (moved) head = Number(reasons[0].Item?.head?.N ?? 0);
        const replayed = new Set(pending.filter((_c, i) => conditionFailed(reasons[2 + 2 * i])).map((c) => c.id));
        duplicates += replayed.size;
        pending = pending.filter((c) => !replayed.has(c.id));
        // A conflict with another transaction on the head (or a throttled one): back off and retry.
        if (!moved && replayed.size === 0) await sleep(backoffMs(attempt, APPEND_BACKOFF));
      }
    }
    throw translate(
      Object.assign(new Error(`could not append to the change log of ${ns}: too much contention`), {
        name: 'ServiceUnavailable',
      }),
    );
  }

  public async read(ns: string, query: ChangeQuery): Promise<ChangePage> {
    const first = await this.readOnce(ns, query, false);
    if (first !== GAP) return first;
    await sleep(GAP_RECHECK_MS);
    const second = await this.readOnce(ns, query, true);
    if (second === GAP) {
      throw new CursorExpiredError(
        `changes after this cursor are no longer kept (they are kept ${this.retention / 3600} hours); start again without after`,
      );
    }
    return second;
  }

  /** One pass; `GAP` when a hole right after the position may still be filling. */
  private async readOnce(ns: string, query: ChangeQuery, holesAreFinal: boolean): Promise<ChangePage | typeof GAP> {
    const nowS = Math.floor(this.opts.clock.now().getTime() / 1000);
    let beginning = query.after === undefined;
    // The key condition stays at the starting position; later pages go on from where the last stopped.
    const from = query.after ?? 0;
    let pos = from;
    const items: ChangeDetail[] = [];
    let bytes = 0;
    const e = new Expr();
    e.key(`${e.name('ns')} = ${e.value(S(ns))}`).key(`${e.name('seq')} > ${e.value(N(from))}`);
    const pages = queryPages(this.opts.client, {
      TableName: this.opts.tableName,
      ...e.queryParams(),
      ConsistentRead: true,
      Limit: Math.min(1000, query.limit + 1),
    });
    for await (const page of pages) {
      for (const it of page.items) {
        const seq = Number(it.seq.N);
        const next = seq === HEAD_SEQ ? Number(it.head?.N ?? 0) + 1 : seq;
        if (next > pos + 1) {
          // A hole: changes pos+1 .. next-1 are not visible.
          if (items.length > 0) return { items, seq: pos };
          if (!holesAreFinal) return GAP;
          if (!beginning) return GAP;
          pos = next - 1; // from the oldest kept: what TTL removed is simply not there
        }
        if (seq === HEAD_SEQ) return { items, seq: pos };
        if (Number(it.exp?.N ?? 0) <= nowS && (beginning || pos === query.after)) {
          if (!beginning) {
            throw new CursorExpiredError(
              `change ${seq} after this cursor is no longer kept (changes are kept ${this.retention / 3600} hours); start again without after`,
            );
          }
          pos = seq;
          continue;
        }
        beginning = false;
        pos = seq;
        const d = it.d?.S ?? '{}';
        const detail = parseJson(d, Infinity) as ChangeDetail;
        if (!keyMatches(detail.key, query.prefix)) continue;
        items.push(detail);
        bytes += d.length;
        if (items.length >= query.limit || bytes >= MAX_READ_BYTES) return { items, seq: pos };
      }
    }
    return { items, seq: pos };
  }
}

/**
 * The detail as kept in a change item: whole (`expires` included, so that a read can leave out
 * what is due by then), or without `fields`, `expires` and `siblings` (and with
 * `fieldsOmitted`) when it would not fit DynamoDB's 400 KB item, as on the event bus.
 */
export function storedDetail(c: ChangeDetail): string {
  const full = stringifyJson(c);
  if (Buffer.byteLength(full, 'utf8') + 2 * Buffer.byteLength(c.key, 'utf8') <= MAX_DETAIL_BYTES) return full;
  const { fields: _fields, siblings: _siblings, expires: _expires, ...rest } = c;
  return stringifyJson({ ...rest, fieldsOmitted: true });
}

/** The next chunk of `list` from `i` that fits one transaction (at least one change). */
function nextChunk(list: readonly ChangeDetail[], i: number): ChangeDetail[] {
  const chunk: ChangeDetail[] = [];
  let bytes = 0;
  for (let j = i; j < list.length && chunk.length < MAX_CHANGES_PER_APPEND; j++) {
    const size = Math.min(Buffer.byteLength(stringifyJson(list[j])), MAX_DETAIL_BYTES) + 200;
    if (chunk.length > 0 && bytes + size > MAX_APPEND_BYTES) break;
    chunk.push(list[j]);
    bytes += size;
  }
  return chunk;
}
