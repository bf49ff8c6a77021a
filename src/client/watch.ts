/**
 * The change feed as an async iterator: long-polls `GET /v1/ns/{ns}/changes` with the cursor of
 * the previous answer, so every change comes once and one key's changes in commit order. The
 * cursor of the last change handed out is `stream.cursor`, to go on later from exactly there.
 * With `retry`, moments when the API cannot be reached, is throttled or unavailable are waited
 * out (its `Retry-After`, else a growing backoff) instead of ending the iteration.
 *
 * Several Regions: a cursor is a position in one Region's change log, so once a stream has one,
 * it asks that Region only (`stream.region`); when that Region is unavailable it fails with
 * `RegionUnavailableError` (waited out like the failure behind it with `retry`), never going on
 * in another Region's log, which would skip or repeat changes.
 */
import { backoffCeilingMs } from '../core/backoff';
import { ApiError, NetworkError } from './errors';
import { RegionUnavailableError } from './regions';
import type { Reply, Requester } from './transport';
import type { Change, ChangePage } from './types';

/** Changes per request while skipping to the end of the log for `after: 'now'` (the API's most). */
const SKIP_LIMIT = 1000;
/** First pause after a transient failure; it doubles with each failure in a row, up to the max. */
export const RETRY_BASE_MS = 500;
export const RETRY_MAX_MS = 30_000;
/** A `Retry-After` longer than this is cut to it. */
export const RETRY_AFTER_MAX_MS = 300_000;

/** How a stream waits out failures that pass. */
export interface WatchRetry {
  /** Told of each failure before the pause; `attempt` is the try that follows (2 for the first retry). */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Draws the upper half of each backoff. @default Math.random */
  readonly random?: () => number;
  /** Waits `ms`, then resolves true; resolves false as soon as `signal` aborts. @default a timer */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<boolean>;
}

export interface WatchOptions {
  readonly prefix?: string;
  /**
   * Start after this cursor; `'now'`: after the changes published so far (a write committed just
   * before may still come, as it is published a moment after its commit); none: from the oldest kept.
   */
  readonly after?: string | 'now';
  /** Changes per request. @default 100 */
  readonly limit?: number;
  /** Long-poll wait per request, 0 to 20 s. @default 20 */
  readonly waitSeconds?: number;
  /** Ends the iteration (it then returns; a request in flight is abandoned). */
  readonly signal?: AbortSignal;
  /**
   * Retries transient failures (`isTransient`) without end, pausing `retryDelayMs` before each.
   * @default none: the first failure ends the iteration
   */
  readonly retry?: WatchRetry;
}

/** Failures that pass: no answer, throttling, an API that is briefly unavailable. Never throws. */
export function isTransient(e: unknown): boolean {
  if (e instanceof RegionUnavailableError) return isTransient(e.cause);
  if (e instanceof NetworkError) return true;
  return e instanceof ApiError && [429, 502, 503, 504].includes(e.problem.status);
}

/**
 * The pause before retry number `failures` (1 for the first): the `Retry-After` of the answer when
 * it has one (read as `retryAfterSeconds`), at most `RETRY_AFTER_MAX_MS`, else a backoff doubling
 * from `RETRY_BASE_MS` to `RETRY_MAX_MS`, its upper half drawn by `random`. Never throws.
 */
export function retryDelayMs(e: unknown, failures: number, random: () => number = Math.random): number {
  const seconds = e instanceof ApiError ? e.retryAfterSeconds : undefined;
  if (seconds !== undefined && Number.isFinite(seconds))
    return Math.min(Math.max(seconds * 1000, 0), RETRY_AFTER_MAX_MS);
  const ceiling = backoffCeilingMs(failures - 1, { baseMs: RETRY_BASE_MS, capMs: RETRY_MAX_MS });
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** One page of changes after a cursor. Throws `CursorExpiredError` (410) for a cursor older than the changes kept. */
export async function changes(
  client: Requester,
  ns: string,
  opts: {
    readonly after?: string;
    readonly prefix?: string;
    readonly limit?: number;
    readonly wait?: number;
    readonly signal?: AbortSignal;
    /** The Region whose change log `after` is a position in (a client of several Regions). */
    readonly region?: string;
  } = {},
): Promise<ChangePage> {
  return (await changesReply(client, ns, opts)).body;
}

function changesReply(
  client: Requester,
  ns: string,
  opts: Parameters<typeof changes>[2] = {},
): Promise<Reply<ChangePage>> {
  // With a cursor, another Region's log would skip or repeat changes: stay in one Region.
  return client.request<ChangePage>('GET', `/v1/ns/${encodeURIComponent(ns)}/changes`, {
    query: { after: opts.after, prefix: opts.prefix, limit: opts.limit, wait: opts.wait },
    signal: opts.signal,
    extraTimeoutMs: (opts.wait ?? 0) * 1000,
    region: opts.region,
    ...(opts.after !== undefined ? { failover: false } : {}),
  });
}

function timer(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const stop = () => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', stop, { once: true });
  });
}

export class ChangeStream implements AsyncIterable<Change> {
  /** The cursor after the last change handed out (undefined before the first answer). */
  public cursor: string | undefined;
  /** The Region whose change log `cursor` is in, once an answer named it (several Regions). */
  public region: string | undefined;

  public constructor(
    private readonly client: Requester,
    private readonly ns: string,
    private readonly opts: WatchOptions = {},
  ) {
    this.cursor = opts.after === 'now' ? undefined : opts.after;
  }

  private started?: Promise<string | undefined>;

  /**
   * One page after `this.cursor`, transient failures retried as `opts.retry` says. Rejects with
   * the failure that is not retried, or with the last one once the signal aborts.
   */
  private async page(limit: number, wait: number): Promise<ChangePage> {
    const { signal, prefix, retry } = this.opts;
    for (let failures = 1; ; failures++) {
      try {
        // A cursor given at the start is of the Region asked first; each later one of the Region that gave it.
        const region = this.cursor === undefined ? undefined : this.region;
        const r = await changesReply(this.client, this.ns, { after: this.cursor, prefix, limit, wait, signal, region });
        this.region ??= r.region;
        return r.body;
      } catch (e) {
        if (signal?.aborted || !retry || !isTransient(e)) throw e;
        const ms = retryDelayMs(e, failures, retry.random);
        retry.onRetry?.(e, failures + 1, ms);
        if (!(await (retry.sleep ?? timer)(ms, signal ?? new AbortController().signal))) throw e;
      }
    }
  }

  /**
   * Fixes the starting point (for `after: 'now'`, pages to the end of the changes published so
   * far) and resolves to its cursor. Iterating calls it; await it first to know that writes made
   * from then on will be seen. Rejects as a request does (also once the signal aborts).
   */
  public start(): Promise<string | undefined> {
    this.started ??= (async () => {
      if (this.opts.after !== 'now') return this.cursor;
      for (;;) {
        const page = await this.page(SKIP_LIMIT, 0);
        this.cursor = page.cursor;
        if (page.items.length < SKIP_LIMIT) return this.cursor;
      }
    })();
    return this.started;
  }

  public async *[Symbol.asyncIterator](): AsyncGenerator<Change> {
    const { signal } = this.opts;
    const limit = this.opts.limit ?? 100;
    try {
      await this.start();
      while (!signal?.aborted) {
        const page = await this.page(limit, this.opts.waitSeconds ?? 20);
        for (const c of page.items) {
          yield c;
        }
        this.cursor = page.cursor;
      }
    } catch (e) {
      if (signal?.aborted) return;
      throw e;
    }
  }
}
