/**
 * One HTTP exchange with the API: URL and query building, JSON bodies, an optional request
 * signer (SigV4 for a deployed stack), a timeout, and retries. An error answer becomes the
 * `ApiError` subclass of its problem `code`.
 *
 * Retries: `429 Throttled` and `503 Unavailable` always (the contract says nothing was written),
 * after `Retry-After` when the answer has one, else full-jitter exponential back-off; a request
 * that never got an answer (network error, timeout), or a 502/504 from the gateway, only when it
 * is safe to send again: GET, PUT, DELETE, or any request with an `Idempotency-Key`.
 *
 * Regions (`regions` instead of `url`, see regions.ts): requests go to the preferred Region. When
 * it is unavailable (no answer, a timeout, or a 500, 502, 503 or 504), the retry goes to the next
 * Region in order, under the same policy: the same attempts in all, only what is safe to send
 * again (a `503 Unavailable` wrote nothing; anything else only if GET, PUT, DELETE or with an
 * `Idempotency-Key`), and without a pause the first time a Region is tried. Idempotency keys are
 * kept per Region, so a POST or PATCH that is safe only by its key moves (with the same key) only
 * when the Region certainly did nothing: a `503 Unavailable` or a connection never made; after a
 * timeout or a 500, 502 or 504 it is retried in the same Region, where its key is known. A 4xx is
 * an answer and never moves a request. After a failover, requests start at the Region that
 * answered for `failbackAfterMs`, then at the preferred one again. Requests bound to a Region
 * (`region`: a lease's, a saga's, a change cursor's) and Region-local ones (leases, locks, writes
 * with a lease id or fencing token) stay there and fail with `RegionUnavailableError` instead,
 * unless `failover: true` (or `failoverRegionLocal` for the Region-local ones).
 *
 * Numbers: bodies are written digit for digit (a field may hold a `Decimal` or a bigint), and with
 * `numbers: 'exact'` answers are read losslessly too: a number a double cannot hold exactly comes
 * back as a `Decimal` instead of being rounded.
 */
import { backoffMs } from '../core/backoff';
import { parseJson as parseExact, stringifyJson } from '../core/json';
import { type Clock, systemClock } from '../core/ports';
import { type ApiError, NetworkError, type Problem, ThrottledError, UnavailableError, apiError } from './errors';
import {
  DEFAULT_FAILBACK_AFTER_MS,
  type Endpoint,
  RegionRouter,
  RegionUnavailableError,
  type RegionsOption,
  endpointsOf,
  isRegionLocal,
  nothingDone,
  regionDown,
} from './regions';

/** Signs a request: returns the headers to send (the given ones plus the signature's). */
export type Signer = (req: {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** The Region whose URL this is, for a client of several Regions (SigV4 signs for it). */
  region?: string;
}) => Promise<Record<string, string>>;

export interface RetryPolicy {
  /** Tries in all, the first included. @default 5 */
  readonly maxAttempts?: number;
  /** First back-off step. @default 100 */
  readonly baseMs?: number;
  /** Longest back-off step. @default 5000 */
  readonly maxDelayMs?: number;
  /** Longest `Retry-After` honoured. @default 30000 */
  readonly maxRetryAfterMs?: number;
}

export interface TransportOptions {
  /**
   * Base URL of the API, e.g. `http://127.0.0.1:8080` or `https://<id>.execute-api.<region>.amazonaws.com/<stage>`.
   * Give this or `regions`, not both.
   */
  readonly url?: string;
  /**
   * The API of each Region of a deployment, `{ 'eu-west-1': url, 'us-east-1': url }` or
   * `[{ region, url }, ...]`: requests go to `preferRegion` and fail over to the others in the
   * order given (see the file comment). Give this or `url`, not both.
   */
  readonly regions?: RegionsOption;
  /** The Region requests go to first. @default the first of `regions` */
  readonly preferRegion?: string;
  /** How long requests stay with the Region a failover moved them to, in ms. @default 30000 */
  readonly failbackAfterMs?: number;
  /**
   * Let Region-local requests (leases, locks, writes with a lease id or fencing token) fail over
   * too. Only for a caller that takes new leases and locks after a failover: a lease or fencing
   * token of one Region is unknown in another. @default false
   */
  readonly failoverRegionLocal?: boolean;
  /** The time, for the failback cool-down. @default the system clock */
  readonly clock?: Clock;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Signs each request (SigV4 for a deployed stack). @default none */
  readonly signer?: Signer;
  readonly retry?: RetryPolicy;
  /** Time for one answer, beyond a long poll's own wait. @default 30000 */
  readonly timeoutMs?: number;
  /** Called before each retry. */
  readonly onRetry?: (info: {
    readonly attempt: number;
    readonly delayMs: number;
    readonly error: Error;
    /** The Region the retry goes to, when it moves to another. */
    readonly region?: string;
  }) => void;
  /** @default setTimeout */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * How numbers in answers are read: `double` gives every number as a JavaScript `number`
   * (digits past about 17 are rounded, as `JSON.parse` does); `exact` gives a `Decimal` for any
   * number a double cannot hold exactly (see `Decimal`, `numericText`). Requests always send
   * numbers exactly. @default 'double'
   */
  readonly numbers?: 'double' | 'exact';
}

