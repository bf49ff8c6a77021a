/**
 * A minimal client of the HTTP contract on the global `fetch`: JSON in, JSON out, error
 * responses turned into `ApiError` carrying the problem document.
 */
import { ApiError, NetworkError, type Problem, UsageError } from './errors';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface RequestOptions {
  /** Query parameters; undefined values are left out. */
  readonly query?: Readonly<Record<string, string | undefined>>;
  /** Request headers; undefined values are left out. */
  readonly headers?: Readonly<Record<string, string | undefined>>;
  /** Sent as JSON with `Content-Type: application/json`. */
  readonly body?: unknown;
  /** Aborts the request; it then fails with `NetworkError`. */
  readonly signal?: AbortSignal;
}

export interface Reply {
  readonly status: number;
  readonly etag?: string;
  /** The parsed JSON body; undefined when there is none. */
  readonly body: unknown;
}

function defined(record: Readonly<Record<string, string | undefined>> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter((e): e is [string, string] => e[1] !== undefined));
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function asProblem(status: number, text: string): Problem {
  const body = parseJson(text) as Partial<Problem> | undefined;
  if (body && typeof body === 'object' && typeof body.code === 'string') return { ...body, status: body.status ?? status, code: body.code };
  return { status, code: `HTTP${status}`, detail: text.slice(0, 500) || 'the response has no problem document' };
}

function reasonOf(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}

export class VestaHttp {
  private readonly base: string;

  /** Throws `UsageError` when `url` is not an http(s) URL. */
  public constructor(
    url: string,
    private readonly fetchFn: typeof fetch = fetch,
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`--url must be an http(s) URL. Received: ${JSON.stringify(url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new UsageError(`--url must be an http(s) URL. Received: ${JSON.stringify(url)}`);
    }
    this.base = url.replace(/\/+$/, '');
  }

  /**
   * Sends one request to `path` (already percent-encoded, starting with `/v1`).
   * Throws `NetworkError` when the API cannot be reached and `ApiError` for a status of 400 or
   * more; any other status (including `300` with siblings) is returned.
   */
  public async request(method: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
    const query = new URLSearchParams(defined(opts.query)).toString();
    const url = `${this.base}${path}${query ? `?${query}` : ''}`;
    const headers = defined(opts.headers);
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: opts.signal });
      text = await res.text();
    } catch (e) {
      throw new NetworkError(this.base, reasonOf(e), { cause: e });
    }
    const etag = res.headers.get('etag') ?? undefined;
    if (res.status >= 400) throw new ApiError(asProblem(res.status, text), etag, res.headers.get('retry-after') ?? undefined);
    return { status: res.status, etag, body: parseJson(text) };
  }
}
