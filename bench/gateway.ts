/**
 * Calls the API Lambda handler as API Gateway (or the local gateway) would, with the proxy event
 * built untimed: `call(...)` builds the event and returns the timed part.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { ApiHandler } from '../src/api/app';
import { lambdaContext, toProxyEvent } from '../src/local/server';

export interface Reply {
  readonly status: number;
  readonly etag?: string;
  readonly body: string;
}

export type Call = (
  method: string,
  path: string,
  body?: unknown,
  extra?: Record<string, string>,
) => () => Promise<Reply>;

export function gateway(handler: ApiHandler): Call {
  return (method, path, body, extra = {}) => {
    const raw = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = {
      host: 'localhost',
      'user-agent': 'vesta-bench',
      accept: 'application/json',
      ...extra,
    };
    if (raw.length)
      Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(raw.length) });
    const event: APIGatewayProxyEvent = toProxyEvent(method, path, headers, raw, '127.0.0.1');
    const context = lambdaContext(event.requestContext.requestId);
    return async (): Promise<Reply> => {
      const out = await handler(event, context);
      const etag = out.headers?.etag ?? out.headers?.ETag;
      return { status: out.statusCode, etag: etag === undefined ? undefined : String(etag), body: out.body ?? '' };
    };
  };
}

export function expectStatus(reply: Reply, statuses: readonly number[], what: string): Reply {
  if (!statuses.includes(reply.status)) throw new Error(`${what}: HTTP ${reply.status} ${reply.body.slice(0, 300)}`);
  return reply;
}
