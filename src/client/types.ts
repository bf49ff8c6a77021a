/**
 * The shapes of the HTTP contract as the client returns them (see docs/openapi.yaml): the
 * record views and change details are the server's own types, the rest mirror the document.
 */
export type { Fields, JsonValue } from '../core/record-view';
export type { VersionVector } from '../core/vv';
import type { Fields, JsonValue, SiblingsRecordView, SingleRecordView } from '../core/record-view';
import type { ChangeDetail, ChangeKind } from '../core/changes';
import type { DeadLetter as ServerDeadLetter, DeadLetterSource as ServerDeadLetterSource, ReplayOutcome as ServerReplayOutcome } from '../core/dead-letters';
export type { ChangeKind };

/** A record with one value (the API's record view, shared with the server). */
export type VestaRecord = SingleRecordView;

export interface SiblingValue {
  readonly fields: Fields;
  readonly updatedAt: string;
}

/** A record with concurrent values (`siblings` mode, `300 Multiple Choices`). */
export type SiblingsRecord = SiblingsRecordView;

/** What a read or write of one record gives: the record and the ETag to send back as `If-Match`. */
export type Versioned<T = VestaRecord | SiblingsRecord> = { readonly record: T; readonly etag: string };

export function hasSiblings(r: VestaRecord | SiblingsRecord): r is SiblingsRecord {
  return 'siblings' in r;
}

export type RequireOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'exists' | 'absent';
export interface FieldRequire {
  readonly field: string;
  readonly op: RequireOp;
  readonly value?: JsonValue;
}

export interface PatchBody {
  readonly set?: Fields;
  readonly remove?: readonly string[];
  readonly increment?: Readonly<Record<string, number>>;
  readonly require?: readonly FieldRequire[];
}

export type TxnRequire =
  | { readonly key: string; readonly etag: string }
  | { readonly key: string; readonly exists: boolean }
  | { readonly key: string; readonly field: string; readonly op: RequireOp; readonly value?: JsonValue };

export type TxnOp =
  | { readonly op: 'put'; readonly key: string; readonly fields: Fields }
  | ({ readonly op: 'patch'; readonly key: string } & PatchBody)
  | { readonly op: 'delete'; readonly key: string };

export interface TxnBody {
  readonly require?: readonly TxnRequire[];
  readonly ops: readonly TxnOp[];
}

export type TxnResult = { readonly key: string; readonly rev: number; readonly etag: string } | { readonly key: string; readonly deleted: true };

export interface ListItem {
  readonly key: string;
  readonly rev: number;
  readonly updatedAt: string;
  readonly fields?: Fields;
  readonly siblings?: readonly SiblingValue[];
}

export interface ListPage {
  readonly items: readonly ListItem[];
  readonly cursor: string | null;
}

export type ConflictMode = 'reject' | 'siblings';
export interface NamespaceSettings {
  readonly namespace: string;
  readonly conflicts: ConflictMode;
}

export interface Lease {
  readonly id: string;
  readonly ttlSeconds: number;
  readonly expiresAt: string;
}

export interface LeaseDetails extends Lease {
  readonly remainingSeconds: number;
  readonly keys: readonly { readonly namespace: string; readonly key: string }[];
}

export interface LockGrant {
  readonly name: string;
  readonly leaseId: string;
  readonly fencingToken: number;
  readonly expiresAt: string;
}

/**
 * Who holds a lock, as a `LockHeld` conflict tells it: the lock's fencing token and when its
 * holder's lease expires (`null` when it could not be read). Never the holder's lease id.
 */
export interface LockHolder {
  readonly fencingToken: number;
  readonly expiresAt: string | null;
}

export type SagaStatus = 'RUNNING' | 'SUCCEEDED' | 'COMPENSATED' | 'COMPENSATION_FAILED';
export interface SagaStep {
  readonly name: string;
  readonly status: 'PENDING' | 'DONE' | 'FAILED' | 'COMPENSATED' | 'COMPENSATION_FAILED' | 'SKIPPED';
  readonly error?: unknown;
  readonly attempts?: number;
}
export interface Saga {
  readonly id: string;
  /** `transfer` for the built-in saga; absent for a steps saga. */
  readonly type?: string;
  readonly namespace?: string;
  readonly status: SagaStatus;
  readonly steps: readonly SagaStep[];
  readonly startedAt?: string;
  readonly finishedAt?: string | null;
  readonly executionArn?: string;
}

export type SagaAction =
  | { readonly op: 'put'; readonly key: string; readonly fields: Fields; readonly require?: readonly FieldRequire[] }
  | ({ readonly op: 'patch'; readonly key: string } & PatchBody)
  | { readonly op: 'delete'; readonly key: string; readonly require?: readonly FieldRequire[] };

export type SagaInput =
  | { readonly id?: string; readonly namespace: string; readonly steps: readonly { readonly name: string; readonly action: SagaAction; readonly compensation?: SagaAction }[] }
  | { readonly id?: string; readonly type: 'transfer'; readonly input: { readonly namespace: string; readonly from: string; readonly to: string; readonly field: string; readonly amount: number } };

export type RunStatus = 'RUNNING' | 'COMPLETE' | 'FAILED';
export interface SnapshotPart {
  readonly name: string;
  readonly items: number;
  readonly bytes: number;
  readonly sha256: string;
}
export interface Snapshot {
  readonly id: string;
  readonly namespace: string | null;
  readonly status: RunStatus;
  readonly items: number;
  readonly bytes: number;
  /** Records set aside as dead letters instead of exported; the snapshot is COMPLETE without them. */
  readonly setAside?: number;
  readonly parts: readonly SnapshotPart[];
  readonly segments?: number;
  readonly startedAt?: string;
  readonly finishedAt?: string | null;
  readonly format?: string;
  readonly error?: string;
}
export interface Restore {
  readonly id: string;
  readonly snapshotId?: string;
  readonly namespace?: string | null;
  readonly mode?: 'missing' | 'newer';
  readonly status: RunStatus;
  readonly written: number;
  readonly skipped: number;
  /** Lines set aside as dead letters instead of restored. */
  readonly setAside?: number;
  readonly error?: string;
}

/** An item a background path set aside (the server's own type); `payload` only from `deadLetters.get`. */
export type DeadLetter = ServerDeadLetter;
export type DeadLetterSource = ServerDeadLetterSource;
export interface DeadLetterPage {
  readonly items: readonly DeadLetter[];
  readonly cursor: string | null;
}
/** What a replay did: `REPLAYED` (the entry is gone) or `FAILED` (the entry, with the new error). */
export type ReplayOutcome = ServerReplayOutcome;

/** One change of the feed: the server's change detail. */
export type Change = ChangeDetail;
export interface ChangePage {
  readonly items: readonly Change[];
  readonly cursor: string;
}

export interface Health {
  readonly status: 'ok' | 'degraded';
  readonly checks: { readonly store: string; readonly latestSnapshotAgeSeconds: number | null; readonly leaseReaperLagSeconds: number | null };
}
