/**
 * The field sweeper's part in a deployment of several Regions (docs/regions.md): every Region's
 * sweeper runs, and each handles only its own items among those the `byFieldExpiry` index holds
 * (the index is on the replicated table, so it holds every Region's items; the others are
 * skipped by their partition, `<ns>` in the first Region, `<ns>@<region>` in the others).
 *
 * For one of its items it reads the key's item in every Region (one `BatchGetItem`), joins them
 * and decides with `regionalSweepPlan` (`src/core/regions/sweep.ts`, where the rule of which Region
 * sweeps, and what happens when Regions are cut off from each other, is written down):
 * - the removal: one `PutItem` of this Region's own item made by `writeRegional` (an
 *   `expire-fields` write: new dots, a context covering everything read, `xf` naming the fields),
 *   conditioned on the own item being the version read; a lost race reads again, as every
 *   regional write does, up to `SWEEP_RACE_ATTEMPTS` reads;
 * - the bound: an `UpdateItem` of the own item's `due` (or its removal), with no `rev` change,
 *   which no change publisher publishes;
 * - nothing, while another Region is the one that sweeps (the next run looks again).
 */
import { type DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Clock } from '../../core/ports';
import { joinAll } from '../../core/regions/merge';
import { SWEEP_TAKEOVER_MS, oldestDueShown, regionalSweepPlan } from '../../core/regions/sweep';
import { writeRegional } from '../../core/regions/writes';
import { isConditionFailure, translate } from './errors';
import { Expr } from './expressions';
import { type RecordSweep, SWEEP_RACE_ATTEMPTS, boundUpdate } from './sweep-bounds';
import { unchangedClause } from './record-clauses';
import { regionalKeyOf, toRegionalItem } from './regional-codec';
import { modeOf } from '../../core/regions/read';
import { readRegionalItems } from './regional-records';

export interface RegionalSweeperOptions {
  readonly client: DynamoDBClient;
  readonly recordsTable: string;
  /** Every Region of the deployment, the first one first. */
  readonly regions: readonly string[];
  /** This Region: the one whose items it sweeps. */
  readonly self: string;
  readonly clock: Clock;
  /**
   * How long a due field of a value this Region's item holds waits for the sweeping Region before
   * this Region sweeps it too. @default SWEEP_TAKEOVER_MS (15 minutes)
   */
  readonly takeoverMs?: number;
}

export class RegionalSweeper {
  private readonly first: string;

  /** Throws an `Error` when `self` is not one of `regions`. */
  public constructor(private readonly opts: RegionalSweeperOptions) {
    if (!opts.regions.includes(opts.self)) throw new Error(`Region ${opts.self} is not one of ${opts.regions}`);
    this.first = opts.regions[0];
  }

  /**
   * The namespace of an index item of partition `partition` when the item is this Region's own;
   * undefined for another Region's item. Never throws.
   */
  public ownNamespace(partition: string): string | undefined {
    const at = partition.indexOf('@');
    if (this.opts.self === this.first) return at < 0 ? partition : undefined;
    return at > 0 && partition.slice(at + 1) === this.opts.self ? partition.slice(0, at) : undefined;
  }

  /**
   * Removes the fields of `ns`/`key` due by now when this Region is the one that sweeps them,
   * or fixes its own item's bound when nothing is due. `reads` counts the items read (up to one
   * per Region per try). Throws store errors (translated) and what decoding an item throws.
   */
  public async sweep(ns: string, key: string): Promise<RecordSweep> {
    const { client, recordsTable, regions, self, clock } = this.opts;
    let reads = 0;
    for (let attempt = 0; attempt < SWEEP_RACE_ATTEMPTS; attempt++) {
      const items = (await readRegionalItems({ client, tableName: recordsTable, regions }, ns, [key])).get(key) ?? [];
      reads += items.length;
      const own = items.find((i) => i.region === self);
      const joined = joinAll(items.map((i) => i.state));
      const mode = modeOf(items);
      const now = clock.now();
      const nowMs = now.getTime();
      const takeover = this.opts.takeoverMs ?? SWEEP_TAKEOVER_MS;
      const plan = regionalSweepPlan(joined, own?.state, own?.due, mode, self, nowMs, takeover);
      if (!joined || !own || plan.kind === 'none' || plan.kind === 'wait') return { reads, removed: [] };
      const e = new Expr();
      e.require(unchangedClause(e, own.state));
      try {
        if (plan.kind === 'write') {
          // Stamped no earlier than what it read, as every write (stamps never go down).
          const stamp = [joined.updatedAt, now.toISOString()].sort()[1];
          const env = { replica: self, now: stamp, mode };
          const w = writeRegional(ns, key, joined, undefined, { op: 'expire-fields', nowMs }, {}, env);
          const item = toRegionalItem(w.item, self, this.first, 'expire-fields', mode, w.expired);
          await client.send(new PutItemCommand({ TableName: recordsTable, Item: item, ...e.params() }));
          return { reads, removed: w.expired ?? [], oldestDue: oldestDueShown(joined, mode, nowMs) };
        }
        const params = boundUpdate(e, ns, key, plan.due);
        const Key = regionalKeyOf(ns, key, self, this.first);
        await client.send(new UpdateItemCommand({ TableName: recordsTable, Key, ...params }));
        return { reads, removed: [] };
      } catch (err) {
        if (!isConditionFailure(err)) throw translate(err);
      }
    }
    return { reads, removed: [] };
  }
}
