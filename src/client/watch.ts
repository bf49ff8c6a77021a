/**
 * The change feed as an async iterator: long-polls `GET /v1/ns/{ns}/changes` with the cursor of
 * the previous answer, so every change comes once and one key's changes in commit order. The
 * cursor of the last change handed out is `stream.cursor`, to go on later from exactly there.
 */
import type { Requester } from './transport';
import type { Change, ChangePage } from './types';

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
}

/** One page of changes after a cursor. Throws `CursorExpiredError` (410) for a cursor older than the changes kept. */
export async function changes(client: Requester, ns: string, opts: { readonly after?: string; readonly prefix?: string; readonly limit?: number; readonly wait?: number; readonly signal?: AbortSignal } = {}): Promise<ChangePage> {
  const r = await client.request<ChangePage>('GET', `/v1/ns/${encodeURIComponent(ns)}/changes`, {
    query: { after: opts.after, prefix: opts.prefix, limit: opts.limit, wait: opts.wait },
    signal: opts.signal,
    extraTimeoutMs: (opts.wait ?? 0) * 1000,
  });
  return r.body;
}

export class ChangeStream implements AsyncIterable<Change> {
  /** The cursor after the last change handed out (undefined before the first answer). */
  public cursor: string | undefined;

  public constructor(
    private readonly client: Requester,
    private readonly ns: string,
    private readonly opts: WatchOptions = {},
  ) {
    this.cursor = opts.after === 'now' ? undefined : opts.after;
  }

  private started?: Promise<string | undefined>;

  /**
   * Fixes the starting point (for `after: 'now'`, pages to the end of the changes published so
   * far) and resolves to its cursor. Iterating calls it; await it first to know that writes made
   * from then on will be seen.
   */
  public start(): Promise<string | undefined> {
    this.started ??= (async () => {
      if (this.opts.after !== 'now') return this.cursor;
      for (;;) {
        const page = await changes(this.client, this.ns, { after: this.cursor, prefix: this.opts.prefix, limit: 1000, signal: this.opts.signal });
        this.cursor = page.cursor;
        if (page.items.length < 1000) return this.cursor;
      }
    })();
    return this.started;
  }

  public async *[Symbol.asyncIterator](): AsyncGenerator<Change> {
    const { signal, prefix } = this.opts;
    const limit = this.opts.limit ?? 100;
    try {
      await this.start();
      while (!signal?.aborted) {
        const page = await changes(this.client, this.ns, { after: this.cursor, prefix, limit, wait: this.opts.waitSeconds ?? 20, signal });
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
