/**
 * Snapshot and restore statuses in the control table: `pk = snapshot`, `sk = <snapshot id>` (ids
 * start with their creation time, so the partition reads newest first), `pk = restore`,
 * `sk = <restore id>`, and one mark `pk = snapshot-latest`, `sk = latest` with the newest
 * COMPLETE snapshot, which health reads in one request. A RUNNING restore's counts come from its
 * parts' checkpoints (`restore-checkpoints.ts`). The manifests themselves are objects in the blob
 * store; these items are what the API answers from.
 *
 * Retention (`src/core/retention.ts`): a snapshot's item gets `ttl` at its start, the snapshots'
 * retention later, when the bucket's lifecycle rule removes its objects (S3 counts from each
 * object's creation, after the start, and rounds up to a midnight), so the API never shows a
 * snapshot whose objects are gone; a restore's item and its checkpoints get `ttl` when it ends.
 * The reads treat an item past its retention as absent (DynamoDB deletes late, DynamoDB Local
 * never). The newest-complete mark never expires: health and the age alarm go on reading its age.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { convertToAttr, marshall } from '@aws-sdk/util-dynamodb';
import type { Clock, SnapshotStore } from '../../core/ports';
import type { PartInfo, RestoreView, SnapshotManifest } from '../../core/snapshots';
import { LATEST_SNAPSHOT_KEY as LATEST, RESTORE_PK as RESTORE, SNAPSHOT_PK as SNAPSHOT } from './control-keys';
import { type RegisterOutcome, sameSnapshot } from '../../core/snapshot-import';
import { guarded, isConditionFailure } from './errors';
import { type Stored, restoreOf, snapshotOf } from './snapshot-items';
import { Expr, S, attributeNotExists } from './expressions';
import { queryPages } from './query';
import { expireCheckpoints, moveSetAside, settleCheckpoint, sumCheckpoints } from './restore-checkpoints';
import { DEFAULT_RETENTION_DAYS, type RetentionDays, isExpired, ttlAfter } from '../../core/retention';
import { CONTROL_TABLE } from './table-defs';

/** The attribute DynamoDB's TTL clean-up of the control table reads. */
const TTL = CONTROL_TABLE.ttlAttribute!;

/** Snapshots a list returns at most (newest first). */
export const LIST_LIMIT = 1000;

/** A plain value as an attribute, as `marshall` writes it (undefined members left out). */
const attr = (v: unknown) => convertToAttr(v, { removeUndefinedValues: true });

/** Condition of a Put that must not overwrite an item. */
const NEW_ITEM = (() => {
  const e = new Expr();
  return e.require(attributeNotExists(e.name('pk'))).params();
})();

