/**
 * The client's errors: one root, one class per problem `code` of the contract (a 409 also has its
 * `reason`), and the failures that never reach the API. `apiError` is the one place that maps a
 * problem document to its class.
 */
import type { LockHolder, ProblemDocument, SiblingsRecord, UnmetRequire, VestaRecord } from './types';

/**
 * A problem document (RFC 9457) with Vesta's extra members (`ProblemDocument`), as far as the
 * answer had one: an answer without a problem document (a gateway's 502) still gets a status and
 * a code (`HTTP502`).
 */
export type Problem = Partial<Omit<ProblemDocument, 'reason'>> & {
  readonly status: number;
  readonly code: string;
  /** A 409's reason: one the contract names, or a newer one this client does not know. */
  readonly reason?: ConflictReason;
  readonly [member: string]: unknown;
};

export class VestaClientError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VestaClientError';
  }
}

/** The API could not be reached, or did not answer in time. */
export class NetworkError extends VestaClientError {
  public constructor(
    public readonly url: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`could not reach ${url}: ${reason}`, options);
    this.name = 'NetworkError';
  }
}

/** The API answered with an error status; `problem` is its body. */
export class ApiError extends VestaClientError {
  public readonly status: number;
  public readonly code: string;
  public readonly detail: string;

  public constructor(
    public readonly problem: Problem,
    /** The response's `ETag` (a 412 carries the current record's). */
    public readonly etag?: string,
    /** `Retry-After` in seconds, when the answer had one. */
    public readonly retryAfterSeconds?: number,
  ) {
    super(`${problem.code} (${problem.status}): ${problem.detail ?? problem.title ?? ''}`);
    this.name = 'ApiError';
    this.status = problem.status;
    this.code = problem.code;
    this.detail = problem.detail ?? '';
  }
}

export class ValidationError extends ApiError {
  /** The offending input (`body.fields.qty`, `limit`, ...). */
  public get field(): string | undefined {
    return this.problem.field;
  }
}
export class NotFoundError extends ApiError {}
export class MethodNotAllowedError extends ApiError {}
export type ConflictReason =
  | 'SiblingsPresent'
  | 'SiblingLimit'
  | 'LockHeld'
  | 'LockNotHeld'
  | 'FencingTokenStale'
  | 'LeaseNotFound'
  | 'RequestInProgress'
  | 'SnapshotNotComplete'
  | 'SagaIdReused'
  | 'SnapshotIdReused'
  | string;
export class ConflictError extends ApiError {
  public get reason(): ConflictReason {
    return this.problem.reason ?? '';
  }
  /**
   * For `LockHeld`: the lock's current fencing token and when its holder's lease expires. The
   * holder's lease id is never sent: it is that holder's secret.
   */
  public get holder(): LockHolder | undefined {
    return this.problem.holder;
  }
}
/**
 * `POST /v1/sagas` with the id of a saga that exists with another definition (a `409` with
 * reason `SagaIdReused`): nothing was started. Read that saga with `getSaga`, or use another id.
 */
export class SagaIdReusedError extends ConflictError {}
export class CursorExpiredError extends ApiError {}
export class PreconditionFailedError extends ApiError {
  /** The record as it now stands, or null when it is absent; `etag` is its ETag. */
  public get current(): VestaRecord | SiblingsRecord | null {
    return this.problem.current ?? null;
  }
  /** For a transaction: the indexes of the `require` entries that did not hold. */
  public get failed(): readonly number[] {
    return this.problem.failed ?? [];
  }
  /**
   * Each `require` clause that did not hold, explained: the clause, its field, operator and
   * expected value, and the value found (`actual`) or what was absent (`absent`).
   */
  public get unmet(): readonly UnmetRequire[] {
    return this.problem.unmet ?? [];
  }
}
export class PayloadTooLargeError extends ApiError {}
export class UnsupportedMediaTypeError extends ApiError {}
export class TypeMismatchError extends ApiError {}
export class IdempotencyKeyReusedError extends ApiError {}
/**
 * `POST /v1/snapshots/import` found a snapshot whose manifest or part does not verify (`422`):
 * no snapshot of that location was imported.
 */
export class SnapshotDamagedError extends ApiError {
  /** The snapshot id. */
  public get snapshot(): string | undefined {
    return this.problem.snapshot;
  }
  /** `manifest.json`, or the part that is missing or differs. */
  public get part(): string | undefined {
    return this.problem.part;
  }
}
export class ThrottledError extends ApiError {}
export class UnavailableError extends ApiError {}
export class InternalError extends ApiError {}

const BY_CODE: Record<string, new (p: Problem, etag?: string, retryAfter?: number) => ApiError> = {
  ValidationError,
  NotFound: NotFoundError,
  MethodNotAllowed: MethodNotAllowedError,
  Conflict: ConflictError,
  CursorExpired: CursorExpiredError,
  PreconditionFailed: PreconditionFailedError,
  PayloadTooLarge: PayloadTooLargeError,
  UnsupportedMediaType: UnsupportedMediaTypeError,
  TypeMismatch: TypeMismatchError,
  IdempotencyKeyReused: IdempotencyKeyReusedError,
  SnapshotDamaged: SnapshotDamagedError,
  Throttled: ThrottledError,
  Unavailable: UnavailableError,
  InternalError,
};

/** The error for a problem document (an `ApiError` for a code the contract does not name). */
export function apiError(problem: Problem, etag?: string, retryAfterSeconds?: number): ApiError {
  const Cls =
    problem.code === 'Conflict' && problem.reason === 'SagaIdReused'
      ? SagaIdReusedError
      : (BY_CODE[problem.code] ?? ApiError);
  const e = new Cls(problem, etag, retryAfterSeconds);
  e.name = Cls.name;
  return e;
}

/** A lease ended (expired, revoked, or could not be kept alive in time). */
export class LeaseLostError extends VestaClientError {
  public constructor(
    public readonly leaseId: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`lease ${leaseId} is lost: ${reason}`, options);
    this.name = 'LeaseLostError';
  }
}

/** `update()` gave up after its attempts (other writers kept winning). */
export class TooManyAttemptsError extends VestaClientError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TooManyAttemptsError';
  }
}