export interface RequestOptions {
  /** Query parameters; undefined values are left out. */
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Headers; undefined values are left out. */
  readonly headers?: Readonly<Record<string, string | undefined>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /** Extra time this request may take (a long poll's `wait`). */
  readonly extraTimeoutMs?: number;
  /**
   * Send to this Region (a client of several Regions), e.g. the one that granted a lease, and not
   * to another unless `failover`. Ignored by a client of one `url`.
   */
  readonly region?: string;
  /**
   * Whether an unavailable Region moves this request to the next. @default false for Region-local
   * requests (`TransportOptions.failoverRegionLocal` to change it) and with `region`, else true
   */
  readonly failover?: boolean;
}

export interface Reply<T = unknown> {
  readonly status: number;
  readonly etag?: string;
  readonly body: T;
  /** The Region that answered: its `X-Vesta-Region`, else its name in `regions`; undefined when neither says. */
  readonly region?: string;
}

function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function parseJson(text: string, exact = false): unknown {
  try {
    if (!text) return undefined;
    return exact ? parseExact(text, Infinity) : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** What the client's parts need of it: one request of the contract. */
export type Requester = Pick<Transport, 'request'>;

export class Transport {
  private readonly fetchFn: typeof fetch;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly router: RegionRouter;
  private lastRegion?: string;

  /**
   * `url` (or each URL of `regions`) may end in `/v1` (as the local stack's banner prints it) or
   * not. Throws `TypeError` naming the option when a URL is not http(s), or for `regions` and
   * `preferRegion` as `endpointsOf` (regions.ts) says.
   */
  public constructor(private readonly opts: TransportOptions) {
    const endpoints = endpointsOf(opts);
    this.router = new RegionRouter(
      endpoints,
      opts.failbackAfterMs ?? DEFAULT_FAILBACK_AFTER_MS,
      opts.clock ?? systemClock,
    );
    this.fetchFn = opts.fetch ?? ((...args) => fetch(...args));
    this.sleep = opts.sleep ?? sleepFor;
  }

  /**
   * The base URL requests go to now, without a trailing `/` or `/v1` (the paths of the contract
   * start with `/v1`): with `regions`, the preferred Region's, or the one a failover moved to.
   */
  public get url(): string {
    return this.router.endpoints[this.router.first()].url;
  }

  /** The Regions of the client, preferred first; empty for a client of one `url`. */
  public get regions(): readonly string[] {
    return this.router.endpoints.flatMap((e) => (e.name ? [e.name] : []));
  }

  /**
   * The Region that answered last (its `X-Vesta-Region`, else its name in `regions`); before any
   * answer, the Region requests go to. Undefined for a client of one `url` until an answer names one.
   */
  public get currentRegion(): string | undefined {
    return this.lastRegion ?? this.router.endpoints[this.router.first()].name;
  }

  /**
   * Sends `method path` (path already percent-encoded, starting with `/v1`), retrying as the file
   * comment says. Returns any status below 400 (a `300` with siblings included). Throws the
   * `ApiError` subclass of the problem, or `NetworkError`; an aborted `signal` rejects with its reason.
   */
  public async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<Reply<T>> {
    const policy = { maxAttempts: 5, baseMs: 100, maxDelayMs: 5000, maxRetryAfterMs: 30_000, ...this.opts.retry };
    const headers = Object.fromEntries(
      Object.entries(opts.headers ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const idempotent = method === 'GET' || method === 'PUT' || method === 'DELETE';
    const resendable = idempotent || Object.keys(headers).some((h) => h.toLowerCase() === 'idempotency-key');
    const several = this.router.endpoints.length > 1;
    const failover =
      several &&
      (opts.failover ??
        (isRegionLocal(path, headers) ? this.opts.failoverRegionLocal === true : opts.region === undefined));
    let at = several && opts.region !== undefined ? this.router.indexOf(opts.region) : this.router.first();
    const tried = new Set<number>([at]);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(at, method, path, headers, opts);
      } catch (e) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        const down = several && regionDown(e);
        const retryable =
          e instanceof ThrottledError ||
          e instanceof UnavailableError ||
          (resendable && (e instanceof NetworkError || isGatewayError(e) || down));
        if (!retryable || attempt >= policy.maxAttempts) {
          const endpoint = this.router.endpoints[at];
          if (down && !failover && endpoint.name)
            throw new RegionUnavailableError(
              endpoint.name,
              endpoint.url,
              { cause: e },
              isRegionLocal(path, headers)
                ? undefined
                : 'the request is bound to that Region (its saga, snapshot or change cursor is there, or it named the Region), so it was not sent to another.',
            );
          throw e;
        }
        // A key is only known to the Region that took it (the idempotency table is regional): a
        // keyed POST or PATCH moves only when the Region certainly did nothing, else it is retried
        // where its key is.
        const moving = down && failover && (idempotent || nothingDone(e));
        if (moving) at = this.router.next(at);
        const hinted = (e as ApiError).retryAfterSeconds;
        const delayMs =
          moving && !tried.has(at)
            ? 0
            : hinted !== undefined
              ? Math.min(hinted * 1000, policy.maxRetryAfterMs)
              : backoffMs(attempt - 1, { baseMs: policy.baseMs, capMs: policy.maxDelayMs });
        tried.add(at);
        this.opts.onRetry?.({
          attempt,
          delayMs,
          error: e as Error,
          ...(moving ? { region: this.router.endpoints[at].name } : {}),
        });
        if (!(moving && delayMs === 0)) await this.sleep(delayMs, opts.signal);
      }
    }
  }

  private async once<T>(
    at: number,
    method: string,
    path: string,
    given: Record<string, string>,
    opts: RequestOptions,
  ): Promise<Reply<T>> {
    // encodeURIComponent (a space is %20, not URLSearchParams' +), as SigV4 signs it.
    const query = Object.entries(opts.query ?? {})
      .filter((e): e is [string, string | number | boolean] => e[1] !== undefined)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    const endpoint: Endpoint = this.router.endpoints[at];
    const url = `${endpoint.url}${path}${query ? `?${query}` : ''}`;
    const body = opts.body === undefined ? undefined : stringifyJson(opts.body);
    let headers: Record<string, string> = {
      accept: 'application/json',
      ...given,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    };
    if (this.opts.signer)
      headers = await this.opts.signer({
        method,
        url,
        headers,
        body,
        ...(endpoint.name ? { region: endpoint.name } : {}),
      });
    const timeout = AbortSignal.timeout((this.opts.timeoutMs ?? 30_000) + (opts.extraTimeoutMs ?? 0));
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(url, { method, headers, body, signal });
      text = await res.text();
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      const reason = timeout.aborted
        ? 'no answer in time'
        : (((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message) as string);
      throw new NetworkError(endpoint.url, reason, { cause: e });
    }
    const region = res.headers.get('x-vesta-region') ?? endpoint.name;
    // A 500, 502, 503 or 504 is the Region failing, not serving: it does not keep requests there;
    // nor does the answer to a request sent to a Region it named (a lease's, a saga's).
    if (!DOWN_STATUSES.has(res.status)) {
      this.router.answered(at, region, opts.region === undefined);
      if (region !== undefined) this.lastRegion = region;
    }
    const etag = res.headers.get('etag') ?? undefined;
    if (res.status >= 400) {
      const parsed = parseJson(text) as Partial<Problem> | undefined;
      const problem: Problem =
        parsed && typeof parsed === 'object' && typeof parsed.code === 'string'
          ? { ...parsed, status: parsed.status ?? res.status, code: parsed.code }
          : {
              status: res.status,
              code: `HTTP${res.status}`,
              detail: text.slice(0, 500) || 'the answer has no problem document',
            };
      const after = retryAfterMs(res.headers.get('retry-after'));
      throw apiError(problem, etag, after === undefined ? undefined : after / 1000);
    }
    return { status: res.status, etag, body: parseJson(text, this.opts.numbers === 'exact') as T, region };
  }
}

const DOWN_STATUSES = new Set([500, 502, 503, 504]);

/** A 502 or 504 from API Gateway itself (no problem document of ours). */
function isGatewayError(e: unknown): boolean {
  const s = (e as ApiError)?.status;
  return (s === 502 || s === 504) && (e as ApiError).code.startsWith('HTTP');
}
