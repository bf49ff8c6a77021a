/**
 * Dead letters: items a background path (change publisher, snapshot export, restore, lease
 * reaper, lease renewer) set aside with their error, for an operator to read, replay or discard.
 * Every method throws the `ApiError` of the problem the API answered (`NotFoundError` for an
 * entry that is not there) or `NetworkError`.
 */
import type { Requester } from './transport';
import type { DeadLetter, DeadLetterPage, DeadLetterSource, ReplayOutcome } from './types';
import { everyItem } from './pages';

export class DeadLetters {
  public constructor(private readonly client: Requester) {}

  /** One page, newest first, without payloads; `source` keeps one path's entries. */
  public async list(
    opts: {
      readonly source?: DeadLetterSource;
      readonly limit?: number;
      readonly cursor?: string;
      readonly signal?: AbortSignal;
    } = {},
  ): Promise<DeadLetterPage> {
    const r = await this.client.request<DeadLetterPage>('GET', '/v1/dead-letters', {
      query: { source: opts.source, limit: opts.limit, cursor: opts.cursor },
      signal: opts.signal,
    });
    return r.body;
  }

  /** Every entry, page after page. */
  public async *listAll(
    opts: { readonly source?: DeadLetterSource; readonly signal?: AbortSignal } = {},
  ): AsyncGenerator<DeadLetter> {
    yield* everyItem((cursor) => this.list({ ...opts, limit: 500, cursor }));
  }

  /** One entry with its payload. */
  public async get(id: string, opts: { readonly signal?: AbortSignal } = {}): Promise<DeadLetter> {
    return (
      await this.client.request<DeadLetter>('GET', `/v1/dead-letters/${encodeURIComponent(id)}`, {
        signal: opts.signal,
      })
    ).body;
  }

  /** Processes the item again: `REPLAYED` removes the entry; `FAILED` keeps it with the new error. */
  public async replay(id: string, opts: { readonly signal?: AbortSignal } = {}): Promise<ReplayOutcome> {
    return (
      await this.client.request<ReplayOutcome>('POST', `/v1/dead-letters/${encodeURIComponent(id)}/replay`, {
        signal: opts.signal,
      })
    ).body;
  }

  /** Discards the entry (the item is not processed). */
  public async remove(id: string, opts: { readonly signal?: AbortSignal } = {}): Promise<void> {
    await this.client.request('DELETE', `/v1/dead-letters/${encodeURIComponent(id)}`, { signal: opts.signal });
  }
}
