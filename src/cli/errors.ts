/**
 * The CLI's failures. Each maps to an exit code in `main.ts`: a `UsageError` to 2 (the command
 * line is wrong and nothing was sent), an `ApiError` or a `NetworkError` to 1.
 */

/** The problem document of an error response (RFC 9457), with Vesta's extra members. */
export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status: number;
  readonly code: string;
  readonly detail?: string;
  readonly [member: string]: unknown;
}

export class CliError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** The command line cannot be understood; nothing was sent. */
export class UsageError extends CliError {
  public constructor(
    message: string,
    /** The command whose usage applies, or undefined for the tool itself. */
    public readonly command?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** The API answered with an error status; `problem` is its body. */
export class ApiError extends CliError {
  public constructor(
    public readonly problem: Problem,
    /** The response's `ETag` (a 412 carries the current record's). */
    public readonly etag?: string,
    /** The response's `Retry-After`, in seconds. */
    public readonly retryAfter?: string,
  ) {
    super(`${problem.code} (${problem.status}): ${problem.detail ?? problem.title ?? ''}`);
    this.name = 'ApiError';
  }
}

/** The API could not be reached at all (refused, unknown host, reset). */
export class NetworkError extends CliError {
  public constructor(
    public readonly url: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`could not reach ${url}: ${reason}`, options);
    this.name = 'NetworkError';
  }
}

/**
 * A lease being kept alive is gone: a keepalive answered 404, or the service could not be
 * reached for longer than the lease had left. Whatever the lease protected may be gone too.
 */
export class LeaseLostError extends CliError {
  public constructor(
    public readonly leaseId: string,
    /** When the loss was noticed, as an ISO 8601 time. */
    public readonly at: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`LOST lease ${leaseId} at ${at}: ${reason}`, options);
    this.name = 'LeaseLostError';
  }
}
