/**
 * API Gateway's own error responses (throttling, signature failures, oversized requests, ...)
 * rewritten as RFC 9457 problem documents, so a client sees one error format whether a request
 * was refused by the gateway or by the function. The bodies are built by the same `problem()`
 * that the function's error mapper uses; only `detail` is filled in by API Gateway.
 */
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { PROBLEM_CONTENT_TYPE, problem } from '../../src/api/problem';

export interface GatewayProblem {
  readonly type: apigw.ResponseType;
  readonly status: number;
  readonly code: string;
  /** Sets `Retry-After` (seconds). */
  readonly retryAfterSeconds?: number;
  /** `field` of a `ValidationError`: what part of the request was refused. */
  readonly field?: string;
}

/**
 * How each gateway response type is answered. Types without an entry of their own fall to
 * `DEFAULT_4XX` or `DEFAULT_5XX`. Every gateway 5XX here is an integration or configuration
 * failure (the function crashed, timed out or could not be invoked), so it is a 500 like any
 * other bug. Authentication failures keep API Gateway's statuses (403, or 401 for `UNAUTHORIZED`).
 */
export const GATEWAY_PROBLEMS: readonly GatewayProblem[] = [
  { type: apigw.ResponseType.DEFAULT_4XX, status: 400, code: 'ValidationError', field: 'request' },
  { type: apigw.ResponseType.DEFAULT_5XX, status: 500, code: 'InternalError' },
  { type: apigw.ResponseType.BAD_REQUEST_PARAMETERS, status: 400, code: 'ValidationError', field: 'path' },
  { type: apigw.ResponseType.BAD_REQUEST_BODY, status: 400, code: 'ValidationError', field: 'body' },
  { type: apigw.ResponseType.RESOURCE_NOT_FOUND, status: 404, code: 'NotFound' },
  { type: apigw.ResponseType.REQUEST_TOO_LARGE, status: 413, code: 'PayloadTooLarge' },
  { type: apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE, status: 415, code: 'UnsupportedMediaType' },
  { type: apigw.ResponseType.THROTTLED, status: 429, code: 'Throttled', retryAfterSeconds: 1 },
  { type: apigw.ResponseType.QUOTA_EXCEEDED, status: 429, code: 'Throttled', retryAfterSeconds: 60 },
  { type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, status: 403, code: 'Unauthenticated' },
  { type: apigw.ResponseType.INVALID_SIGNATURE, status: 403, code: 'Unauthenticated' },
  { type: apigw.ResponseType.EXPIRED_TOKEN, status: 403, code: 'Unauthenticated' },
  { type: apigw.ResponseType.UNAUTHORIZED, status: 401, code: 'Unauthenticated' },
  { type: apigw.ResponseType.ACCESS_DENIED, status: 403, code: 'Forbidden' },
  { type: apigw.ResponseType.WAF_FILTERED, status: 403, code: 'Forbidden' },
];

const DETAIL_PLACEHOLDER = 'VESTA_GATEWAY_ERROR_DETAIL';

/**
 * The response template of one problem. `$context.error.messageString` is API Gateway's message
 * already quoted as a JSON string, so it replaces the quoted placeholder as a whole. Gateway
 * response templates only substitute variables (no VTL), so every value but `detail` is fixed.
 * Throws an `Error` if `problem()` no longer puts `detail` in its body.
 */
export function problemTemplate(p: GatewayProblem): string {
  const extra = p.field === undefined ? {} : { field: p.field };
  const body = problem(p.status, p.code, DETAIL_PLACEHOLDER, extra).body ?? '';
  const quoted = JSON.stringify(DETAIL_PLACEHOLDER);
  if (!body.includes(quoted)) throw new Error(`problem() body has no detail member. Received: ${body}`);
  return body.replace(quoted, '$context.error.messageString');
}

/** Adds one gateway response per entry of `GATEWAY_PROBLEMS` to the API. */
export function addProblemResponses(api: apigw.RestApi): void {
  for (const p of GATEWAY_PROBLEMS) {
    const template = problemTemplate(p);
    api.addGatewayResponse(`Problem${p.type.responseType}`, {
      type: p.type,
      statusCode: String(p.status),
      responseHeaders: {
        'Content-Type': `'${PROBLEM_CONTENT_TYPE}'`,
        ...(p.retryAfterSeconds === undefined ? {} : { 'Retry-After': `'${p.retryAfterSeconds}'` }),
      },
      // Keyed by the content type the client accepts; the same document for JSON and problem+JSON.
      templates: { 'application/json': template, [PROBLEM_CONTENT_TYPE]: template },
    });
  }
}
