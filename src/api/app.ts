/**
 * The API's Lambda handler, built from its dependencies. API Gateway (and the local gateway) has
 * already matched the request to a resource of the shared route table (`event.resource`), so
 * routing is a lookup of that resource and the method; every route runs through the same
 * pipeline: correlation id, `Idempotency-Key`, the handler, and the one error mapper.
 *
 * There is no router library on this path: Powertools event-handler's `Router` turned every
 * request and answer into web `Request`/`Response` objects (streams included), about half of the
 * handler's own time on a record read, to match a resource API Gateway had matched already.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { MethodNotAllowedError, NotFoundError } from '../core/errors';
import type {
  ChangeLog,
  ChangeSignal,
  Clock,
  DeadLetterReplay,
  DeadLetterStore,
  HealthProbe,
  LeaseStore,
  RecordStore,
  SettingsStore,
  SnapshotStore,
  WorkflowStarter,
} from '../core/ports';
import type { SagaLog } from '../core/saga-log';
import type { ImportDeps } from '../core/snapshot-import';
import { sagasHandlers } from './sagas-handlers';
import { snapshotsHandlers } from './snapshots-handlers';
import { changesHandlers } from './changes-handlers';
import { deadLettersHandlers } from './dead-letters-handlers';
import { leasesHandlers } from './leases-handlers';
import type { Health } from '../core/wire/health';
import { ApiRequest, type HttpResult, json } from './http';
import { type IdempotencyStore, idempotency } from './idempotency';
import { ApiMetrics, type MetricsSink, UNROUTED_OPERATION } from './metrics';
import { internalError, toProblem } from './problem';
import { type Handler, recordsHandlers } from './records-handlers';
import { CATCH_ALL_RESOURCE, ROUTES, resources } from './routes';

export interface ApiDeps {
  readonly records: RecordStore;
  readonly settings: SettingsStore;
  readonly leases: LeaseStore;
  readonly clock: Clock;
  readonly health: HealthProbe;
  readonly idempotencyStore: IdempotencyStore;
  readonly logger: Logger;
  readonly sagas: SagaLog;
  readonly workflows: WorkflowStarter;
  readonly snapshots: SnapshotStore;
  /** Scan segments (parts) of a whole-store snapshot. */
  readonly snapshotSegments: number;
  /** What `POST /v1/snapshots/import` reads, copies into and registers with. @default none: it answers 503 */
  readonly snapshotImport?: ImportDeps;
  /** The namespaces' change logs (the changes endpoint). */
  readonly changes: ChangeLog;
  /** Wakes the changes endpoint's long polls when a namespace's log grew. @default none: they poll */
  readonly changeSignal?: ChangeSignal;
  /** What background paths set aside, and how to replay it (the dead-letter routes). */
  readonly deadLetters: DeadLetterStore;
  readonly deadLetterReplay: DeadLetterReplay;
  /**
   * Where the API's metrics go (`Operations`, `Conflicts`, `SiblingsCreated`; see `metrics.ts`):
   * a Powertools `Metrics`, published once per invocation.
   * @default none: no metrics
   */
  readonly metrics?: MetricsSink;
  /**
   * The Region (replica) that answers, sent as `X-Vesta-Region` on every response, errors included.
   * @default none: the header is left out
   */
  readonly region?: string;
}

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const ALL_METHODS = ['GET', 'PUT', 'PATCH', 'POST', 'DELETE', 'HEAD', 'OPTIONS'] as const;

/** Each resource's routes by method, from the shared route table. */
const ROUTES_BY_RESOURCE: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map(
  resources().map((resource) => [
    resource,
    new Map(ROUTES.filter((r) => r.resource === resource).map((r) => [r.method as string, r.name])),
  ]),
);

/**
 * The route a request runs, for the `operation` dimension: the route of API Gateway's resource
 * and the method; `notFound` / `methodNotAllowed` when there is none.
 */
function operationOf(event: APIGatewayProxyEvent): string {
  const methods = ROUTES_BY_RESOURCE.get(event.resource);
  const method = event.httpMethod.toUpperCase();
  const name = methods?.get(method);
  if (name) return name;
  return methods && (ALL_METHODS as readonly string[]).includes(method)
    ? UNROUTED_OPERATION.methodNotAllowed
    : UNROUTED_OPERATION.notFound;
}

/** The path a 404 names: the resource, or what the catch-all resource caught. */
function pathOf(event: APIGatewayProxyEvent): string {
  return event.resource === CATCH_ALL_RESOURCE ? `/${event.pathParameters?.proxy ?? ''}` : event.resource;
}

/**
 * A method no resource has (TRACE, or one made up): 404 on a path the contract does not define,
 * else 405 with the resource's methods, as problem documents like every other answer.
 */
