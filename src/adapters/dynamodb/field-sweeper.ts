/**
 * The field sweeper: finds records with a field due by now through the records table's sparse
 * `byFieldExpiry` index (one Query per shard for `due <= now`, so it reads records with due
 * fields only, never the rest of the table), reads each record (consistent), and removes its due
 * fields as one committed `expire-fields` write (a `PutItem` conditioned on the record as read).
 * Reads never depend on it: a due field is invisible from its due instant on (`visibleAt`); the
 * sweeper only reclaims storage and publishes the removal as a change.
 *
 * The stored `due` is a lower bound (a PATCH that refreshes a field keeps the earlier bound): a
 * record found with nothing due gets its bound moved to its true earliest expiry (or its index
 * entry removed) by an `UpdateItem` that changes neither `rev` nor `op`, which the change
 * publisher ignores (it publishes only writes that advance `rev`). Safe to run twice at once:
 * every write is conditioned on the record's unchanged `inc` and `rev`.
 *
 * One record never stops a run: a record that cannot be swept after `ITEM_ATTEMPTS` tries (for
 * another reason than a dependency failure, which ends the run), e.g. an item it cannot decode, is
 * set aside as a dead letter (source `sweeper`); it stays in the index, so every later run tries
 * it again. A record that keeps changing under the sweeper is left to the next run.
 *
 * In a deployment of several Regions every Region's sweeper runs, each on its own items only
 * (`regional-sweeper.ts`); in one Region the requests are exactly the ones above.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type SetAside, errorOf, tryItem } from '../../core/dead-letters';
import { earliestDue } from '../../core/field-expiry';
import { lagSeconds, sweepPlan } from '../../core/field-sweep';
import type { Clock } from '../../core/ports';
import { FIELD_EXPIRY_SHARDS, fromItem, keyOf, toItem } from './codec';
import { FIELD_SWEEPER_STATUS_KEY } from './control-keys';
import { guarded, isConditionFailure, translate } from './errors';
import { Expr, N, S } from './expressions';
import { queryPages } from './query';
import { unchangedClause } from './record-clauses';
import type { RegionalSweeper } from './regional-sweeper';
import { type RecordSweep, SWEEP_RACE_ATTEMPTS, boundUpdate } from './sweep-bounds';

export { type RecordSweep, SWEEP_RACE_ATTEMPTS, boundUpdate } from './sweep-bounds';

export const SWEEPER_PAGE_SIZE = 100;

export interface SweepResult {
  /** Records written: each an `expire-fields` write (one more `rev`). */
  readonly swept: number;
  /** Fields removed, one per field per record (a field of two siblings counts once). */
  readonly fieldsRemoved: number;
  /** Items read: index items, and one per record read. */
  readonly itemsRead: number;
  /** Seconds from the oldest due time it removed to the run, 0 when none (how far behind expiry it ran). */
  readonly lagSeconds: number;
  /** Records it could not sweep and set aside as dead letters. */
  readonly setAside: number;
}

export interface FieldSweeperOptions {
  readonly client: DynamoDBClient;
  readonly recordsTable: string;
  /** Where the last run is recorded (for health). */
  readonly controlTable: string;
  /** Version-vector replica id of this deployment, which the sweeper's writes advance. */
  readonly replica: string;
  readonly clock: Clock;
  readonly setAsideItem: SetAside;
  /**
   * A deployment of several Regions: this Region's sweeper of its own items (`regional-sweeper.ts`);
   * the index items of other Regions are skipped. @default one Region
   */
  readonly regional?: RegionalSweeper;
}

export class FieldSweeper {
  public constructor(private readonly opts: FieldSweeperOptions) {}

