/**
 * The saga log port: what the sagas routes and the saga-step handler need from the store that
 * keeps each saga, its steps and what each applied action or compensation recorded (DynamoDB in
 * `src/adapters/dynamodb/saga-log.ts`).
 *
 * Exactly once: an action or compensation commits in one transaction with its log entry and its
 * step's status change (`SagaLog.settlement`, handed to `SagaRecordWriter.transactWith`), so a
 * retried call, a lost acknowledgement or a redrive finds the entry, and an abort that wins the
 * race against a late apply makes that apply fail with `StepSettledError`.
 *
 * Every method throws `ThrottledError` / `UnavailableError` when the store throttles or is
 * unreachable (then nothing was written).
 */
import { VestaError } from './errors';
import type { TxnResult } from './ports';
import type { SagaAction, SagaDefinition, SagaStatus, SagaView, StepStatus } from './sagas';
import type { ConflictMode, TxnBody } from './types';
import type { SagaPage } from './wire/sagas';

/** The step is no longer in the status the write needs (applied, undone or aborted meanwhile). */
export class StepSettledError extends VestaError {
  public constructor(message: string) {
    super(message);
    this.name = 'StepSettledError';
  }
}

/** Why a step failed, as the state machine's Catch handed it over. */
export interface StepError {
  readonly error: string;
  readonly cause: string;
}

/** One step as stored. */
export interface StoredStep {
  readonly index: number;
  /** Number of steps of the saga. */
  readonly count: number;
  readonly name: string;
  readonly namespace: string;
  readonly action: SagaAction;
  readonly compensation?: SagaAction;
  readonly status: StepStatus;
  readonly attempts: number;
  readonly compensationAttempts: number;
  readonly error?: StepError;
}

/** A saga's header as stored. */
export interface StoredSaga {
  readonly id: string;
  readonly namespace: string;
  readonly type: 'steps' | 'transfer';
  readonly status: SagaStatus;
  readonly executionArn: string;
  /** Its execution was started (a saga written but never started is started by a repeated POST). */
  readonly started: boolean;
  readonly count: number;
  readonly startedAt: string;
  readonly finishedAt?: string;
  /** How many times a person retried its compensation (`POST /v1/sagas/{id}/retry`). */
  readonly retries?: number;
}

/** What an entry recorded: the record write's result, or that there was nothing to write. */
export type EntryResult = TxnResult | { readonly key: null };

/** What `GET /v1/sagas` asks for: one status or all, a page size, where the last page ended. */
export interface SagaListQuery {
  readonly status?: SagaStatus;
  readonly limit: number;
  readonly cursor?: string;
}

/** Whether a write applies a step's action or undoes it (its compensation). */
export type StepWriteKind = 'apply' | 'undo';

/**
 * The log writes of one action or compensation, committed with its record transaction by
 * `SagaRecordWriter.transactWith`. Opaque to the domain: the saga log's adapter makes it for the
 * record store of the same backend.
 */
export interface StepSettlement {
  /** The error to throw when the condition of the settlement's `i`-th write fails. */
  failure(i: number): Error;
}

/** The record store as the saga-step handler uses it: a transaction committed with a settlement. */
export interface SagaRecordWriter {
  /**
   * Commits `txn` and `settlement` together, or nothing. Throws the record store's errors
   * (`PreconditionFailedError`, `ConflictError`, `TypeMismatchError`, ...) and, when the
   * settlement's condition fails, what its `failure` gives (`StepSettledError`).
   */
  transactWith(ns: string, txn: TxnBody, mode: ConflictMode, settlement: StepSettlement): Promise<TxnResult[]>;
}

export interface SagaLog {
  /** Writes the saga and its steps (all PENDING); false, and nothing written, when the id is taken. */
  create(def: SagaDefinition, executionArn: string): Promise<boolean>;
  /** Records that the saga's execution was started. Throws when there is no such saga. */
  markStarted(id: string): Promise<void>;
  /** The saga's header, read consistently; `undefined` when there is none. */
  saga(id: string): Promise<StoredSaga | undefined>;
  /** The saga as `GET /v1/sagas/{id}` shows it, read consistently; `undefined` when there is none. */
  view(id: string): Promise<SagaView | undefined>;
  /**
   * The saga's definition as it was created (its type, namespace, steps, and a built-in type's
   * `input`), read consistently; `undefined` when there is none.
   */
  definition(id: string): Promise<SagaDefinition | undefined>;
  /**
   * Sagas still RUNNING, read by a scan of the whole log: for the local stack only, which resumes
   * them after a restart (the deployed API never calls it).
   */
  unfinished(): AsyncIterable<{ id: string; type: 'steps' | 'transfer' }>;
  /** Reads step `index`, counting an attempt of its action or compensation. Throws `NotFoundError`. */
  attempt(id: string, index: number, kind: StepWriteKind): Promise<StoredStep>;
  /** Reads step `index` consistently. Throws `NotFoundError` when the saga has no such step. */
  step(id: string, index: number): Promise<StoredStep>;
  /** What an applied action or compensation recorded; `undefined` when it was not applied. */
  entry(id: string, index: number, kind: StepWriteKind): Promise<EntryResult | undefined>;
  /**
   * The log writes that settle step `index` with its record transaction: the entry (written once)
   * and the status change (PENDING to DONE to apply; DONE or COMPENSATION_FAILED to COMPENSATED
   * to undo). Makes no request; their failure at commit is a `StepSettledError`.
   */
  settlement(id: string, index: number, kind: StepWriteKind): StepSettlement;
  /** Settles a step with nothing to write (a compensation-less undo), exactly once. Throws `StepSettledError`. */
  settleWithoutWrite(id: string, index: number, kind: StepWriteKind): Promise<void>;
  /** Sets a step's status (and error) when it has one of `from`; false when it had another or does not exist. */
  setStepStatus(
    id: string,
    index: number,
    from: readonly StepStatus[],
    to: StepStatus,
    error?: StepError,
  ): Promise<boolean>;
  /**
   * Sagas newest first (by start time, then id), of `status` or of every status, `limit` at most,
   * after `cursor` (opaque, from a previous page; `null` on the last). Reads an eventually
   * consistent index: a saga just started or finished may be listed a moment later. Throws
   * `ValidationError` (field `cursor`) for a cursor this listing did not issue.
   */
  list(query: SagaListQuery): Promise<SagaPage>;

  /**
   * Sets a `COMPENSATION_FAILED` saga `RUNNING` again (no `finishedAt`), counting a retry: a
   * person fixed the cause and its compensation resumes. False, and nothing written, when it has
   * another status or does not exist, so of two concurrent retries one wins.
   */
  reopen(id: string): Promise<boolean>;
  /** Ends a saga whose status is one of `from` with `status`; false when it had another or does not exist. */
  finish(id: string, status: SagaStatus, from: readonly SagaStatus[]): Promise<boolean>;
}
