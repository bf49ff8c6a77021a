/**
 * The records store on DynamoDB.
 *
 * Fast path: every single-key write is one `UpdateItem` whose condition expresses the request's
 * preconditions and whose update computes the next `rev`, version-vector entry and dot on the
 * server, returning the new item (`ALL_NEW`); the expressions are built in `fast-writes.ts`. Conflict path: when the condition fails DynamoDB
 * returns the item as it stands (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), the pure
 * transitions of `src/core/records.ts` decide (412 with `current`, 409, or the next state), and
 * a `PutItem` conditioned on the exact `(inc, rev)` seen commits it — two requests in all.
 */
import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { backoffMs, sleep } from '../../core/backoff';
import { UnavailableError } from '../../core/errors';
import type { Clock, ListPage, ListQuery, RecordStore, RecordWrite, TxnResult, WriteResult } from '../../core/ports';
import { type RecordState, type Sibling, expired } from '../../core/record-view';
import { type WritesInFlight, stampedAfter } from '../../core/snapshot-cut';
import {
  type Preconditions,
  type Transition,
  type WriteEnv,
  applyDelete,
  applyPatch,
  applyPut,
} from '../../core/records';
import type { ConflictMode, Fields, PatchBody, TxnBody } from '../../core/types';
import type { ChangeKind } from '../../core/changes';
import { visibleAt } from '../../core/field-expiry';
import { type Item, fromItem, keyOf, toItem } from './codec';
import { unchangedClause } from './record-clauses';
import { Expr } from './expressions';
import { cancellationReasons, conditionFailed, firstConditionFailure } from './cancellation';
import { guarded, isConditionFailure, isNumberRangeError, isOperandTypeError } from './errors';
import type { DynamoLeaseStore } from './lease-store';
import { listRecords } from './list';
import { type WriteGuards, hasGuards, planGuards } from './write-guards';
import { deleteUpdate, expireAttachedUpdate, patchUpdate, putUpdate } from './fast-writes';
import { type TxnExtra, transact } from './transactions';
import { RegionalRecords } from './regional-records';

export interface DynamoRecordStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Version-vector replica id of this deployment (its Region, or `local`). */
  readonly replica: string;
  readonly clock: Clock;
  /** Leases and locks, for records that belong to a lease and for fenced writes. */
  readonly leases: DynamoLeaseStore;
  /** The control table (leases and locks), for the guard items of transactions. */
  readonly controlTable: string;
  /** Told of every record write while it runs, when snapshots are taken in this process. */
  readonly inFlight?: WritesInFlight;
  /**
   * Every Region of a deployment in several (the first one first); with more than one, reads and
   * writes take the layout of `regional-records.ts`. @default one Region
   */
  readonly regions?: readonly string[];
}

/** Conditional retries of the conflict path before answering 503 (only under heavy contention). */
export const MAX_SETTLE_ATTEMPTS = 25;
/** Returns of a PATCH from a lost conflict-path race to its single-request path. */
export const MAX_FAST_RETRIES = 5;
/** Backoff between conditional retries of the conflict path. */
export const SETTLE_BACKOFF = { baseMs: 1, capMs: 50 } as const;

type Known = { readonly state: RecordState | undefined } | undefined;

export class DynamoRecordStore implements RecordStore {
  /** The layout of a deployment in several Regions; undefined in one. */
  private readonly regional?: RegionalRecords;

  public constructor(private readonly opts: DynamoRecordStoreOptions) {
    const regions = opts.regions ?? [];
    if (regions.length > 1) {
      this.regional = new RegionalRecords({ ...opts, regions, self: opts.replica, resolve: (s) => this.resolve(s) });
    }
  }

  public async get(ns: string, key: string): Promise<RecordState | undefined> {
    if (this.regional) return this.regional.get(ns, key);
    const out = await guarded(() =>
      this.opts.client.send(
        new GetItemCommand({ TableName: this.opts.tableName, Key: keyOf(ns, key), ConsistentRead: true }),
      ),
    );
    return this.resolve(out.Item ? fromItem(out.Item) : undefined);
  }

  /**
   * The record as reads see it now: without the fields due by the service clock, gone when no
   * value is left (`visibleAt`), and gone when it belongs to a lease that is no longer live (one
   * more read, only for leased records).
   */
  public async resolve(state: RecordState | undefined): Promise<RecordState | undefined> {
    const seen = visibleAt(state, this.opts.clock.now().getTime());
    if (!seen?.lease) return seen;
    return (await this.opts.leases.load(seen.lease)) ? seen : expired(seen);
  }

  public put(ns: string, key: string, fields: Fields, w: RecordWrite): Promise<WriteResult> {
    const r = this.regional;
    if (r)
      return this.tracked(() =>
        r.write(ns, key, { op: 'put', fields, expire: w.expire }, 'put', w.pre, w.mode, w.guards),
      );
    return this.tracked(() => this.putNow(ns, key, fields, w));
  }

