/**
 * The saga log (`SagaLog`, `src/core/saga-log.ts`) on DynamoDB (layout in `table-defs.ts`, `SAGAS_TABLE`). Every action and every
 * compensation commits in one TransactWriteItems with its record write: the record put, a Put of
 * the entry `step#NNN#apply` (or `#undo`) conditioned on the entry not existing, and the step's
 * status change conditioned on the status it must have (`PENDING` to apply, `DONE` to undo). A
 * retried call, a lost acknowledgement or a redrive finds the entry and returns what it recorded;
 * an abort that wins the race against a late apply makes that apply's transaction fail.
 *
 * A saga that ends SUCCEEDED or COMPENSATED gets its `ttl` (`src/core/retention.ts`) on its
 * header, steps and entries, in the transaction that ends it. DynamoDB deletes late (and DynamoDB
 * Local never), so every read treats a saga past its retention as unknown.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { convertToAttr, marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { NotFoundError } from '../../core/errors';
import { DEFAULT_RETENTION_DAYS, isExpired } from '../../core/retention';
import type { Clock } from '../../core/ports';
import { parseJson, stringifyJson } from '../../core/json';
import type { SagaDefinition, SagaStatus, SagaView, StepStatus } from '../../core/sagas';
import {
  type EntryResult,
  type SagaListQuery,
  type SagaLog,
  type StepError,
  StepSettledError,
  type StepWriteKind,
  type StoredSaga,
  type StoredStep,
} from '../../core/saga-log';
import { parseBody } from '../../core/wire/parse';
import type { SagaPage } from '../../core/wire/sagas';
import { transferBody } from '../../core/wire/sagas';
import { SAGA_HEADER_SK as HEADER, entrySk, isEntrySk, sagaListOrder, stepSk } from './control-keys';
import { cancellationReasons, conditionFailed } from './cancellation';
import { guarded, isConditionFailure } from './errors';
import { Expr, N, S, attributeNotExists } from './expressions';
import { queryPages, scanPages } from './query';
import type { TxnExtra } from './transactions';
import { toSaga, toStep } from './saga-items';
import { listSagas } from './saga-list';
import { TTL, existing, expiring, finishSaga, moveStatus } from './saga-end';

/** Condition of a Put that must not overwrite an item. */
const NEW_ITEM = (() => {
  const e = new Expr();
  return e.require(attributeNotExists(e.name('sk'))).params();
})();