export class DynamoSnapshotStore implements SnapshotStore {
  public constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: Clock,
    /** Days snapshots (from their start) and finished restores (from their end) are kept. */
    private readonly retention: Pick<RetentionDays, 'snapshots' | 'restores'> = DEFAULT_RETENTION_DAYS,
  ) {}

  /** Whether a snapshot or restore item is past its retention (its `ttl`, or its age by the retention in force). */
  private expired(item: Record<string, unknown>): boolean {
    const i = item as Record<string, { S?: string; N?: string } | undefined>;
    const ttl = i[TTL]?.N !== undefined ? Number(i[TTL]?.N) : undefined;
    const now = this.clock.now().getTime();
    // An imported snapshot is kept from its import (its copied objects are as new), whatever its age.
    if (i.pk?.S === SNAPSHOT) return isExpired(now, ttl, i.importedAt?.S ?? i.startedAt?.S, this.retention.snapshots);
    const finished = i.status?.S !== 'RUNNING' ? i.finishedAt?.S : undefined;
    return isExpired(now, ttl, finished, this.retention.restores);
  }

  /** The `ttl` of a finished restore's items. */
  private restoreTtl(): number {
    return ttlAfter(this.clock.now().getTime(), this.retention.restores);
  }

  private async getItem(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    const out = await guarded(() =>
      this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }),
      ),
    );
    return out.Item;
  }

  /** Applies the update `e` to an item whose status is RUNNING; false when it is not (or does not exist). */
  private async whileRunning(pk: string, sk: string, e: Expr): Promise<boolean> {
    e.require(`${e.name('status')} = ${e.value(S('RUNNING'))}`);
    try {
      await guarded(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { pk: { S: pk }, sk: { S: sk } },
            ...e.updateParams(),
          }),
        ),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /** Sets `values` on an item whose status is RUNNING; false when it is not (or does not exist). */
  private settle(pk: string, sk: string, values: Record<string, unknown>): Promise<boolean> {
    const e = new Expr();
    for (const [k, v] of Object.entries(values)) e.set(`${e.name(k)} = ${e.value(attr(v))}`);
    return this.whileRunning(pk, sk, e);
  }

  public async createSnapshot(id: string, namespace: string | null, segments: number): Promise<SnapshotManifest> {
    const startedAt = this.clock.now().toISOString();
    const item = {
      pk: SNAPSHOT,
      sk: id,
      ...(namespace !== null ? { ns: namespace } : {}),
      status: 'RUNNING',
      segments,
      startedAt,
      done: {},
      [TTL]: ttlAfter(Date.parse(startedAt), this.retention.snapshots),
    };
    await guarded(() =>
      this.client.send(new PutItemCommand({ TableName: this.tableName, Item: marshall(item), ...NEW_ITEM })),
    );
    const { segments: _s, ...view } = snapshotOf(marshall(item));
    return view;
  }

  /**
   * Sets the cut of a RUNNING snapshot unless it has one (or has `replacing`); returns the cut it
   * has then (`undefined` when it is not RUNNING).
   */
  public async setCut(id: string, cut: string, replacing?: string): Promise<string | undefined> {
    const e = new Expr();
    const c = e.name('cut');
    e.set(`${c} = ${e.value(S(cut))}`).require(
      replacing === undefined ? attributeNotExists(c) : `${attributeNotExists(c)} OR ${c} = ${e.value(S(replacing))}`,
    );
    if (await this.whileRunning(SNAPSHOT, id, e)) return cut;
    const now = await this.getSnapshot(id);
    return now?.status === 'RUNNING' ? now.cut : undefined;
  }

  public async partDone(id: string, part: PartInfo): Promise<void> {
    const e = new Expr();
    e.set(`${e.name('done')}.${e.name(part.name)} = ${e.value(attr({ ...part }))}`);
    await this.whileRunning(SNAPSHOT, id, e);
  }

  /**
   * Moves one record of a restore from `setAside` to `written` or `skipped` (a replayed dead
   * letter of line of `part`): on the part's checkpoint, which a running restore adds up, and on a
   * finished restore's totals. Nothing where none is set aside. Throws store errors.
   */
  public async settleSetAside(id: string, part: string, written: boolean): Promise<void> {
    await settleCheckpoint(this.client, this.tableName, id, part, written);
    await guarded(() =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: RESTORE }, sk: { S: id } },
          ...moveSetAside(written).updateParams(),
        }),
      ),
    ).catch((e: unknown) => {
      if (!isConditionFailure(e)) throw e;
    });
  }

  public async getSnapshot(id: string): Promise<Stored | undefined> {
    const item = await this.getItem(SNAPSHOT, id);
    return item && !this.expired(item) ? snapshotOf(item) : undefined;
  }

  public async listSnapshots(namespace?: string): Promise<Stored[]> {
    const out: Stored[] = [];
    const e = new Expr();
    e.key(`${e.name('pk')} = ${e.value(S(SNAPSHOT))}`);
    for await (const page of queryPages(this.client, {
      TableName: this.tableName,
      ...e.queryParams(),
      ScanIndexForward: false,
    })) {
      for (const item of page.items) {
        if (this.expired(item)) continue;
        const s = snapshotOf(item);
        if (namespace === undefined || s.namespace === null || s.namespace === namespace) out.push(s);
        if (out.length >= LIST_LIMIT) return out;
      }
    }
    return out;
  }

  public async completeSnapshot(id: string, parts: readonly PartInfo[]): Promise<SnapshotManifest> {
    const finishedAt = this.clock.now().toISOString();
    const items = parts.reduce((n, p) => n + p.items, 0);
    const bytes = parts.reduce((n, p) => n + p.bytes, 0);
    await this.settle(SNAPSHOT, id, { status: 'COMPLETE', parts: [...parts], items, bytes, finishedAt, done: {} });
    const now = await this.getSnapshot(id);
    if (!now) throw new Error(`no snapshot ${id}`);
    if (now.status !== 'COMPLETE') throw new Error(`snapshot ${id} is ${now.status}, it cannot complete`);
    // Also when an earlier attempt completed it but did not get to move the mark.
    await this.markLatest(id, now.finishedAt ?? finishedAt);
    const { segments: _s, ...view } = now;
    return view;
  }

  /** Moves the newest-complete mark forward (never back). */
  private async markLatest(id: string, finishedAt: string): Promise<void> {
    const e = new Expr();
    const at = e.name('finishedAt');
    const f = e.value(S(finishedAt));
    e.set(`${at} = ${f}`)
      .set(`${e.name('snapshotId')} = ${e.value(S(id))}`)
      .require(`${attributeNotExists(at)} OR ${at} <= ${f}`);
    try {
      await guarded(() =>
        this.client.send(new UpdateItemCommand({ TableName: this.tableName, Key: LATEST, ...e.updateParams() })),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  public async addPart(id: string, itemsBefore: number, parts: readonly PartInfo[]): Promise<boolean> {
    const items = parts.reduce((n, p) => n + p.items, 0);
    const bytes = parts.reduce((n, p) => n + p.bytes, 0);
    const e = new Expr();
    const n = e.name('items');
    e.set(`${e.name('parts')} = ${e.value(attr(parts.map((p) => ({ ...p }))))}`)
      .set(`${n} = ${e.value(attr(items))}`)
      .set(`${e.name('bytes')} = ${e.value(attr(bytes))}`)
      .require(`${e.name('status')} = ${e.value(S('COMPLETE'))}`)
      .require(`${n} = ${e.value(attr(itemsBefore))}`);
    try {
      await guarded(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { pk: { S: SNAPSHOT }, sk: { S: id } },
            ...e.updateParams(),
          }),
        ),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /**
   * Records an imported snapshot (`POST /v1/snapshots/import`): COMPLETE, with its manifest's
   * parts, totals, times and `cut`, conditioned on the id not being taken. When it is taken:
   * `same` if the snapshot recorded under that id has the same manifest (`sameSnapshot`), else
   * `different`. The newest-complete mark is not moved: it tells when this deployment last
   * exported, and an imported snapshot was exported elsewhere.
   */
  public async registerImported(manifest: SnapshotManifest): Promise<RegisterOutcome> {
    const item = {
      pk: SNAPSHOT,
      sk: manifest.id,
      ...(manifest.namespace !== null ? { ns: manifest.namespace } : {}),
      status: 'COMPLETE',
      segments: manifest.parts.length,
      startedAt: manifest.startedAt,
      finishedAt: manifest.finishedAt,
      ...(manifest.cut !== undefined ? { cut: manifest.cut } : {}),
      parts: manifest.parts.map((p) => ({ ...p })),
      items: manifest.items,
      bytes: manifest.bytes,
      done: {},
      importedAt: this.clock.now().toISOString(),
      [TTL]: ttlAfter(this.clock.now().getTime(), this.retention.snapshots),
    };
    try {
      await guarded(() =>
        this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: marshall(item, { removeUndefinedValues: true }),
            ...NEW_ITEM,
          }),
        ),
      );
      return 'registered';
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
    const raw = await this.getItem(SNAPSHOT, manifest.id);
    if (!raw) return 'different';
    return sameSnapshot(snapshotOf(raw), manifest) ? 'same' : 'different';
  }

  public async failSnapshot(id: string, error: string): Promise<void> {
    await this.settle(SNAPSHOT, id, {
      status: 'FAILED',
      error: error.slice(0, 2048),
      finishedAt: this.clock.now().toISOString(),
    });
  }

  public async latestCompleteAgeSeconds(): Promise<number | null> {
    const out = await guarded(() =>
      this.client.send(new GetItemCommand({ TableName: this.tableName, Key: LATEST, ConsistentRead: true })),
    );
    const at = out.Item?.finishedAt?.S;
    if (!at) return null;
    return Math.max(0, Math.floor((this.clock.now().getTime() - Date.parse(at)) / 1000));
  }

  public async createRestore(
    view: Omit<RestoreView, 'status' | 'written' | 'skipped' | 'finishedAt' | 'error'>,
  ): Promise<RestoreView> {
    const item = {
      pk: RESTORE,
      sk: view.id,
      snapshotId: view.snapshotId,
      ...(view.namespace !== null ? { ns: view.namespace } : {}),
      mode: view.mode,
      status: 'RUNNING',
      written: 0,
      skipped: 0,
      startedAt: view.startedAt,
    };
    await guarded(() =>
      this.client.send(new PutItemCommand({ TableName: this.tableName, Item: marshall(item), ...NEW_ITEM })),
    );
    return restoreOf(marshall(item));
  }

  /** Ids of the snapshots and restores still RUNNING (the local stack starts them again). */
  public async unfinished(): Promise<{ snapshots: string[]; restores: string[] }> {
    const running = async (pk: string) => {
      const ids: string[] = [];
      const e = new Expr();
      e.key(`${e.name('pk')} = ${e.value(S(pk))}`).filter(`${e.name('status')} = ${e.value(S('RUNNING'))}`);
      for await (const page of queryPages(this.client, { TableName: this.tableName, ...e.queryParams() }))
        for (const item of page.items) ids.push(item.sk.S!);
      return ids;
    };
    return { snapshots: await running(SNAPSHOT), restores: await running(RESTORE) };
  }

  public async getRestore(id: string): Promise<RestoreView | undefined> {
    const item = await this.getItem(RESTORE, id);
    if (!item || this.expired(item)) return undefined;
    const view = restoreOf(item);
    // While it runs, the counts are its parts' checkpoints: exactly what has been committed.
    return view.status === 'RUNNING' ? { ...view, ...(await sumCheckpoints(this.client, this.tableName, id)) } : view;
  }

  public async finishRestore(id: string, written: number, skipped: number, setAside = 0): Promise<RestoreView> {
    await this.settle(RESTORE, id, {
      status: 'COMPLETE',
      written,
      skipped,
      setAside,
      finishedAt: this.clock.now().toISOString(),
      [TTL]: this.restoreTtl(),
    });
    await expireCheckpoints(this.client, this.tableName, id, this.restoreTtl());
    const now = await this.getRestore(id);
    if (!now) throw new Error(`no restore ${id}`);
    return now;
  }

  public async failRestore(id: string, error: string): Promise<void> {
    const counts = await sumCheckpoints(this.client, this.tableName, id);
    await this.settle(RESTORE, id, {
      status: 'FAILED',
      ...counts,
      error: error.slice(0, 2048),
      finishedAt: this.clock.now().toISOString(),
      [TTL]: this.restoreTtl(),
    });
    await expireCheckpoints(this.client, this.tableName, id, this.restoreTtl());
  }
}