  private putNow(
    ns: string,
    key: string,
    fields: Fields,
    { pre, mode, guards, expire = {} }: RecordWrite,
  ): Promise<WriteResult> {
    const env = this.env(mode, guards);
    const slow = (known: Known) =>
      this.settle(ns, key, known, 'put', (s) => applyPut(s, ns, key, fields, pre, env, expire), undefined, guards);
    if (hasGuards(guards)) return slow(undefined);
    const e = putUpdate(ns, key, fields, pre, env, expire);
    return e ? this.fastWrite(ns, key, e, slow) : slow(undefined);
  }

  public patch(ns: string, key: string, patch: PatchBody, w: RecordWrite): Promise<WriteResult> {
    const r = this.regional;
    if (r) return this.tracked(() => r.write(ns, key, { op: 'patch', patch }, 'patch', w.pre, w.mode, w.guards));
    return this.tracked(() => this.patchNow(ns, key, patch, w));
  }

  private patchNow(
    ns: string,
    key: string,
    patch: PatchBody,
    { pre, mode, guards }: RecordWrite,
  ): Promise<WriteResult> {
    if (hasGuards(guards)) {
      const env = this.env(mode, guards);
      return this.settle(
        ns,
        key,
        undefined,
        'patch',
        (s) => applyPatch(s, ns, key, patch, pre, env),
        undefined,
        guards,
      );
    }
    return this.patchAttempt(ns, key, patch, pre, mode, 0);
  }

  /**
   * One try of a PATCH. A conflict-path commit that loses a race (typically many clients
   * creating the same counter at once) goes back to the single-request server-side update,
   * which cannot lose one, instead of competing again on exact revisions.
   */
  private patchAttempt(
    ns: string,
    key: string,
    patch: PatchBody,
    pre: Preconditions,
    mode: ConflictMode,
    depth: number,
  ): Promise<WriteResult> {
    const env = this.env(mode);
    const again = depth < MAX_FAST_RETRIES ? () => this.patchAttempt(ns, key, patch, pre, mode, depth + 1) : undefined;
    const slow = (known: Known) =>
      this.settle(ns, key, known, 'patch', (s) => applyPatch(s, ns, key, patch, pre, env), again);
    const e = patchUpdate(ns, key, patch, pre, env);
    return e ? this.fastWrite(ns, key, e, slow) : slow(undefined);
  }

  public delete(ns: string, key: string, pre: Preconditions, guards?: WriteGuards): Promise<void> {
    const r = this.regional;
    if (r)
      return this.tracked(
        async () => void (await r.write(ns, key, { op: 'delete' }, 'delete', pre, undefined, guards)),
      );
    return this.tracked(() => this.deleteNow(ns, key, pre, guards));
  }

  private async deleteNow(ns: string, key: string, pre: Preconditions, guards?: WriteGuards): Promise<void> {
    const env = this.env('reject');
    const slow = (known: Known) =>
      this.settle(
        ns,
        key,
        known,
        'delete',
        (s) => ({ state: applyDelete(s, pre, env), created: false }),
        undefined,
        guards,
      );
    const e = hasGuards(guards) ? undefined : deleteUpdate(ns, key, pre, env);
    if (e) await this.fastWrite(ns, key, e, slow, false);
    else await slow(undefined);
  }

  /**
   * In a deployment of several Regions, the `reject`-mode losers of a record as every Region's
   * items join now (one request), with the joined record; undefined in one Region.
   */
  public async losers(
    ns: string,
    key: string,
  ): Promise<{ state: RecordState; losers: readonly Sibling[] } | undefined> {
    return this.regional?.losers(ns, key);
  }

  public list(ns: string, query: ListQuery): Promise<ListPage> {
    if (this.regional) return this.regional.list(ns, query);
    // One lease read per distinct lease in the page, however many of its records are listed.
    const live = new Map<string, Promise<boolean>>();
    const nowMs = this.opts.clock.now().getTime();
    const resolve = async (state: RecordState) => {
      const s = visibleAt(state, nowMs);
      if (!s.lease) return s;
      if (!live.has(s.lease)) live.set(s.lease, this.opts.leases.load(s.lease).then(Boolean));
      return (await live.get(s.lease)) ? s : expired(s);
    };
    const reread = { nowMs: this.opts.clock.now().getTime(), get: (key: string) => this.get(ns, key) };
    return guarded(() => listRecords(this.opts.client, this.opts.tableName, ns, query, resolve, reread));
  }

