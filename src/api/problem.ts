/**
 * The one mapper from domain errors to HTTP: status, problem `code`, extra members and headers;
 * the document's shape is `ProblemDocument` (`core/wire/problem.ts`).
 * Handlers never build error responses by hand.
 */
import {
  ConflictError,
  CursorExpiredError,
  IdempotencyKeyReusedError,
  MethodNotAllowedError,
  NotFoundError,
  OutOfRangeError,
  PayloadTooLargeError,
  PreconditionFailedError,
  ThrottledError,
  TypeMismatchError,
  UnavailableError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../core/errors';
import { stringifyJson } from '../core/json';
import { SnapshotDamagedError } from '../core/snapshot-import';
import type { ProblemDocument, ProblemExtras } from '../core/wire/problem';
import type { HttpResult } from './http';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problem(
  status: number,
  code: string,
  detail: string,
  extra: ProblemExtras = {},
  headers: Record<string, string> = {},
): HttpResult {
  const body: ProblemDocument = {
    type: `urn:vesta:problem:${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    detail,
    ...extra,
  };
  return {
    statusCode: status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...headers },
    body: stringifyJson(body),
  };
}

/** Maps any thrown value to a problem response; `undefined` for errors that are bugs (500). */
export function toProblem(e: unknown): HttpResult | undefined {
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof ValidationError) return problem(400, 'ValidationError', msg, { field: e.field });
  if (e instanceof NotFoundError) return problem(404, 'NotFound', msg);
  if (e instanceof MethodNotAllowedError)
    return problem(405, 'MethodNotAllowed', msg, {}, { allow: e.allowed.join(', ') });
  if (e instanceof ConflictError) {
    const retry: Record<string, string> = e.reason === 'RequestInProgress' ? { 'retry-after': '1' } : {};
    return problem(409, 'Conflict', msg, { reason: e.reason, ...(e.holder ? { holder: e.holder } : {}) }, retry);
  }
  if (e instanceof CursorExpiredError) return problem(410, 'CursorExpired', msg);
  if (e instanceof PreconditionFailedError) {
    const extra = {
      current: e.current,
      ...(e.failed ? { failed: e.failed } : {}),
      ...(e.unmet && e.unmet.length > 0 ? { unmet: e.unmet } : {}),
    };
    return problem(412, 'PreconditionFailed', msg, extra, e.currentEtag ? { etag: e.currentEtag } : {});
  }
  if (e instanceof PayloadTooLargeError) return problem(413, 'PayloadTooLarge', msg);
  if (e instanceof UnsupportedMediaTypeError) return problem(415, 'UnsupportedMediaType', msg);
  if (e instanceof TypeMismatchError) return problem(422, 'TypeMismatch', msg, { field: e.field });
  if (e instanceof OutOfRangeError) return problem(422, 'OutOfRange', msg, { field: e.field });
  if (e instanceof IdempotencyKeyReusedError) return problem(422, 'IdempotencyKeyReused', msg);
  if (e instanceof SnapshotDamagedError)
    return problem(422, 'SnapshotDamaged', msg, { snapshot: e.snapshot, part: e.part });
  if (e instanceof ThrottledError)
    return problem(429, 'Throttled', msg, {}, { 'retry-after': String(e.retryAfterSeconds) });
  if (e instanceof UnavailableError)
    return problem(503, 'Unavailable', msg, {}, { 'retry-after': String(e.retryAfterSeconds) });
  return undefined;
}

export function internalError(requestId: string): HttpResult {
  return problem(500, 'InternalError', `an unexpected error occurred; request id ${requestId}`);
}
