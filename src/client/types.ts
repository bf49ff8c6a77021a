/**
 * The shapes of the HTTP contract as the client sends and reads them (see docs/openapi.yaml).
 * Every body is defined once, as a zod schema in `src/core/wire/`, and its type inferred there;
 * this module names those types for the client's users. Types only: the client does not load
 * zod.
 */
export type { Fields, JsonValue } from '../core/record-view';
export type { VersionVector } from '../core/vv';
import type {
  ChangeDetail,
  ChangePage as WireChangePage,
  ConflictMode as WireConflictMode,
  DeadLetter as WireDeadLetter,
  DeadLetterPage as WireDeadLetterPage,
  DeadLetterSource as WireDeadLetterSource,
  FieldRequire as WireFieldRequire,
  Health as WireHealth,
  KeyPage,
  LeaseDetails as WireLeaseDetails,
  LeaseView,
  ListItem as WireListItem,
  LockGrantView,
  LockHolder as WireLockHolder,
  LockPage as WireLockPage,
  LockView,
  PartInfo,
  PatchBody as WirePatchBody,
  ReplayOutcome as WireReplayOutcome,
  RequireOp as WireRequireOp,
  RestoreView,
  SagaAction as WireSagaAction,
  SagaBody,
  SagaPage as WireSagaPage,
  SagaStatus as WireSagaStatus,
  SagaSummary as WireSagaSummary,
  SagaView,
  SiblingView,
  SiblingsRecordView,
  SingleRecordView,
  SnapshotManifest as WireSnapshotManifest,
  SnapshotStatus,
  SnapshotView,
  StepView,
  TxnBody as WireTxnBody,
  TxnOp as WireTxnOp,
  TxnRequire as WireTxnRequire,
  TxnResult as WireTxnResult,
} from '../core/wire';
export type {
  ExpiresView as Expires,
  AcquireBody,
  ChangeKind,
  CreateSnapshotBody,
  GrantBody,
  ImportSnapshotsBody,
  ProblemDocument,
  PutBody,
  RestoreBody,
  RestoreStarted,
  SagaStarted,
  SnapshotStarted,
  TxnResults,
  UnmetRequire,
} from '../core/wire';

/**
 * A record with one value; `expires` (field name to ISO time) names the fields that disappear and
 * when, present only when some field has an expiry.
 */
export type VestaRecord = SingleRecordView;

/** One of several concurrent values; each expires its fields independently (`expires`). */
export type SiblingValue = SiblingView;

/** A record with concurrent values (`siblings` mode, `300 Multiple Choices`). */
export type SiblingsRecord = SiblingsRecordView;

/** What a read or write of one record gives: the record and the ETag to send back as `If-Match`. */
export type Versioned<T = VestaRecord | SiblingsRecord> = { readonly record: T; readonly etag: string };

export function hasSiblings(r: VestaRecord | SiblingsRecord): r is SiblingsRecord {
  return 'siblings' in r;
}

export type RequireOp = WireRequireOp;
export type FieldRequire = WireFieldRequire;
/**
 * `PATCH` of a record: at least one of `set`, `remove`, `increment`, `expire`, `persist`;
 * `require` optional.
 */
export type PatchBody = WirePatchBody;
/** One `require` entry of a transaction: `{key, etag}`, `{key, exists}` or `{key, field, op, value}`. */
export type TxnRequire = WireTxnRequire;
export type TxnOp = WireTxnOp;
export type TxnBody = WireTxnBody;
export type TxnResult = WireTxnResult;

export type ListItem = WireListItem;

/** One page of a listing by name: names that start with `prefix`, `limit` at most, after `cursor`. */
export interface PageOptions {
  readonly prefix?: string;
  readonly limit?: number;
  /** From the previous page; absent for the first. */
  readonly cursor?: string;
  readonly signal?: AbortSignal;
}
export type ListPage = KeyPage;

export type ConflictMode = WireConflictMode;
/** A namespace and its settings, as `GET` and `PUT /v1/ns/{ns}` answer. */
export type { NamespaceSettingsView as NamespaceSettings } from '../core/wire';

export type Lease = LeaseView;
export type LeaseDetails = WireLeaseDetails;
export type LockGrant = LockGrantView;
/**
 * Who holds a lock, as a `LockHeld` conflict tells it: the lock's fencing token and when its
 * holder's lease expires (`null` when it could not be read). Never the holder's lease id.
 */
export type LockHolder = WireLockHolder;
/** A lock held now, as `locks.list` shows it: its fencing token and its holder's expiry, never the lease id. */
export type HeldLock = LockView;
export type LockPage = WireLockPage;

export type SagaStatus = WireSagaStatus;
export type SagaStep = StepView;
/** A saga as it stands: `type` is `steps` or `transfer` (the built-in saga). */
export type Saga = SagaView;
export type SagaAction = WireSagaAction;
/** What `POST /v1/sagas` takes: steps, or a built-in saga type with its input. */
export type SagaInput = SagaBody;
/** A saga as `sagas.list` shows it. */
export type SagaSummary = WireSagaSummary;
export type SagaPage = WireSagaPage;

export type RunStatus = SnapshotStatus;
export type SnapshotPart = PartInfo;
/** A snapshot: its manifest (`setAside`: records set aside as dead letters) and its `segments`. */
export type Snapshot = SnapshotView;
/** A snapshot's manifest, as `manifest.json` holds it (what `snapshots.import` answers). */
export type SnapshotManifest = WireSnapshotManifest;
/** A restore as it stands (`setAside`: lines set aside as dead letters instead of restored). */
export type Restore = RestoreView;

/** An item a background path set aside; `payload` only from `deadLetters.get`. */
export type DeadLetter = WireDeadLetter;
export type DeadLetterSource = WireDeadLetterSource;
export type DeadLetterPage = WireDeadLetterPage;
/** What a replay did: `REPLAYED` (the entry is gone) or `FAILED` (the entry, with the new error). */
export type ReplayOutcome = WireReplayOutcome;

/** One change of the feed. */
export type Change = ChangeDetail;
export type ChangePage = WireChangePage;

export type Health = WireHealth;
