/**
 * The ports the domain needs from the outside world. Adapters in `src/adapters` implement them;
 * handlers receive them already wired (see `src/api/wiring.ts`).
 */
import type { FencingToken, Lease, LeaseHoldings, LockGrant } from './leases';
import type { RecordState } from './record-view';
import type { Preconditions } from './records';
import type { ConflictMode, Fields, NamespaceSettings, PatchBody, TxnBody } from './types';
import type { PartInfo, RestoreView, SnapshotManifest } from './snapshots';
import type { ChangeDetail, PlaceholderSource } from './changes';
import type { DeadLetter, DeadLetterInput, DeadLetterPage, DeadLetterQuery, ReplayOutcome } from './dead-letter-types';
import type { LockPage } from './wire/leases';
import type { TxnResult } from './wire/record-views';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface WriteResult {
  readonly state: RecordState;
  readonly created: boolean;
}

export interface ListQuery {
  readonly prefix: string;
  readonly limit: number;
  /** Opaque cursor from a previous page. */
  readonly cursor?: string;
  readonly withFields: boolean;
}

export interface ListPage {
  readonly items: readonly RecordState[];
  readonly cursor: string | null;
}

/** What one op of a transaction did (its schema: `wire/record-views.ts`). */
export type { TxnResult } from './wire/record-views';

/**
 * What a write carries besides its own preconditions: `X-Lease-Id` (the record belongs to that
 * lease, which must be live) and `X-Fencing-Token` (the lock must be held with that token). Both
 * are checked atomically with the write.
 */
export interface WriteGuards {
  readonly lease?: string;
  readonly fence?: FencingToken;
}

/** How a put or patch may write: its preconditions, the namespace's conflict mode, its guards. */
export interface RecordWrite {
  readonly pre: Preconditions;
  readonly mode: ConflictMode;
  readonly guards?: WriteGuards;
  /** A `PUT`'s `expire`: field name to seconds after the write until it disappears. */
  readonly expire?: Readonly<Record<string, number>>;
}

/**
 * Records of all namespaces. Every method throws domain errors from `src/core/errors.ts`:
 * `PreconditionFailedError` (with the current record), `NotFoundError`, `ConflictError`,
 * `TypeMismatchError`, `PayloadTooLargeError`, and `ThrottledError` / `UnavailableError` when the
 * backing store throttles or is unreachable (nothing half-written).
 */
export interface RecordStore {
  /** The stored state, tombstones included; `undefined` when the key was never written. */
  get(ns: string, key: string): Promise<RecordState | undefined>;
  /** Replaces the fields of `key` (creates it), as `write` allows. */
  put(ns: string, key: string, fields: Fields, write: RecordWrite): Promise<WriteResult>;
  /** Applies `patch` to the fields of `key` (creates it), as `write` allows. */
  patch(ns: string, key: string, patch: PatchBody, write: RecordWrite): Promise<WriteResult>;
  delete(ns: string, key: string, pre: Preconditions, guards?: WriteGuards): Promise<void>;
  /** Live records in UTF-8 byte order of keys. Throws `ValidationError` for a bad cursor. */
  list(ns: string, query: ListQuery): Promise<ListPage>;
  /** All or nothing; `PreconditionFailedError.failed` lists the require indexes that did not hold. */
  transact(ns: string, txn: TxnBody, mode: ConflictMode, guards?: WriteGuards): Promise<TxnResult[]>;
}

/**
 * Leases and locks. Expiry is decided by the store's clock at each call. Failures: `NotFoundError`
 * (no live lease, or nobody holds the lock), `ConflictError` with reason LeaseNotFound or
 * LockHeld, `ThrottledError` / `UnavailableError`.
 */
export interface LeaseStore {
  /** Grants a lease; one that names a Step Functions execution is kept alive while it runs. */
  grant(ttlSeconds: number, executionArn?: string): Promise<Lease>;
  keepalive(id: string): Promise<Lease>;
  /** The live lease and what it holds. */
  describe(id: string): Promise<{ lease: Lease; holdings: LeaseHoldings }>;
  /** Ends the lease at once and removes its records and locks. */
  revoke(id: string): Promise<void>;
  acquire(ns: string, name: string, leaseId: string): Promise<LockGrant>;
  release(ns: string, name: string, leaseId: string): Promise<void>;
  /**
   * The locks of `ns` held now (by a live lease), by name in UTF-8 byte order, whose name starts
   * with `prefix`, `limit` at most, after `cursor` (opaque, from a previous page; `null` on the
   * last). Never the holders' lease ids. Throws `ValidationError` (field `cursor`) for a cursor
   * this listing did not issue for this prefix.
   */
  locks(ns: string, query: LockListQuery): Promise<LockPage>;
}

