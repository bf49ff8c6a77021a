/**
 * The local stand-in for API Gateway: a plain HTTP server that matches each request against the
 * shared route table, builds the REST proxy event API Gateway would send, and calls the very same
 * Lambda handler.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ApiHandler } from '../api/app';
import { CALLER_HEADER, localIdentity } from '../api/caller';
import { problem } from '../api/problem';
import { matchResource } from '../api/routes';

/** API Gateway's own request size limit. */
export const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
const LAMBDA_TIMEOUT_MS = 29000;

export function lambdaContext(requestId: string): Context {
  const started = Date.now();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'vesta-local-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:vesta-local-api',
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/vesta-local-api',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, LAMBDA_TIMEOUT_MS - (Date.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Builds the API Gateway REST proxy event for a request target (`/v1/...?query`) exactly as it was
 * sent: the path is matched raw, never normalized (a WHATWG URL would resolve `%2e%2e` and `..`
 * segments into another path), and each parameter is decoded once. Throws `URIError` on bad
 * percent-encoding.
 */
export function toProxyEvent(
  method: string,
  target: string,
  headers: IncomingMessage['headers'],
  body: Buffer,
  sourceIp: string,
): APIGatewayProxyEvent {
  // An absolute-form target (`http://host/v1/...`) carries the same path after its authority.
  target = target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, '') || '/';
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const search = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
  const { resource, pathParameters } = matchResource(rawPath);
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const values = Array.isArray(v) ? v : [v];
    multi[k] = values;
    single[k] = values.join(', ');
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of search) {
    query[k] = v;
    multiQuery[k] ??= [];
    multiQuery[k].push(v);
  }
  const requestId = randomUUID();
  const path = decodeURIComponent(rawPath);
  return {
    resource,
    path,
    httpMethod: method,
    headers: single,
    multiValueHeaders: multi,
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
    pathParameters,
    stageVariables: null,
    body: body.length ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      path,
      stage: 'local',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: resource,
      // No IAM locally: X-Vesta-Caller stands in for the signing principal (see src/api/caller.ts).
      identity: {
        sourceIp,
        userAgent: single['user-agent'] ?? null,
        ...localIdentity(single[CALLER_HEADER]),
      } as APIGatewayProxyEvent['requestContext']['identity'],
    },
  };
}

function send(res: ServerResponse, out: Omit<APIGatewayProxyResult, 'body'> & { body?: string }): void {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(out.headers ?? {})) headers[k.toLowerCase()] = String(v);
  for (const [k, v] of Object.entries(out.multiValueHeaders ?? {})) headers[k.toLowerCase()] = v.map(String);
  const body = out.body ? Buffer.from(out.body, out.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  headers['content-length'] = String(body.length);
  res.writeHead(out.statusCode, headers);
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * One request through the local gateway: the proxy event API Gateway would build, then the
 * handler. A path that is not valid percent-encoded UTF-8 is answered `400` before any handler
 * runs, as API Gateway refuses it. Rejects only when the handler itself throws.
 */
export async function invoke(
  handler: ApiHandler,
  method: string,
  target: string,
  headers: IncomingMessage['headers'],
  body: Buffer,
  sourceIp = '127.0.0.1',
): Promise<Omit<APIGatewayProxyResult, 'body'> & { body?: string }> {
  let event: APIGatewayProxyEvent;
  try {
    event = toProxyEvent(method, target, headers, body, sourceIp);
  } catch {
    return problem(400, 'ValidationError', 'the path is not valid percent-encoded UTF-8', { field: 'path' });
  }
  return handler(event, lambdaContext(event.requestContext.requestId));
}

/** One request answered: what the local log shows of it. */
export interface Served {
  readonly method: string;
  /** The request target as sent: path and query. */
  readonly target: string;
  readonly status: number;
  readonly ms: number;
}

/** Serves `handler` on host:port, telling `onServed` of every answered request. Resolves once listening. */
export function serve(
  handler: ApiHandler,
  port: number,
  host = '127.0.0.1',
  onServed?: (served: Served) => void,
): Promise<Server> {
  const server = createServer(async (req, res) => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const answer = (out: Parameters<typeof send>[1]) => {
      send(res, out);
      onServed?.({ method, target, status: out.statusCode, ms: Math.round(performance.now() - started) });
    };
    try {
      const body = await readBody(req);
      if (body === undefined) {
        answer(problem(413, 'PayloadTooLarge', `the body exceeds ${GATEWAY_MAX_BODY_BYTES} bytes`));
        return;
      }
      answer(await invoke(handler, method, target, req.headers, body, req.socket.remoteAddress ?? '127.0.0.1'));
    } catch (e) {
      answer(problem(500, 'InternalError', `local gateway error: ${(e as Error).message}`));
    }
  });
  server.keepAliveTimeout = 65000;
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok(server));
  });
}
