/**
 * `Idempotency-Key` through Powertools idempotency and its DynamoDB persistence layer. The key
 * prefix is fixed (`vesta-api`), not the function name, so the local stack and every deployed
 * function share one key space. A key belongs to its caller: the stored key is the hash of the
 * caller's principal (`callerOf`, never a header the client sets in AWS) together with the
 * `Idempotency-Key`, so the same key sent by another caller is another key and never returns the
 * first caller's response. The stored result is the first response; the validation hash covers
 * method, resource and decoded path parameters, query, body and precondition headers, so the
 * same caller's key with a different request is `422 IdempotencyKeyReused`. 429 and 5xx answers
 * are not kept (the client may retry).
 */
import type { Context } from 'aws-lambda';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { IdempotencyAlreadyInProgressError, IdempotencyValidationError } from '@aws-lambda-powertools/idempotency';
import { ConflictError, IdempotencyKeyReusedError, ValidationError, type VestaError } from '../core/errors';
import { callerOf } from './caller';
import type { ApiRequest, HttpResult } from './http';

export const IDEMPOTENCY_KEY_PREFIX = 'vesta-api';
export const IDEMPOTENCY_TTL_SECONDS = 3600;
const KEY_PATTERN = /^[\x20-\x7e]{1,128}$/;
const KEPT_HEADERS = ['if-match', 'if-none-match', 'x-lease-id', 'x-fencing-token', 'content-type'];

/** A response not to keep: thrown through the idempotent function so its record is dropped. */
class Unkept extends Error {
  public constructor(public readonly result: HttpResult) {
    super('response not kept');
  }
}

interface Payload {
  /** What the stored key is the hash of: the caller (`null`: anonymous) and its key. */
  readonly scope: { readonly caller: string | null; readonly key: string };
  readonly request: Record<string, unknown>;
}

export type Idempotent = (req: ApiRequest, context: Context, run: () => Promise<HttpResult>) => Promise<HttpResult>;

/** Where idempotency records are kept (a Powertools persistence layer), and how its failures read. */
export interface IdempotencyStore {
  readonly layer: BasePersistenceLayer;
  /**
   * The domain error that a failure of the layer (DynamoDB down, throttled) maps to, so that it is
   * answered 503 or 429 like any other request's; `undefined` when it is not a store failure.
   */
  readonly failure: (e: unknown) => VestaError | undefined;
}

/** Wraps mutating requests that carry `Idempotency-Key`; others run as they are. */
export function idempotency(store: IdempotencyStore): Idempotent {
  return async (req, context, run) => {
    const key = req.header('idempotency-key');
    if (key === undefined || req.method === 'GET') return run();
    if (!KEY_PATTERN.test(key))
      throw new ValidationError('Idempotency-Key', 'must be 1 to 128 printable ASCII characters');
    const headers = Object.fromEntries(KEPT_HEADERS.map((h) => [h, req.header(h) ?? null]));
    const payload: Payload = {
      scope: { caller: callerOf(req.event), key },
      request: {
        method: req.method,
        resource: req.event.resource,
        params: req.event.pathParameters ?? {},
        query: req.query,
        headers,
        body: req.rawBody ?? null,
      },
    };
    const config = new IdempotencyConfig({
      eventKeyJmesPath: 'scope',
      payloadValidationJmesPath: 'request',
      expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS,
      throwOnNoIdempotencyKey: true,
      lambdaContext: context,
    });
    const once = makeIdempotent(
      async (_p: Payload): Promise<HttpResult> => {
        const r = await run();
        if (r.statusCode >= 500 || r.statusCode === 429) throw new Unkept(r);
        return r;
      },
      { persistenceStore: store.layer, config, keyPrefix: IDEMPOTENCY_KEY_PREFIX },
    );
    try {
      return (await once(payload)) as HttpResult;
    } catch (e) {
      if (e instanceof Unkept) return e.result;
      const cause = (e as { cause?: unknown }).cause;
      if (cause instanceof Unkept) return cause.result;
      if (e instanceof IdempotencyValidationError || cause instanceof IdempotencyValidationError) {
        throw new IdempotencyKeyReusedError(
          `Idempotency-Key ${JSON.stringify(key)} was used with a different request`,
          { cause: e },
        );
      }
      if (e instanceof IdempotencyAlreadyInProgressError || cause instanceof IdempotencyAlreadyInProgressError) {
        throw new ConflictError(
          'RequestInProgress',
          `a request with Idempotency-Key ${JSON.stringify(key)} is still in progress`,
          { cause: e },
        );
      }
      throw store.failure(e) ?? e;
    }
  };
}