function unknownMethod(event: APIGatewayProxyEvent): HttpResult {
  const allowed = [...(ROUTES_BY_RESOURCE.get(event.resource)?.keys() ?? [])];
  const e = allowed.length
    ? new MethodNotAllowedError(
        allowed,
        `${event.httpMethod} is not defined for ${event.resource}; use ${allowed.join(', ')}`,
      )
    : new NotFoundError(`no route for ${event.httpMethod} ${pathOf(event)}`);
  return toProblem(e)!;
}

/**
 * The proxy result of an answer: header names in lower case, as HTTP/2 and API Gateway's own
 * headers have them; a body without a media type is text; no body at all is `""` (204 has no
 * media type).
 */
function proxyResult(r: HttpResult): APIGatewayProxyResult {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = v;
  // A response without content has no media type.
  if (r.statusCode === 204) delete headers['content-type'];
  const body = r.body ?? '';
  if (body !== '' && headers['content-type'] === undefined) headers['content-type'] = 'text/plain;charset=UTF-8';
  return { statusCode: r.statusCode, headers, body, isBase64Encoded: false };
}

export function createApiHandler(deps: ApiDeps): ApiHandler {
  const metrics = deps.metrics && new ApiMetrics(deps.metrics);
  const handlers: Record<string, Handler> = {
    ...recordsHandlers({ ...deps, onSiblingsCreated: metrics && (() => metrics.siblingsCreated()) }),
    ...leasesHandlers(deps),
    ...sagasHandlers(deps),
    ...snapshotsHandlers(deps),
    ...changesHandlers(deps),
    ...deadLettersHandlers(deps),
    async health() {
      const [store, leaseReaperLagSeconds, fieldSweeperLagSeconds, latestSnapshotAgeSeconds] = await Promise.all([
        deps.health.storeOk(),
        deps.health.leaseReaperLagSeconds(),
        deps.health.fieldSweeperLagSeconds(),
        deps.health.latestSnapshotAgeSeconds(),
      ]);
      // Like the reaper's figure, the sweeper's is shown, not judged: reads never wait on either.
      return json(200, {
        status: store ? 'ok' : 'degraded',
        checks: {
          store: store ? 'ok' : 'error',
          latestSnapshotAgeSeconds,
          leaseReaperLagSeconds,
          fieldSweeperLagSeconds,
        },
      } satisfies Health);
    },
  };
  const once = idempotency(deps.idempotencyStore);

  const run = async (
    event: APIGatewayProxyEvent,
    context: Context,
    handler: Handler,
    keyed = true,
  ): Promise<HttpResult> => {
    const req = new ApiRequest(event);
    const guard = async (): Promise<HttpResult> => {
      try {
        return await handler(req);
      } catch (e) {
        const p = toProblem(e);
        if (p) return p;
        deps.logger.error('unhandled error', e as Error);
        return internalError(event.requestContext?.requestId ?? 'unknown');
      }
    };
    try {
      return keyed ? await once(req, context, guard) : await guard();
    } catch (e) {
      return toProblem(e) ?? internalError(event.requestContext?.requestId ?? 'unknown');
    }
  };

  /** A resource's route for the method, 405 for another method it does not have, 404 off the table. */
  const dispatch = (event: APIGatewayProxyEvent, context: Context): Promise<HttpResult> | HttpResult => {
    const method = event.httpMethod.toUpperCase();
    if (!(ALL_METHODS as readonly string[]).includes(method)) return unknownMethod(event);
    const methods = ROUTES_BY_RESOURCE.get(event.resource);
    if (!methods) return toProblem(new NotFoundError(`no route for ${event.httpMethod} ${pathOf(event)}`))!;
    const name = methods.get(method);
    if (name) return run(event, context, handlers[name]);
    const allowed = [...methods.keys()];
    return run(
      event,
      context,
      async () => {
        throw new MethodNotAllowedError(
          allowed,
          `${method} is not defined for ${event.resource}; use ${allowed.join(', ')}`,
        );
      },
      false,
    );
  };

  /** Publishes the invocation's metrics; a metrics failure is logged and never changes the answer. */
  const publish = (event: APIGatewayProxyEvent, out: APIGatewayProxyResult | undefined) => {
    try {
      metrics?.publish(operationOf(event), out ?? { statusCode: 500 });
    } catch (e) {
      deps.logger.warn('metrics not published', e as Error);
    }
  };

  return async (event, context) => {
    deps.logger.setCorrelationId(event.requestContext?.requestId);
    let out: APIGatewayProxyResult | undefined;
    try {
      out = proxyResult(await dispatch(event, context));
    } catch (e) {
      deps.logger.error('unhandled error', e as Error);
      out = proxyResult(internalError(event.requestContext?.requestId ?? 'unknown'));
    } finally {
      publish(event, out);
    }
    if (deps.region) out.headers = { ...out.headers, 'x-vesta-region': deps.region };
    return out;
  };
}
