/**
 * The enumerations and limits of the contract, as plain constants without zod: the wire schemas
 * build on them, and the client and the CLI take them as they are.
 */

/** Operators of a `require` clause. */
export const REQUIRE_OPS = ['==', '!=', '<', '<=', '>', '>=', 'exists', 'absent'] as const;
export type RequireOp = (typeof REQUIRE_OPS)[number];

/** A namespace's conflict modes: refuse a concurrent write, or keep it as a sibling. */
export const CONFLICT_MODES = ['reject', 'siblings'] as const;
export type ConflictMode = (typeof CONFLICT_MODES)[number];

/** The background paths that set items aside as dead letters. */
export const DEAD_LETTER_SOURCES = ['publisher', 'snapshot', 'restore', 'reaper', 'renewer', 'sweeper'] as const;
export type DeadLetterSource = (typeof DEAD_LETTER_SOURCES)[number];

/** `GET /v1/ns/{ns}/changes`: the longest `wait`, the largest `limit` and the default `limit`. */
export const MAX_WAIT_SECONDS = 20;
export const MAX_CHANGES_LIMIT = 1000;
export const DEFAULT_CHANGES_LIMIT = 100;

/** A saga's statuses, as `GET /v1/sagas/{id}` shows them and `GET /v1/sagas?status=` filters by. */
export const SAGA_STATUSES = ['RUNNING', 'SUCCEEDED', 'COMPENSATED', 'COMPENSATION_FAILED'] as const;
export type SagaStatus = (typeof SAGA_STATUSES)[number];

/** Why a `409 Conflict` happened: the problem document's `reason`. */
export const ConflictReason = {
  SiblingsPresent: 'SiblingsPresent',
  SiblingLimit: 'SiblingLimit',
  LockHeld: 'LockHeld',
  LockNotHeld: 'LockNotHeld',
  FencingTokenStale: 'FencingTokenStale',
  LeaseNotFound: 'LeaseNotFound',
  RequestInProgress: 'RequestInProgress',
  SnapshotNotComplete: 'SnapshotNotComplete',
  SagaIdReused: 'SagaIdReused',
  /** `POST /v1/snapshots/import` of a snapshot whose id this deployment has, with another manifest. */
  SnapshotIdReused: 'SnapshotIdReused',
  /** `POST /v1/sagas/{id}/retry` of a saga that is not `COMPENSATION_FAILED` (or whose execution can no longer be redriven). */
  SagaNotRetryable: 'SagaNotRetryable',
} as const;
export type ConflictReason = (typeof ConflictReason)[keyof typeof ConflictReason];
