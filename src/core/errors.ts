/**
 * One error root for the domain. Every failure a client can cause or observe has its own class;
 * `src/api/problem.ts` is the single mapper from class to HTTP status and problem `code`.
 */
import type { RecordView } from './record-view';
import type { LockHolder } from './wire/leases';

export interface VestaErrorOptions {
  readonly cause?: unknown;
}

export class VestaError extends Error {
  public constructor(message: string, options?: VestaErrorOptions) {
    super(message, options);
    this.name = 'VestaError';
  }
}

/** Malformed JSON, wrong types, bad names, unknown members, bad query values. */
export class ValidationError extends VestaError {
  public constructor(
    public readonly field: string,
    message: string,
    options?: VestaErrorOptions,
  ) {
    super(`${field}: ${message}`, options);
    this.name = 'ValidationError';
  }
}

/** No such record (absent, deleted, or attached to an expired lease). */
export class NotFoundError extends VestaError {
  public constructor(message: string, options?: VestaErrorOptions) {
    super(message, options);
    this.name = 'NotFoundError';
  }
}

export const ConflictReason = {
  SiblingsPresent: 'SiblingsPresent',
  SiblingLimit: 'SiblingLimit',
  LockHeld: 'LockHeld',
  LockNotHeld: 'LockNotHeld',
  FencingTokenStale: 'FencingTokenStale',
  LeaseNotFound: 'LeaseNotFound',
  RequestInProgress: 'RequestInProgress',
  SnapshotNotComplete: 'SnapshotNotComplete',
  /** `POST /v1/sagas/{id}/retry` of a saga that is not `COMPENSATION_FAILED` (or whose execution can no longer be redriven). */
  SagaNotRetryable: 'SagaNotRetryable',
} as const;
export type ConflictReason = (typeof ConflictReason)[keyof typeof ConflictReason];

/** Who holds a lock, as anyone may see it (its schema: `wire/leases.ts`). */
export type { LockHolder } from './wire/leases';

/** The operation cannot apply to the record as it stands; `reason` says why. */
export class ConflictError extends VestaError {
  /** Extra members of the problem document, e.g. `holder` of a held lock. */
  public holder?: LockHolder;

  public constructor(
    public readonly reason: ConflictReason,
    message: string,
    options?: VestaErrorOptions,
  ) {
    super(message, options);
    this.name = 'ConflictError';
  }
}

/** `If-Match`, `If-None-Match` or a `require` clause did not hold; carries the record as it stands. */
export class PreconditionFailedError extends VestaError {
  public constructor(
    message: string,
    public readonly current: RecordView | null,
    public readonly failed?: readonly number[],
    /** ETag of `current`, for the response's `ETag` header. */
    public readonly currentEtag?: string,
    options?: VestaErrorOptions,
  ) {
    super(message, options);
    this.name = 'PreconditionFailedError';
  }
}

/** A body over the request limit, or a record that would exceed the record size limit. */
export class PayloadTooLargeError extends VestaError {
  public constructor(message: string, options?: VestaErrorOptions) {
    super(message, options);
    this.name = 'PayloadTooLargeError';
  }
}

/** A body that is not `application/json`. */
export class UnsupportedMediaTypeError extends VestaError {
  public constructor(message: string, options?: VestaErrorOptions) {
    super(message, options);
    this.name = 'UnsupportedMediaTypeError';
  }
}

/** An operation that needs a value of another type, e.g. `increment` of a string field. */
export class TypeMismatchError extends VestaError {
  public constructor(
    public readonly field: string,
    message: string,
    options?: VestaErrorOptions,
  ) {
    super(message, options);
    this.name = 'TypeMismatchError';
  }
}

/** An `increment` whose result is not a number DynamoDB can hold (digits or magnitude). */
export class OutOfRangeError extends VestaError {
  public constructor(
    public readonly field: string,
    message: string,
    options?: VestaErrorOptions,
  ) {
    super(message, options);
    this.name = 'OutOfRangeError';
  }
}

/** The same `Idempotency-Key` came with a different request. */
export class IdempotencyKeyReusedError extends VestaError {
  public constructor(message: string, options?: VestaErrorOptions) {
    super(message, options);
    this.name = 'IdempotencyKeyReusedError';
  }
}

/** A method the contract does not define for the path. */
export class MethodNotAllowedError extends VestaError {
  public constructor(
    public readonly allowed: readonly string[],
    message: string,
    options?: VestaErrorOptions,
  ) {
    super(message, options);
    this.name = 'MethodNotAllowedError';
  }
}

/** A dependency throttled us after the SDK's own retries. */
export class ThrottledError extends VestaError {
  public constructor(
    message: string,
    public readonly retryAfterSeconds = 1,
    options?: VestaErrorOptions,
  ) {
    super(message, options);
    this.name = 'ThrottledError';
  }
}

/** A change cursor older than the changes kept: the watcher may have missed changes. */
export class CursorExpiredError extends VestaError {
  public constructor(message: string, options?: VestaErrorOptions) {
    super(message, options);
    this.name = 'CursorExpiredError';
  }
}

/** A dependency is down; nothing was half-written. */
export class UnavailableError extends VestaError {
  public constructor(
    message: string,
    public readonly retryAfterSeconds = 2,
    options?: VestaErrorOptions,
  ) {
    super(message, options);
    this.name = 'UnavailableError';
  }
}

/**
 * A stored item that does not have the shape Vesta writes (an attribute of the wrong type, a
 * missing key attribute): written by something else, or damaged. `attribute` names the first bad
 * one. Background paths set such an item aside; a request that meets one is a 500 (a bug or damage).
 */
export class MalformedItemError extends VestaError {
  public constructor(
    public readonly attribute: string,
    message: string,
    options?: VestaErrorOptions,
  ) {
    super(message, options);
    this.name = 'MalformedItemError';
  }
}
