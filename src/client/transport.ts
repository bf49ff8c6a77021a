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
 * Numbers: bodies are written digit for digit (a field may hold a `Decimal` or a bigint), and with
 * `numbers: 'exact'` answers are read losslessly too: a number a double cannot hold exactly comes
 * back as a `Decimal` instead of being rounded.
 */
import { backoffMs } from '../core/backoff';
import { parseJson as parseExact, stringifyJson } from '../core/json';
import { type ApiError, NetworkError, type Problem, ThrottledError, UnavailableError, apiError } from './errors';

/** Signs a request: returns the headers to send (the given ones plus the signature's). */
export type Signer = (req: {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
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
  /** Base URL of the API, e.g. `http://127.0.0.1:8080` or `https://<id>.execute-api.<region>.amazonaws.com/<stage>`. */
  readonly url: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Signs each request (SigV4 for a deployed stack). @default none */
  readonly signer?: Signer;
  readonly retry?: RetryPolicy;
  /** Time for one answer, beyond a long poll's own wait. @default 30000 */
  readonly timeoutMs?: number;
  /** Called before each retry. */
  readonly onRetry?: (info: { readonly attempt: number; readonly delayMs: number; readonly error: Error }) => void;
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
}

export interface Reply<T = unknown> {
  readonly status: number;
  readonly etag?: string;
  readonly body: T;
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
  /** The API's base URL, without a trailing `/` or `/v1` (the paths of the contract start with `/v1`). */
  public readonly url: string;
  private readonly fetchFn: typeof fetch;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  /**
   * `url` may end in `/v1` (as the local stack's banner prints it) or not. Throws `TypeError` when
   * it is not an http(s) URL.
   */
  public constructor(private readonly opts: TransportOptions) {
    let parsed: URL;
    try {
      parsed = new URL(opts.url);
    } catch {
      throw new TypeError(`the API URL must be an http(s) URL. Received: ${JSON.stringify(opts.url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new TypeError(`the API URL must be an http(s) URL. Received: ${JSON.stringify(opts.url)}`);
    this.url = opts.url.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.fetchFn = opts.fetch ?? ((...args) => fetch(...args));
    this.sleep = opts.sleep ?? sleepFor;
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
    const resendable =
      method === 'GET' ||
      method === 'PUT' ||
      method === 'DELETE' ||
      Object.keys(headers).some((h) => h.toLowerCase() === 'idempotency-key');
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(method, path, headers, opts);
      } catch (e) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        const retryable =
          e instanceof ThrottledError ||
          e instanceof UnavailableError ||
          (resendable && (e instanceof NetworkError || isGatewayError(e)));
        if (!retryable || attempt >= policy.maxAttempts) throw e;
        const hinted = (e as ApiError).retryAfterSeconds;
        const delayMs =
          hinted !== undefined
            ? Math.min(hinted * 1000, policy.maxRetryAfterMs)
            : backoffMs(attempt - 1, { baseMs: policy.baseMs, capMs: policy.maxDelayMs });
        this.opts.onRetry?.({ attempt, delayMs, error: e as Error });
        await this.sleep(delayMs, opts.signal);
      }
    }
  }

  private async once<T>(
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
    const url = `${this.url}${path}${query ? `?${query}` : ''}`;
    const body = opts.body === undefined ? undefined : stringifyJson(opts.body);
    let headers: Record<string, string> = {
      accept: 'application/json',
      ...given,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    };
    if (this.opts.signer) headers = await this.opts.signer({ method, url, headers, body });
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
      throw new NetworkError(this.url, reason, { cause: e });
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
    return { status: res.status, etag, body: parseJson(text, this.opts.numbers === 'exact') as T };
  }
}

/** A 502 or 504 from API Gateway itself (no problem document of ours). */
function isGatewayError(e: unknown): boolean {
  const s = (e as ApiError)?.status;
  return (s === 502 || s === 504) && (e as ApiError).code.startsWith('HTTP');
}