  /**
   * Turns a record into a tombstone if it still belongs to `leaseId` (its lease ended). One
   * conditional UpdateItem; a record written since without that lease is left alone.
   */
  public async expireAttached(ns: string, key: string, leaseId: string): Promise<boolean> {
    const e = expireAttachedUpdate(ns, key, leaseId, this.env('reject'));
    try {
      await this.opts.client.send(
        new UpdateItemCommand({
          TableName: this.opts.tableName,
          Key: keyOf(ns, key),
          UpdateExpression: e.update(),
          ...e.params(),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      return guarded(() => Promise.reject(err));
    }
  }

  public transact(ns: string, txn: TxnBody, mode: ConflictMode, guards?: WriteGuards): Promise<TxnResult[]> {
    const r = this.regional;
    if (r) return this.tracked(() => r.transact(ns, txn, mode, guards));
    return this.tracked(() => guarded(() => transact(this.context, ns, txn, this.env(mode, guards), guards)));
  }

  /** A transaction committed together with `extra` items (e.g. a saga-log entry). */
  public transactWith(ns: string, txn: TxnBody, mode: ConflictMode, extra: TxnExtra): Promise<TxnResult[]> {
    const r = this.regional;
    if (r) return this.tracked(() => r.transact(ns, txn, mode, undefined, extra));
    return this.tracked(() => guarded(() => transact(this.context, ns, txn, this.env(mode), undefined, extra)));
  }

  /**
   * Runs a write, known to `inFlight` from before it takes its stamp until it ends, so that a
   * snapshot in this process starts reading only when every write stamped before its cut has
   * ended (`src/core/snapshot-cut.ts`).
   */
  private tracked<T>(run: () => Promise<T>): Promise<T> {
    const f = this.opts.inFlight;
    if (!f) return run();
    const end = f.begin(this.opts.clock.now().toISOString());
    let p: Promise<T>;
    try {
      p = run();
    } catch (e) {
      end();
      throw e;
    }
    return p.finally(end);
  }

  /** What transactions need: the client, tables, lease store and lease resolution. */
  public get context() {
    const { client, tableName, controlTable, leases, clock } = this.opts;
    return {
      client,
      table: tableName,
      controlTable,
      leases,
      clock,
      resolve: (s: RecordState | undefined) => this.resolve(s),
    };
  }

  private env(mode: ConflictMode, guards?: WriteGuards): WriteEnv {
    return { replica: this.opts.replica, now: this.opts.clock.now().toISOString(), mode, lease: guards?.lease };
  }

  private async fastWrite(
    ns: string,
    key: string,
    e: Expr,
    slow: (k: Known) => Promise<WriteResult>,
    returnNew = true,
  ): Promise<WriteResult> {
    // A request touching very many fields would exceed DynamoDB's expression limits: it commits
    // on the conflict path, whose PutItem carries the whole item and a two-clause condition.
    if (!e.fits()) return slow(undefined);
    try {
      const out = await this.opts.client.send(
        new UpdateItemCommand({
          TableName: this.opts.tableName,
          Key: keyOf(ns, key),
          UpdateExpression: e.update(),
          ...e.params(),
          ReturnValues: returnNew ? 'ALL_NEW' : 'NONE',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      if (!returnNew) return undefined as unknown as WriteResult;
      return { state: fromItem(out.Attributes!), created: out.Attributes!.was?.BOOL === true };
    } catch (err) {
      if (isConditionFailure(err)) {
        const item = (err as { Item?: Item }).Item;
        return slow({ state: item ? fromItem(item) : undefined });
      }
      // A type or range the update cannot take: the conflict path decides (422, or the next state).
      if (isOperandTypeError(err) || isNumberRangeError(err)) return slow(undefined);
      return guarded(() => Promise.reject(err));
    }
  }

  /**
   * The conflict path: decide on the state as it stands, then commit with a `PutItem` conditioned
   * on exactly that state. A lost race hands back the newer item and tries again.
   */
  private async settle(
    ns: string,
    key: string,
    known: Known,
    op: ChangeKind,
    compute: (s: RecordState | undefined) => Transition,
    onLostRace?: () => Promise<WriteResult>,
    guards?: WriteGuards,
  ): Promise<WriteResult> {
    let state = known ? await this.resolve(known.state) : await this.get(ns, key);
    const plan = hasGuards(guards)
      ? await planGuards(this.opts.controlTable, this.opts.leases, ns, [key], guards, this.opts.clock.now().getTime())
      : undefined;
    for (let attempt = 0; attempt < MAX_SETTLE_ATTEMPTS; attempt++) {
      if (attempt > 0) {
        if (onLostRace) return onLostRace();
        await sleep(backoffMs(attempt, SETTLE_BACKOFF));
      }
      const t = stampedAfter(compute(state), state);
      const e = new Expr();
      e.require(unchangedClause(e, state));
      const put = {
        TableName: this.opts.tableName,
        Item: toItem(t.state, op),
        ...e.params(),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      };
      try {
        if (plan)
          await this.opts.client.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: put }, ...plan.items] }));
        else await this.opts.client.send(new PutItemCommand(put));
        return t;
      } catch (err) {
        let item: Item | undefined;
        const reasons = plan ? cancellationReasons(err) : undefined;
        if (plan && reasons) {
          const guard = firstConditionFailure(reasons, 1);
          if (guard > 0) throw plan.failures[guard - 1]();
          if (!conditionFailed(reasons[0])) continue;
          item = reasons[0].Item;
        } else if (isConditionFailure(err)) {
          item = (err as { Item?: Item }).Item;
        } else {
          return guarded(() => Promise.reject(err));
        }
        state = await this.resolve(item ? fromItem(item) : undefined);
      }
    }
    throw new UnavailableError(`too many concurrent writes to ${key}; retry`);
  }
}