export class DynamoSagaLog implements SagaLog {
  public constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly clock: Clock,
    /** Days a SUCCEEDED or COMPENSATED saga's log is kept after its end. */
    private readonly retentionDays: number = DEFAULT_RETENTION_DAYS.sagas,
  ) {}

  /**
   * Whether a header is past its retention: its `ttl` is reached, or it ended SUCCEEDED or
   * COMPENSATED longer than the retention ago (a header written before retention has no `ttl`).
   */
  private expired(header: Record<string, AttributeValue>): boolean {
    const ttl = header[TTL]?.N;
    const status = header.status?.S;
    return isExpired(
      this.clock.now().getTime(),
      ttl !== undefined ? Number(ttl) : undefined,
      expiring(status) ? header.finishedAt?.S : undefined,
      this.retentionDays,
    );
  }

  /** Writes the saga and its steps; false (and nothing written) when the id is already taken. */
  public async create(def: SagaDefinition, executionArn: string): Promise<boolean> {
    const now = this.clock.now().toISOString();
    const count = def.steps.length;
    const header = {
      id: def.id,
      sk: HEADER,
      ns: def.namespace,
      type: def.type,
      status: 'RUNNING',
      listStatus: 'RUNNING',
      listOrder: sagaListOrder(now, def.id),
      executionArn,
      started: false,
      count,
      startedAt: now,
      ...(def.input ? { input: stringifyJson(def.input) } : {}),
    };
    const items: TransactWriteItem[] = [
      { Put: { TableName: this.table, Item: marshall(header), ...NEW_ITEM } },
      ...def.steps.map((s, i) => ({
        Put: {
          TableName: this.table,
          Item: marshall(
            {
              id: def.id,
              sk: stepSk(i),
              idx: i,
              count,
              name: s.name,
              ns: def.namespace,
              action: stringifyJson(s.action),
              comp: s.compensation ? stringifyJson(s.compensation) : undefined,
              status: 'PENDING',
              attempts: 0,
              updatedAt: now,
            },
            { removeUndefinedValues: true },
          ),
        },
      })),
    ];
    try {
      await guarded(() => this.client.send(new TransactWriteItemsCommand({ TransactItems: items })));
      return true;
    } catch (e) {
      const reasons = cancellationReasons(e);
      if (reasons && conditionFailed(reasons[0])) return false;
      throw e;
    }
  }

  public async markStarted(id: string): Promise<void> {
    const e = existing();
    e.set(`${e.name('started')} = ${e.value({ BOOL: true })}`);
    await guarded(() =>
      this.client.send(
        new UpdateItemCommand({ TableName: this.table, Key: marshall({ id, sk: HEADER }), ...e.updateParams() }),
      ),
    );
  }

  /** The header item as stored, expired or not. */
  private async header(id: string): Promise<Record<string, AttributeValue> | undefined> {
    const out = await guarded(() =>
      this.client.send(
        new GetItemCommand({ TableName: this.table, Key: marshall({ id, sk: HEADER }), ConsistentRead: true }),
      ),
    );
    return out.Item;
  }

  /** The saga's header; undefined if unknown or past its retention. */
  public async saga(id: string): Promise<StoredSaga | undefined> {
    const item = await this.header(id);
    return item && !this.expired(item) ? toSaga(item) : undefined;
  }

  /** The saga as `GET /v1/sagas/{id}` shows it, from one consistent Query; undefined if unknown or past its retention. */
  public async view(id: string): Promise<SagaView | undefined> {
    const read = await this.read(id);
    if (!read) return undefined;
    const saga = toSaga(read.header);
    return {
      id: saga.id,
      type: saga.type,
      namespace: saga.namespace,
      status: saga.status,
      executionArn: saga.executionArn,
      steps: read.steps.map((s) => ({ name: s.name, status: s.status, error: s.error ?? null, attempts: s.attempts })),
      startedAt: saga.startedAt,
      finishedAt: saga.finishedAt ?? null,
    };
  }

  /** The saga's definition as created, from one consistent Query; undefined if unknown. */
  public async definition(id: string): Promise<SagaDefinition | undefined> {
    const read = await this.read(id);
    if (!read) return undefined;
    const saga = toSaga(read.header);
    const input = read.header.input?.S;
    return {
      id: saga.id,
      namespace: saga.namespace,
      type: saga.type,
      steps: read.steps.map((s) => ({
        name: s.name,
        action: s.action,
        ...(s.compensation ? { compensation: s.compensation } : {}),
      })),
      ...(input ? { input: parseBody(transferBody.shape.input, parseJson(input, Infinity)) } : {}),
    };
  }

  /** A saga's header item and its steps in order (no entries), from one consistent Query; undefined if unknown. */
  private async read(id: string): Promise<{ header: Record<string, AttributeValue>; steps: StoredStep[] } | undefined> {
    let header: Record<string, AttributeValue> | undefined;
    const steps: StoredStep[] = [];
    const e = new Expr();
    e.key(`${e.name('id')} = ${e.value(S(id))}`);
    const pages = queryPages(this.client, { TableName: this.table, ...e.queryParams(), ConsistentRead: true });
    for await (const page of pages) {
      for (const it of page.items) {
        const sk = it.sk.S!;
        if (sk === HEADER) header = it;
        else if (!isEntrySk(sk)) {
          const s = toStep(it);
          steps[s.index] = s;
        }
      }
    }
    return header && !this.expired(header) ? { header, steps } : undefined;
  }

  /**
   * Sagas still RUNNING, by a Scan: for the local stack only, which resumes them after a restart
   * (Step Functions keeps executions running across deployments; the deployed API never scans).
   */
  public async *unfinished(): AsyncGenerator<{ id: string; type: 'steps' | 'transfer' }> {
    const e = new Expr();
    e.filter(`${e.name('sk')} = ${e.value(S(HEADER))}`).filter(`${e.name('status')} = ${e.value(S('RUNNING'))}`);
    for await (const page of scanPages(this.client, {
      TableName: this.table,
      ...e.queryParams(),
      ConsistentRead: true,
    })) {
      for (const it of page.items) yield { id: it.id.S!, type: it.type.S as 'steps' | 'transfer' };
    }
  }

  /** Reads step `index`, counting an attempt of its action or compensation. Throws `NotFoundError`. */
  public async attempt(id: string, index: number, kind: 'apply' | 'undo'): Promise<StoredStep> {
    const e = existing();
    e.add(e.name(kind === 'apply' ? 'attempts' : 'undoAttempts'), e.value(N(1))).set(
      `${e.name('updatedAt')} = ${e.value(S(this.clock.now().toISOString()))}`,
    );
    try {
      const out = await guarded(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: marshall({ id, sk: stepSk(index) }),
            ...e.updateParams(),
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return toStep(out.Attributes!);
    } catch (e) {
      if (isConditionFailure(e)) throw new NotFoundError(`saga ${id} has no step ${index}`);
      throw e;
    }
  }

  public async step(id: string, index: number): Promise<StoredStep> {
    const out = await guarded(() =>
      this.client.send(
        new GetItemCommand({ TableName: this.table, Key: marshall({ id, sk: stepSk(index) }), ConsistentRead: true }),
      ),
    );
    if (!out.Item) throw new NotFoundError(`saga ${id} has no step ${index}`);
    return toStep(out.Item);
  }

  /** What an applied action or compensation recorded, if it was applied. */
  public async entry(id: string, index: number, kind: 'apply' | 'undo'): Promise<EntryResult | undefined> {
    const out = await guarded(() =>
      this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: marshall({ id, sk: entrySk(index, kind) }),
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item ? (JSON.parse(unmarshall(out.Item).result) as EntryResult) : undefined;
  }

  /**
   * The extra items of an action's (`apply`) or compensation's (`undo`) transaction: the entry,
   * conditioned on not existing, and the step's new status, conditioned on its expected one.
   * `result` is filled in by the writer before commit. Their failure is a `StepSettledError`.
   */
  public settlement(id: string, index: number, kind: StepWriteKind): TxnExtra {
    // An undo may follow a COMPENSATION_FAILED when a person fixed the data and redrove the saga.
    const from: StepStatus[] = kind === 'apply' ? ['PENDING'] : ['DONE', 'COMPENSATION_FAILED'];
    const to: StepStatus = kind === 'apply' ? 'DONE' : 'COMPENSATED';
    const now = this.clock.now().toISOString();
    const table = this.table;
    const move = moveStatus(from, to, 'updatedAt', now);
    move.remove(move.name('error'));
    return {
      items: (results) => [
        {
          Put: {
            TableName: table,
            Item: marshall({
              id,
              sk: entrySk(index, kind),
              result: JSON.stringify(results[0] ?? { key: null }),
              at: now,
            }),
            ...NEW_ITEM,
          },
        },
        { Update: { TableName: table, Key: marshall({ id, sk: stepSk(index) }), ...move.updateParams() } },
      ],
      failure: () => new StepSettledError(`step ${index} of saga ${id} is no longer ${from.join(' or ')}`),
    };
  }

  /** Settles a step with nothing to write (a compensation-less undo), exactly once. */
  public async settleWithoutWrite(id: string, index: number, kind: 'apply' | 'undo'): Promise<void> {
    const extra = this.settlement(id, index, kind);
    try {
      await guarded(() => this.client.send(new TransactWriteItemsCommand({ TransactItems: [...extra.items([])] })));
    } catch (e) {
      if (cancellationReasons(e)) throw extra.failure(0);
      throw e;
    }
  }

  /** Sets a step's status when it has one of `from`; false when it had another. */
  public async setStepStatus(
    id: string,
    index: number,
    from: readonly StepStatus[],
    to: StepStatus,
    error?: StepError,
  ): Promise<boolean> {
    const e = moveStatus(from, to, 'updatedAt', this.clock.now().toISOString());
    if (error) e.set(`${e.name('error')} = ${e.value(convertToAttr(error))}`);
    try {
      await guarded(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: marshall({ id, sk: stepSk(index) }),
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

  /** COMPENSATION_FAILED to RUNNING, `finishedAt` removed, `retries` counted; false when it had another status. */
  public async reopen(id: string): Promise<boolean> {
    const e = moveStatus(['COMPENSATION_FAILED'], 'RUNNING', 'retriedAt', this.clock.now().toISOString());
    e.remove(e.name('finishedAt'))
      .remove(e.name(TTL))
      .add(e.name('retries'), e.value(N(1)));
    try {
      await guarded(() =>
        this.client.send(
          new UpdateItemCommand({ TableName: this.table, Key: marshall({ id, sk: HEADER }), ...e.updateParams() }),
        ),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /**
   * Ends a saga whose status is one of `from` with `status`; false when it had another
   * (`finishSaga` of `saga-end.ts`).
   */
  public finish(id: string, status: SagaStatus, from: readonly SagaStatus[]): Promise<boolean> {
    return finishSaga(this.client, this.table, id, status, from, this.clock.now(), this.retentionDays);
  }

  /**
   * Sagas newest first, of one status or of all (`listSagas` of `saga-list.ts`), without those
   * past their retention (by their end: the index holds no `ttl`).
   */
  public list(q: SagaListQuery): Promise<SagaPage> {
    const nowMs = this.clock.now().getTime();
    return listSagas(this.client, this.table, q, (status, finishedAt) =>
      expiring(status) ? isExpired(nowMs, undefined, finishedAt, this.retentionDays) : false,
    );
  }
}