  /**
   * Removes the fields of record `ns`/`key` due by now, or fixes its `due` bound when none is (in
   * several Regions, `RegionalSweeper.sweep`: this Region's own item). Throws store errors
   * (translated) and what decoding the item throws.
   */
  public async sweep(ns: string, key: string): Promise<RecordSweep> {
    if (this.opts.regional) return this.opts.regional.sweep(ns, key);
    const { client, recordsTable, clock, replica } = this.opts;
    let reads = 0;
    for (let attempt = 0; attempt < SWEEP_RACE_ATTEMPTS; attempt++) {
      reads += 1;
      const out = await guarded(() =>
        client.send(new GetItemCommand({ TableName: recordsTable, Key: keyOf(ns, key), ConsistentRead: true })),
      );
      if (!out.Item) return { reads, removed: [] };
      const state = fromItem(out.Item);
      const now = clock.now();
      const storedDue = out.Item.due?.N === undefined ? undefined : Number(out.Item.due.N);
      const plan = sweepPlan(state, storedDue, now.getTime(), replica, now.toISOString());
      if (plan.kind === 'none') return { reads, removed: [] };
      const e = new Expr();
      e.require(unchangedClause(e, state));
      try {
        if (plan.kind === 'write') {
          const item = toItem(plan.state, 'expire-fields', plan.expired);
          await client.send(new PutItemCommand({ TableName: recordsTable, Item: item, ...e.params() }));
          return { reads, removed: plan.expired, oldestDue: earliestDue(state) };
        }
        await client.send(
          new UpdateItemCommand({ TableName: recordsTable, Key: keyOf(ns, key), ...boundUpdate(e, ns, key, plan.due) }),
        );
        return { reads, removed: [] };
      } catch (err) {
        if (!isConditionFailure(err)) throw translate(err);
      }
    }
    return { reads, removed: [] };
  }

  /**
   * Sweeps every record with a field due by now, setting aside those it cannot; records the run
   * for health. Throws dependency failures (`ThrottledError`, `UnavailableError`) and what
   * setting aside throws.
   */
  public async run(): Promise<SweepResult> {
    const now = this.opts.clock.now().getTime();
    let swept = 0;
    let fieldsRemoved = 0;
    let itemsRead = 0;
    let oldest: number | undefined;
    let setAside = 0;
    for (let shard = 0; shard < FIELD_EXPIRY_SHARDS; shard++) {
      const e = new Expr();
      e.key(`${e.name('xshard')} = ${e.value(S(`fx#${shard}`))}`).key(`${e.name('due')} <= ${e.value(N(now))}`);
      const pages = queryPages(this.opts.client, {
        TableName: this.opts.recordsTable,
        IndexName: 'byFieldExpiry',
        ...e.queryParams(),
        Limit: SWEEPER_PAGE_SIZE,
      });
      for await (const page of pages) {
        itemsRead += page.scanned;
        for (const it of page.items) {
          const regional = this.opts.regional;
          const ns = regional ? regional.ownNamespace(it.ns.S!) : it.ns.S!;
          if (ns === undefined) continue; // another Region's item: its own sweeper's
          const key = it.k.S!;
          const out = await tryItem(() => this.sweep(ns, key), { translate });
          if (!out.ok) {
            await this.opts.setAsideItem({
              source: 'sweeper',
              item: { namespace: ns, key },
              error: errorOf(out.error),
              attempts: out.attempts,
              payload: { namespace: ns, key },
            });
            setAside += 1;
            continue;
          }
          itemsRead += out.value.reads;
          if (out.value.removed.length === 0) continue;
          swept += 1;
          fieldsRemoved += out.value.removed.length;
          if (out.value.oldestDue !== undefined) oldest = Math.min(oldest ?? now, out.value.oldestDue);
        }
      }
    }
    const lag = lagSeconds(now, oldest);
    await guarded(() =>
      this.opts.client.send(
        new PutItemCommand({
          TableName: this.opts.controlTable,
          Item: { ...FIELD_SWEEPER_STATUS_KEY, lastRunAt: N(now), lastLagSeconds: N(lag), lastSwept: N(swept) },
        }),
      ),
    );
    return { swept, fieldsRemoved, itemsRead, lagSeconds: lag, setAside };
  }

  /** Seconds since the sweeper last finished a run; null if it never has. */
  public async secondsSinceLastRun(): Promise<number | null> {
    const out = await guarded(() =>
      this.opts.client.send(
        new GetItemCommand({ TableName: this.opts.controlTable, Key: FIELD_SWEEPER_STATUS_KEY, ConsistentRead: true }),
      ),
    );
    const at = out.Item?.lastRunAt?.N;
    return at ? Math.max(0, Math.round((this.opts.clock.now().getTime() - Number(at)) / 1000)) : null;
  }
}
