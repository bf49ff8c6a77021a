/**
 * Snapshot cuts on DynamoDB (`src/core/snapshot-cut.ts` says why they make a snapshot exact).
 *
 * Control table: an open cut `snapshot-cut` / `<snapshot id>` with `cut` (ISO); a pre-image
 * `snapcut#<snapshot id>#<cut>` / `<ns>#<key>` with `img` (the replaced item, a map) or `none`. Both carry
 * `ttl`. The publisher reads the open cuts with one consistent Query, at most every
 * `CUTS_CACHE_MS`, and puts each pre-image on the condition that none is kept yet (a replayed
 * stream batch keeps the same one).
 */
import { type AttributeValue, DeleteItemCommand, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { PreImageKeeper } from '../../core/ports';
import { CUTS_CACHE_MS, CUT_KEEP_SECONDS, type OpenCut, firstAfterCut } from '../../core/snapshot-cut';
import { type SnapshotCuts, type StoredItem, cutKey } from '../../core/snapshot-ports';
import { batchGetItems } from './batch-get';
import type { Item } from './codec';
import { guarded, isConditionFailure } from './errors';
import { Expr, S, attributeNotExists } from './expressions';
import { queryPages } from './query';
import type { StreamRecordLike } from './stream-records';

const OPEN_PK = 'snapshot-cut';
/** Pre-images are kept per cut: a snapshot whose first cut came too soon takes another. */
const preImagePk = (snapshotId: string, cut: string) => `snapcut#${snapshotId}#${cut}`;

const NEW_ITEM = (() => {
  const e = new Expr();
  return e.require(attributeNotExists(e.name('pk'))).params();
})();

export class DynamoSnapshotCuts implements SnapshotCuts, PreImageKeeper<StreamRecordLike> {
  private cached: { at: number; cuts: readonly OpenCut[] } | undefined;

  public constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly nowMs: () => number = Date.now,
  ) {}

  private ttl(): AttributeValue {
    return { N: String(Math.floor(this.nowMs() / 1000) + CUT_KEEP_SECONDS) };
  }

  public async open(snapshotId: string, cut: string): Promise<void> {
    await guarded(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: { pk: S(OPEN_PK), sk: S(snapshotId), cut: S(cut), ttl: this.ttl() },
        }),
      ),
    );
  }

  public async close(snapshotId: string): Promise<void> {
    await guarded(() =>
      this.client.send(new DeleteItemCommand({ TableName: this.table, Key: { pk: S(OPEN_PK), sk: S(snapshotId) } })),
    );
  }

  /** The open cuts, read consistently (or as read at most `CUTS_CACHE_MS` ago). */
  public async openCuts(): Promise<readonly OpenCut[]> {
    const now = this.nowMs();
    if (this.cached && now - this.cached.at < CUTS_CACHE_MS) return this.cached.cuts;
    const e = new Expr();
    e.key(`${e.name('pk')} = ${e.value(S(OPEN_PK))}`);
    const cuts: OpenCut[] = [];
    const nowS = Math.floor(now / 1000);
    for await (const page of queryPages(this.client, {
      TableName: this.table,
      ...e.queryParams(),
      ConsistentRead: true,
    }))
      for (const it of page.items)
        if (it.cut?.S && Number(it.ttl?.N ?? Infinity) > nowS) cuts.push({ snapshotId: it.sk.S!, cut: it.cut.S });
    this.cached = { at: now, cuts };
    return cuts;
  }

  /**
   * Keeps the pre-images a batch of stream records holds for the open cuts. Throws store errors:
   * the batch is then retried, and keeps the same pre-images.
   */
  public async keep(records: readonly StreamRecordLike[]): Promise<void> {
    const cuts = await this.openCuts();
    if (cuts.length === 0) return;
    const puts: Item[] = [];
    for (const r of records) {
      const keys = (r.dynamodb?.Keys ?? {}) as Item;
      const ns = keys.ns?.S;
      const key = keys.k?.S;
      if (ns === undefined || key === undefined) continue;
      const old = r.dynamodb?.OldImage as Item | undefined;
      const neu = r.dynamodb?.NewImage as Item | undefined;
      for (const c of cuts) {
        if (!firstAfterCut(old && (old.at?.S ?? ''), neu && (neu.at?.S ?? ''), c.cut)) continue;
        puts.push({
          pk: S(preImagePk(c.snapshotId, c.cut)),
          sk: S(cutKey(ns, key)),
          ...(old ? { img: { M: old } } : { none: { BOOL: true } }),
          ttl: this.ttl(),
        });
      }
    }
    // Each put is conditioned on no pre-image being kept yet: the first write after the cut wins.
    await Promise.all(puts.map((Item) => this.putNew(Item)));
  }

  private async putNew(item: Item): Promise<void> {
    try {
      await this.client.send(new PutItemCommand({ TableName: this.table, Item: item, ...NEW_ITEM }));
    } catch (e) {
      if (isConditionFailure(e)) return;
      await guarded(() => Promise.reject(e));
    }
  }

  public async preImages(
    snapshotId: string,
    cut: string,
    keys: readonly string[],
  ): Promise<Map<string, StoredItem | null>> {
    const out = new Map<string, StoredItem | null>();
    const items = await batchGetItems(
      this.client,
      this.table,
      keys.map((k) => ({ pk: S(preImagePk(snapshotId, cut)), sk: S(k) })),
    );
    for (const it of items) out.set(it.sk.S!, it.img?.M ? (it.img.M as StoredItem) : null);
    return out;
  }
}