/** What `GET /v1/ns/{ns}/locks` asks for. */
export interface LockListQuery {
  readonly prefix: string;
  readonly limit: number;
  readonly cursor?: string;
}

/** Status of a workflow execution: Step Functions in AWS, the local runner locally. */
export type ExecutionStatus =
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMED_OUT'
  | 'ABORTED'
  | 'PENDING_REDRIVE'
  | 'UNKNOWN';

export interface ExecutionStatusSource {
  /** The execution's status; `UNKNOWN` when there is no such execution. Throws when unreachable. */
  status(executionArn: string): Promise<ExecutionStatus>;
}

/** Namespace settings. A namespace never configured has the defaults. */
export interface SettingsStore {
  get(ns: string): Promise<NamespaceSettings>;
  put(ns: string, settings: NamespaceSettings): Promise<NamespaceSettings>;
}

/** Health figures; each resolves (false / null) instead of throwing. */
export interface HealthProbe {
  storeOk(): Promise<boolean>;
  /** Seconds since the lease reaper last finished a run; null before its first run. */
  leaseReaperLagSeconds(): Promise<number | null>;
  /** Seconds since the field sweeper last finished a run; null before its first run. */
  fieldSweeperLagSeconds(): Promise<number | null>;
  /** Seconds since the newest complete snapshot finished; null before the first. */
  latestSnapshotAgeSeconds(): Promise<number | null>;
}

/** The state machines of `statemachines/` (see `src/sagas/state-machines.ts`). */
export type WorkflowId = 'saga' | 'transfer' | 'snapshot' | 'restore';

/**
 * Starts workflow executions: Step Functions in AWS, the local runner in `npm start`. Starting a
 * name that was already started starts nothing (the name is the idempotency key). Throws
 * `ThrottledError` / `UnavailableError`.
 */
export interface WorkflowStarter {
  /** The ARN that execution `name` of `workflow` has, started or not. */
  executionArn(workflow: WorkflowId, name: string): string;
  start(workflow: WorkflowId, name: string, input: Readonly<Record<string, unknown>>): Promise<void>;
  /**
   * Resumes execution `name` of `workflow`, which failed, from the state where it failed, with
   * the input that state had (Step Functions `RedriveExecution`); the states it passed are not
   * run again. An execution still running is left to run. Throws `ConflictError` (reason
   * `SagaNotRetryable`) when the execution cannot be redriven (it never failed, or is too old),
   * `ThrottledError` / `UnavailableError`.
   */
  redrive(workflow: WorkflowId, name: string): Promise<void>;
}

