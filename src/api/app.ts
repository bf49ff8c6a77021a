/**
 * The API's Lambda handler, built from its dependencies. Routing is Powertools event-handler's
 * `Router`, registered from the shared route table; every route runs through the same pipeline:
 * correlation id, `Idempotency-Key`, the handler, and the one error mapper.
 */
import { Router } from '@aws-lambda-powertools/event-handler/http';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { MethodNotAllowedError, NotFoundError } from '../core/errors';
import type {
  ChangeLog,
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
  /** The namespaces' change logs (the changes endpoint). */
  readonly changes: ChangeLog;
  /** What background paths set aside, and how to replay it (the dead-letter routes). */
  readonly deadLetters: DeadLetterStore;
  readonly deadLetterReplay: DeadLetterReplay;
  /**
   * Where the API's metrics go (`Operations`, `Conflicts`, `SiblingsCreated`; see `metrics.ts`):
   * a Powertools `Metrics`, published once per invocation.
   * @default none: no metrics
   */
  readonly metrics?: MetricsSink;
}

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const ALL_METHODS = ['GET', 'PUT', 'PATCH', 'POST', 'DELETE', 'HEAD', 'OPTIONS'] as const;

/**
 * The router sees the resource template API Gateway matched (`/v1/ns/{ns}/keys/{key+}`), never a
 * path rebuilt from decoded parameters: a key is data, so nothing in it (encoded slashes, dot
 * segments) can make a request reach another route. The router reads the path through a URL,
 * so the template's braces travel percent-encoded, and each route matches its template literally.
 */
function templatePath(resource: string): string {
  return resource.replace(/[{}]/g, (c) => (c === '{' ? '%7B' : '%7D'));
}

function routerPath(resource: string): RegExp {
  return new RegExp(`^${templatePath(resource).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

/**
 * The route a request runs, for the `operation` dimension: found the way the router finds it,
 * from API Gateway's resource and the method; `notFound` / `methodNotAllowed` when none does.
 */
function operationOf(event: APIGatewayProxyEvent): string {
  const method = event.httpMethod.toUpperCase();
  const defined = ROUTES.filter((r) => r.resource === event.resource);
  const route = defined.find((r) => r.method === method);
  if (route) return route.name;
  return defined.length > 0 && (ALL_METHODS as readonly string[]).includes(method)
    ? UNROUTED_OPERATION.methodNotAllowed
    : UNROUTED_OPERATION.notFound;
}

/**
 * A method no resource has (TRACE, or one made up): 404 on a path the contract does not define,
 * else 405 with the resource's methods, as problem documents like every other answer.
 */
function unknownMethod(event: APIGatewayProxyEvent): APIGatewayProxyResult {
  const allowed = ROUTES.filter((r) => r.resource === event.resource).map((r) => r.method);
  const path = event.resource === CATCH_ALL_RESOURCE ? `/${event.pathParameters?.proxy ?? ''}` : event.resource;
  const e = allowed.length
    ? new MethodNotAllowedError(
        allowed,
        `${event.httpMethod} is not defined for ${event.resource}; use ${allowed.join(', ')}`,
      )
    : new NotFoundError(`no route for ${event.httpMethod} ${path}`);
  const p = toProblem(e)!;
  return { statusCode: p.statusCode, headers: p.headers, body: p.body ?? '' };
}

/** The router's answer for a result: a web Response, so the router adds no headers of its own. */
function toResponse(r: HttpResult): Response {
  return new Response(r.body ?? null, { status: r.statusCode, headers: r.headers });
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
      const [store, leaseReaperLagSeconds, latestSnapshotAgeSeconds] = await Promise.all([
        deps.health.storeOk(),
        deps.health.leaseReaperLagSeconds(),
        deps.health.latestSnapshotAgeSeconds(),
      ]);
      return json(200, {
        status: store ? 'ok' : 'degraded',
        checks: { store: store ? 'ok' : 'error', latestSnapshotAgeSeconds, leaseReaperLagSeconds },
      } satisfies Health);
    },
  };
  const once = idempotency(deps.idempotencyStore);
  const router = new Router({ logger: deps.logger });

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

  for (const resource of resources()) {
    const defined = ROUTES.filter((r) => r.resource === resource);
    for (const r of defined) {
      router.route(
        async ({ event, context }) => toResponse(await run(event as APIGatewayProxyEvent, context, handlers[r.name])),
        { method: r.method, path: routerPath(resource) },
      );
    }
    const allowed = defined.map((r) => r.method);
    const others = ALL_METHODS.filter((m) => !(allowed as string[]).includes(m));
    router.route(
      async ({ event, context }) =>
        toResponse(
          await run(
            event as APIGatewayProxyEvent,
            context,
            async (req) => {
              throw new MethodNotAllowedError(
                allowed,
                `${req.method} is not defined for ${resource}; use ${allowed.join(', ')}`,
              );
            },
            false,
          ),
        ),
      { method: [...others], path: routerPath(resource) },
    );
  }
  router.errorHandler(Error, async (e, { event }) => {
    deps.logger.error('router error', e);
    return toResponse(internalError((event as APIGatewayProxyEvent).requestContext?.requestId ?? 'unknown'));
  });
  router.notFound(async (_e, { event }) => {
    const ev = event as APIGatewayProxyEvent;
    const path = ev.resource === CATCH_ALL_RESOURCE ? `/${ev.pathParameters?.proxy ?? ''}` : ev.resource;
    return toResponse(toProblem(new NotFoundError(`no route for ${ev.httpMethod} ${path}`))!);
  });

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
    const routed = { ...event, path: templatePath(event.resource) };
    let out: APIGatewayProxyResult | undefined;
    try {
      out = (ALL_METHODS as readonly string[]).includes(event.httpMethod.toUpperCase())
        ? ((await router.resolve(routed, context)) as APIGatewayProxyResult)
        : unknownMethod(event);
    } finally {
      publish(event, out);
    }
    if (out.statusCode === 204) {
      // A response without content has no media type (the router's Response would add one).
      for (const h of [out.headers, out.multiValueHeaders]) {
        for (const k of Object.keys(h ?? {})) if (k.toLowerCase() === 'content-type') delete h![k];
      }
    }
    return out;
  };
}
