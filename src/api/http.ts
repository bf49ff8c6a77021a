/**
 * Reading requests and writing responses: headers (case-insensitive), JSON bodies with their
 * media type and size limits, query values, and the record preconditions carried by headers.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../core/errors';
import { parseFencingToken, validateLeaseId } from '../core/leases';
import type { WriteGuards } from '../core/ports';
import { etagOf, parseEtag } from '../core/etag';
import { JsonSyntaxError, parseJson, stringifyJson } from '../core/json';
import type { RecordState } from '../core/record-view';
import { newMap } from '../core/values';
import type { Preconditions } from '../core/records';
import { MAX_BODY_BYTES } from '../core/size';

export interface HttpResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  /** Absent for 204. */
  readonly body?: string;
}

export class ApiRequest {
  public readonly headers: Record<string, string>;
  public readonly query: Record<string, string>;

  public constructor(public readonly event: APIGatewayProxyEvent) {
    this.headers = newMap<string>();
    for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) this.headers[k.toLowerCase()] = v;
    this.query = newMap<string>();
    for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) this.query[k] = v;
  }

  public get method(): string {
    return this.event.httpMethod.toUpperCase();
  }

  public param(name: string): string {
    return this.event.pathParameters?.[name] ?? '';
  }

  public header(name: string): string | undefined {
    return this.headers[name.toLowerCase()];
  }

  public get rawBody(): string | undefined {
    const b = this.event.body;
    if (b === null || b === undefined) return undefined;
    return this.event.isBase64Encoded ? Buffer.from(b, 'base64').toString('utf8') : b;
  }

  /**
   * The JSON body, parsed losslessly (`parseJson`: exact numbers, names as data, at most 64 levels
   * deep). Throws `UnsupportedMediaTypeError` unless it is `application/json`,
   * `PayloadTooLargeError` over 256 KiB, `ValidationError` when missing, malformed or too deep.
   */
  public json(): unknown {
    const raw = this.rawBody;
    if (raw === undefined || raw.length === 0) throw new ValidationError('body', 'a JSON body is required');
    const type = (this.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') {
      throw new UnsupportedMediaTypeError(
        `the body must be application/json; received ${type ? JSON.stringify(type) : 'no Content-Type'}`,
      );
    }
    const bytes = Buffer.byteLength(raw, 'utf8');
    if (bytes > MAX_BODY_BYTES) throw new PayloadTooLargeError(`the body is ${bytes} bytes; at most ${MAX_BODY_BYTES}`);
    try {
      return parseJson(raw);
    } catch (e) {
      if (e instanceof JsonSyntaxError) throw new ValidationError('body', `malformed JSON: ${e.message}`);
      throw e;
    }
  }

  /** If-Match / If-None-Match. Throws `ValidationError` for forms the API does not take. */
  public preconditions(): Preconditions {
    const im = this.header('if-match')?.trim();
    const inm = this.header('if-none-match')?.trim();
    if (inm !== undefined && inm !== '*') throw new ValidationError('If-None-Match', 'only * is supported');
    if (im === undefined) return { ifNoneMatch: inm === '*' };
    if (im === '*') return { ifMatch: { any: true }, ifNoneMatch: inm === '*' };
    if (/^(W\/)?"[^"]*"\s*,/.test(im)) throw new ValidationError('If-Match', 'send one ETag');
    if (im.length === 0) throw new ValidationError('If-Match', 'must not be empty');
    return { ifMatch: { any: false, ctx: parseEtag(im) }, ifNoneMatch: inm === '*' };
  }

  /** `X-Lease-Id` and `X-Fencing-Token`. Throws `ValidationError` for malformed values. */
  public guards(): WriteGuards {
    const lease = this.header('x-lease-id');
    const fence = this.header('x-fencing-token');
    return {
      ...(lease !== undefined ? { lease: validateLeaseId(lease.trim(), 'X-Lease-Id') } : {}),
      ...(fence !== undefined ? { fence: parseFencingToken(fence.trim()) } : {}),
    };
  }

  /** An integer query value within bounds, or the default. Throws `ValidationError`. */
  public intQuery(name: string, min: number, max: number, dflt: number): number {
    const v = this.query[name];
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new ValidationError(name, `must be an integer from ${min} to ${max}. Received: ${JSON.stringify(v)}`);
    }
    return Number(v);
  }

  public boolQuery(name: string): boolean {
    const v = this.query[name];
    if (v === undefined || v === 'false') return false;
    if (v === 'true') return true;
    throw new ValidationError(name, `must be true or false. Received: ${JSON.stringify(v)}`);
  }
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: stringifyJson(body) };
}

export function noContent(): HttpResult {
  return { statusCode: 204, headers: {} };
}

export function etagHeader(state: RecordState): Record<string, string> {
  return { etag: etagOf(state) };
}

/** Throws `ValidationError` (field `query.<name>`) for a query parameter a list does not take. */
export function onlyQuery(req: ApiRequest, names: readonly string[]): void {
  for (const name of Object.keys(req.query)) {
    if (!names.includes(name))
      throw new ValidationError(`query.${name}`, `is not a query parameter of this list; use ${names.join(', ')}`);
  }
}