/** What was written to the blob store: its size and sha256 (lowercase hex). */
export interface BlobWritten {
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Objects by name (`snapshots/<id>/part-00000.jsonl.gz`): S3 in AWS, a directory locally.
 * Streams both ways, so memory stays bounded whatever the size. Names use `/` as separator.
 */
export interface BlobStore {
  /**
   * Writes (replacing) an object from a stream; resolves once it is complete and durable. When it
   * rejects (with what reading the stream or the store threw), the object is as it was and no
   * partial or temporary object is left.
   */
  write(name: string, body: AsyncIterable<Uint8Array>): Promise<BlobWritten>;
  /** Reads an object as a stream. Throws `NotFoundError` when it does not exist. */
  read(name: string): Promise<AsyncIterable<Uint8Array>>;
  /** Names of the objects under `prefix`, in byte order. */
  list(prefix: string): Promise<string[]>;
}

/**
 * Snapshot and restore statuses (the manifests themselves are in the blob store). Snapshots list
 * newest first. Throws `ThrottledError` / `UnavailableError`.
 */
export interface SnapshotStore {
  /** Records a RUNNING snapshot of `namespace` (`null`: all) to be exported in `segments` parts. */
  createSnapshot(id: string, namespace: string | null, segments: number): Promise<SnapshotManifest>;
  getSnapshot(id: string): Promise<(SnapshotManifest & { readonly segments: number }) | undefined>;
  /** Newest first: every snapshot, or those of `namespace` (whole-store snapshots included, as they hold it). */
  listSnapshots(namespace?: string): Promise<(SnapshotManifest & { readonly segments: number })[]>;
  /**
   * Sets the cut of a RUNNING snapshot unless it has one (or has `replacing`); returns the cut it
   * has then (`undefined` when it is not RUNNING).
   */
  setCut(id: string, cut: string, replacing?: string): Promise<string | undefined>;
  /** Records one part as written, while RUNNING (progress: a RUNNING snapshot lists its parts so far). */
  partDone(id: string, part: PartInfo): Promise<void>;
  /** RUNNING → COMPLETE with its parts; also moves the newest-complete mark. Idempotent. */
  completeSnapshot(id: string, parts: readonly PartInfo[]): Promise<SnapshotManifest>;
  /**
   * Adds a part to a COMPLETE snapshot (a replayed record): `parts` replaces its parts, items and
   * bytes are summed again. Conditioned on it still having `itemsBefore` items; false otherwise
   * (another replay got there first: read it again).
   */
  addPart(id: string, itemsBefore: number, parts: readonly PartInfo[]): Promise<boolean>;
  /** RUNNING → FAILED. Idempotent; a COMPLETE snapshot stays COMPLETE. */
  failSnapshot(id: string, error: string): Promise<void>;
  /** Seconds since the newest COMPLETE snapshot finished; `null` when there is none. */
  latestCompleteAgeSeconds(): Promise<number | null>;
  createRestore(
    view: Omit<RestoreView, 'status' | 'written' | 'skipped' | 'finishedAt' | 'error'>,
  ): Promise<RestoreView>;
  /** The restore; while RUNNING its counts are those of the records committed so far. */
  getRestore(id: string): Promise<RestoreView | undefined>;
  /** RUNNING → COMPLETE with the counts. Idempotent. */
  finishRestore(id: string, written: number, skipped: number, setAside?: number): Promise<RestoreView>;
  /** Moves one set-aside record (a line of `part`) of a restore to written or skipped (a replay). */
  settleSetAside(id: string, part: string, written: boolean): Promise<void>;
  /** RUNNING → FAILED, with the counts of what was committed before it failed. Idempotent. */
  failRestore(id: string, error: string): Promise<void>;
  /** Ids of the snapshots and restores still RUNNING: what a restarted local stack starts again. */
  unfinished(): Promise<{ snapshots: string[]; restores: string[] }>;
}

/** What a change-log read asks for: after change number `after` (none: from the oldest kept). */
export interface ChangeQuery {
  readonly after?: number;
  /** Only changes of keys that start with this. */
  readonly prefix?: string;
  /** At most this many changes (1 to 1000). */
  readonly limit: number;
}

/** Changes in log order, and the number of the last change looked at (the next cursor). */
export interface ChangePage {
  readonly items: readonly ChangeDetail[];
  readonly seq: number;
}

/** What an append did: new changes, replayed ones skipped, and the ids not appended (with the error). */
export interface AppendOutcome {
  readonly appended: number;
  readonly duplicates: number;
  readonly notDone: ReadonlySet<string>;
  readonly error?: unknown;
}

/** Gives the change to append instead of one the store refused (`error`): e.g. a placeholder. */
export type ChangeSubstitute = (change: ChangeDetail, error: unknown) => Promise<ChangeDetail>;

/**
 * Each namespace's changes, numbered 1, 2, 3, ... in the order they were appended, without gaps,
 * each id at most once, kept at least the retention period.
 */
export interface ChangeLog {
  /**
   * Appends changes; those of one namespace in the order given. A change whose id is already in
   * the log is skipped. A change too big for the log is kept without its fields
   * (`fieldsOmitted`). A change the store refuses for itself (not throttling, unavailability or
   * contention) is replaced, in its place, by what `substitute` gives for it; without
   * `substitute`, or when `substitute` throws, it and the rest of its namespace are not done, and
   * neither may be the changes of its namespace given before it in the same call (an adapter that
   * appends several changes in one transaction loses them together); what was appended is always a
   * prefix of what was given, without gaps.
   * Never throws: what could not be appended is in `notDone` (with `error`).
   */
  append(changes: readonly ChangeDetail[], substitute?: ChangeSubstitute): Promise<AppendOutcome>;
  /**
   * Reads one namespace's changes after a position. Throws `CursorExpiredError` when changes after
   * `after` are no longer kept, `ThrottledError` / `UnavailableError` when the store fails.
   */
  read(ns: string, query: ChangeQuery): Promise<ChangePage>;
}

/**
 * A hint that namespaces' change logs have grown, so that a long poll of one reads again at once
 * instead of at its next poll. Only a hint: a reader still takes what the log holds after its
 * cursor, and a lost or late hint costs latency (the poll interval), never a change.
 */
export interface ChangeSignal {
  /** Tells the waiters of `namespaces` that their logs grew. Never throws. */
  notify(namespaces: readonly string[]): void;
  /** A waiter of `ns`, woken by every notify from now until it is closed. */
  waiter(ns: string): ChangeWaiter;
}

export interface ChangeWaiter {
  /**
   * Resolves `true` at once when a notify came since the waiter was made or last returned, else
   * at the next notify, or `false` after `ms`.
   */
  wait(ms: number): Promise<boolean>;
  close(): void;
}

/**
 * Where change events go: EventBridge in AWS, the log (and in-process listeners) locally.
 * Resolves to the ids of the changes that could not be published after retries; never throws.
 */
/**
 * Reads the change a record of the records store's change stream stands for (a DynamoDB stream
 * record, in a Lambda event or from GetRecords locally). `R` is the record as delivered.
 */
export interface ChangeDecoder<R> {
  /**
   * The committed change `record` stands for, or `undefined` when it is none (an item removed by
   * TTL clean-up, an update that did not advance `rev`). Throws when its item cannot be decoded.
   */
  change(record: R): ChangeDetail | undefined;
  /**
   * Changes `record` stands for besides its own, published right after it (the `conflict` changes
   * of a write that replaced losers, in several Regions). Throws as `change` throws.
   */
  more?(record: R): ChangeDetail[];
  /** What can be read of its change without decoding its item (key, `rev`, ...). Never throws. */
  placeholder(record: R): PlaceholderSource;
  /** Its position in the stream (a batch is resumed from it), when it has one. Never throws. */
  position(record: R): string | undefined;
  /** What a replay needs to decode it again, as JSON (kept with its dead letter). Never throws. */
  payload(record: R): unknown;
  /** The change a kept `payload` stands for, as `change` reads it; throws as `change` throws. */
  fromPayload(payload: unknown): ChangeDetail | undefined;
  /** The changes besides its own a kept `payload` stands for, as `more` reads them; throws as `more` throws. */
  moreFromPayload?(payload: unknown): ChangeDetail[];
}

export interface EventBus {
  /**
   * Publishes each change as one `vesta.StateChanged` event. A change whose whole detail would not
   * fit in one event (EventBridge's 256 KB, counted as `adapters/events/entry.ts` counts it) goes
   * without its fields, with `fieldsOmitted: true`. Never throws: resolves to the ids of the
   * changes not published (an entry still too big, or the bus refused it after retries), which
   * the caller retries or sets aside.
   */
  publish(changes: readonly ChangeDetail[]): Promise<ReadonlySet<string>>;
}

/**
 * Dead-letter entries (see `src/core/dead-letters.ts`). Payloads are kept exactly (numbers digit
 * for digit). Every method throws `ThrottledError` / `UnavailableError` when the store fails; then
 * nothing was recorded, and a background path must not move past the item.
 */
export interface DeadLetterStore {
  /**
   * Sets an item aside: creates its entry, or (the same source and item again) adds the attempts
   * and replaces the error, payload and time of the entry already there. Resolves to the entry.
   */
  put(input: DeadLetterInput): Promise<DeadLetter>;
  /** The entry with its payload; `undefined` when there is none (or the id names none). */
  get(id: string): Promise<DeadLetter | undefined>;
  /** Newest first. Throws `ValidationError` (field `cursor`) for a cursor it did not hand out. */
  list(query: DeadLetterQuery): Promise<DeadLetterPage>;
  /** Removes an entry; false when there was none. */
  remove(id: string): Promise<boolean>;
}

/**
 * Processes one set-aside item again, with the code and permissions of the path it came from
 * (in AWS the path's own function; locally the same code in process). Resolves when the item went
 * through; throws the item's error when it failed again, `ThrottledError` / `UnavailableError`
 * when a dependency did.
 */
export type DeadLetterReplayer = (entry: DeadLetter) => Promise<void>;

/**
 * Replays an entry by id where its path runs. Resolves to the outcome (a failed replay keeps the
 * entry, with the new error). Throws `NotFoundError` when there is no such entry, and
 * `ThrottledError` / `UnavailableError`.
 */
export interface DeadLetterReplay {
  replay(id: string): Promise<ReplayOutcome>;
}

/**
 * Keeps, from a batch of the records table's stream records, the pre-images that running
 * snapshots' cuts need (`snapshot-cut.ts`). Throws store errors; a retried batch keeps the same.
 */
export interface PreImageKeeper<R = unknown> {
  keep(records: readonly R[]): Promise<void>;
}
