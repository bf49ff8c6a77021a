/**
 * Sagas and snapshots: start, read, and wait for the end with progress callbacks. Waiting polls
 * the status (`intervalMs`), reports every change of it to `onProgress`, and stops at a final
 * status, at `timeoutMs` (`WaitTimeoutError`) or when `signal` aborts (rejects with its reason).
 *
 * Several Regions: a saga runs in the Region that started it, and snapshots and restores are
 * Region-local (docs/regions.md). So each class remembers the Region that started each of its ids
 * and sends reads, waits and retries of that id there only; when that Region is unavailable they
 * fail with `RegionUnavailableError` naming it, instead of a `404` from another Region. Starting
 * one fails over like any other request.
 */
import { VestaClientError } from './errors';
import type { Reply, Requester } from './transport';
import type {
  CreateSnapshotBody,
  ImportSnapshotsBody,
  Restore,
  RestoreBody,
  RestoreStarted,
  Saga,
  SagaInput,
  SagaPage,
  SagaStarted,
  SagaStatus,
  SagaSummary,
  Snapshot,
  SnapshotManifest,
  SnapshotStarted,
} from './types';
import { everyItem } from './pages';

export class WaitTimeoutError extends VestaClientError {
  public constructor(what: string, ms: number) {
    super(`${what} did not end within ${ms} ms`);
    this.name = 'WaitTimeoutError';
  }
}

export interface WaitOptions<T> {
  /** @default 500 */
  readonly intervalMs?: number;
  /** @default none */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Called with the first state seen and then every time it changes. */
  readonly onProgress?: (state: T) => void;
}

async function waitFor<T>(
  what: string,
  read: (signal?: AbortSignal) => Promise<T>,
  done: (s: T) => boolean,
  opts: WaitOptions<T>,
): Promise<T> {
  const start = Date.now();
  let last = '';
  for (;;) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    const s = await read(opts.signal);
    const text = JSON.stringify(s);
    if (text !== last) opts.onProgress?.(s);
    last = text;
    if (done(s)) return s;
    if (opts.timeoutMs !== undefined && Date.now() - start >= opts.timeoutMs)
      throw new WaitTimeoutError(what, opts.timeoutMs);
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(t);
        reject(opts.signal!.reason);
      };
      const t = setTimeout(() => {
        opts.signal?.removeEventListener('abort', onAbort);
        resolve();
      }, opts.intervalMs ?? 500);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** The Region that started each id (a client of several Regions), from the answer that started it. */
class Homes {
  private readonly regions = new Map<string, string>();

  public note<T extends { readonly id?: string }>(r: Reply<T>, id = r.body?.id): T {
    if (r.region !== undefined && typeof id === 'string') this.regions.set(id, r.region);
    return r.body;
  }

  public of(id: string): string | undefined {
    return this.regions.get(id);
  }
}

export class Sagas {
  private readonly homes = new Homes();

  public constructor(private readonly client: Requester) {}

  /** Starts a saga (the same `id` again starts nothing and returns it as it stands). */
  public async start(input: SagaInput): Promise<(SagaStarted | Saga) & { readonly created: boolean }> {
    const r = await this.client.request<SagaStarted | Saga>('POST', '/v1/sagas', { body: input });
    return { ...this.homes.note(r), created: r.status === 202 };
  }

  /** One page of sagas, newest first; `status` keeps the sagas in that status. */
  public async list(
    opts: {
      readonly status?: SagaStatus;
      readonly limit?: number;
      readonly cursor?: string;
      readonly signal?: AbortSignal;
    } = {},
  ): Promise<SagaPage> {
    const r = await this.client.request<SagaPage>('GET', '/v1/sagas', {
      query: { status: opts.status, limit: opts.limit, cursor: opts.cursor },
      signal: opts.signal,
    });
    return r.body;
  }

  /** Every saga, newest first, page after page. */
  public async *listAll(
    opts: { readonly status?: SagaStatus; readonly signal?: AbortSignal } = {},
  ): AsyncGenerator<SagaSummary> {
    yield* everyItem((cursor) => this.list({ ...opts, limit: 1000, cursor }));
  }

  public async get(id: string, opts: { readonly signal?: AbortSignal } = {}): Promise<Saga> {
    const path = `/v1/sagas/${encodeURIComponent(id)}`;
    return (await this.client.request<Saga>('GET', path, { signal: opts.signal, region: this.homes.of(id) })).body;
  }

  /**
   * Retries a COMPENSATION_FAILED saga once a person fixed the cause: its compensation resumes
   * where it stopped (`POST /v1/sagas/{id}/retry`). Returns the saga, RUNNING again; `wait` follows
   * it. Any other status rejects with `ApiError` 409 (`reason: SagaNotRetryable`).
   */
  public async retry(id: string): Promise<Saga> {
    const path = `/v1/sagas/${encodeURIComponent(id)}/retry`;
    return (await this.client.request<Saga>('POST', path, { region: this.homes.of(id) })).body;
  }

  /** Waits until the saga is no longer RUNNING and returns it. */
  public wait(id: string, opts: WaitOptions<Saga> = {}): Promise<Saga> {
    return waitFor(
      `saga ${id}`,
      (signal) => this.get(id, { signal }),
      (s) => s.status !== 'RUNNING',
      opts,
    );
  }

  /** Starts and waits. */
  public async run(input: SagaInput, opts: WaitOptions<Saga> = {}): Promise<Saga> {
    return this.wait((await this.start(input)).id, opts);
  }
}

export class Snapshots {
  private readonly homes = new Homes();

  public constructor(private readonly client: Requester) {}

  /** Starts a snapshot of `namespace`, or of every namespace. */
  public async create(opts: { readonly namespace?: string } = {}): Promise<SnapshotStarted> {
    return this.homes.note(
      await this.client.request<SnapshotStarted>('POST', '/v1/snapshots', {
        body: (opts.namespace ? { namespace: opts.namespace } : {}) satisfies CreateSnapshotBody,
      }),
    );
  }

  public async get(id: string, opts: { readonly signal?: AbortSignal } = {}): Promise<Snapshot> {
    const path = `/v1/snapshots/${encodeURIComponent(id)}`;
    return (await this.client.request<Snapshot>('GET', path, { signal: opts.signal, region: this.homes.of(id) })).body;
  }

  /** Newest first. */
  public async list(opts: { readonly namespace?: string } = {}): Promise<Snapshot[]> {
    return (
      await this.client.request<{ items: Snapshot[] }>('GET', '/v1/snapshots', { query: { namespace: opts.namespace } })
    ).body.items;
  }

  /**
   * Imports every snapshot at `location` (`s3://<bucket>/<prefix>` of the deployment's own
   * bucket; locally an absolute folder path or `file:///...`) after checking each part's sha256;
   * resolves to their manifests. Rejects with `SnapshotDamagedError` (nothing imported) or a
   * `ConflictError` with reason `SnapshotIdReused`.
   */
  public async import(location: string): Promise<SnapshotManifest[]> {
    return (
      await this.client.request<{ items: SnapshotManifest[] }>('POST', '/v1/snapshots/import', {
        body: { location } satisfies ImportSnapshotsBody,
      })
    ).body.items;
  }

  /** Waits until COMPLETE or FAILED; `onProgress` sees the parts written so far. */
  public wait(id: string, opts: WaitOptions<Snapshot> = {}): Promise<Snapshot> {
    return waitFor(
      `snapshot ${id}`,
      (signal) => this.get(id, { signal }),
      (s) => s.status !== 'RUNNING',
      opts,
    );
  }

  /** Starts a restore; `mode` `missing` (default) writes only absent records, `newer` also older ones. */
  public async restore(
    id: string,
    opts: { readonly namespace?: string; readonly mode?: 'missing' | 'newer' } = {},
  ): Promise<RestoreStarted> {
    const body: RestoreBody = {
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      mode: opts.mode ?? 'missing',
    };
    const path = `/v1/snapshots/${encodeURIComponent(id)}/restore`;
    return this.homes.note(
      await this.client.request<RestoreStarted>('POST', path, { body, region: this.homes.of(id) }),
    );
  }

  public async getRestore(id: string, opts: { readonly signal?: AbortSignal } = {}): Promise<Restore> {
    const path = `/v1/restores/${encodeURIComponent(id)}`;
    return (await this.client.request<Restore>('GET', path, { signal: opts.signal, region: this.homes.of(id) })).body;
  }

  /** Waits until the restore is COMPLETE or FAILED; `onProgress` sees written and skipped so far. */
  public waitRestore(id: string, opts: WaitOptions<Restore> = {}): Promise<Restore> {
    return waitFor(
      `restore ${id}`,
      (signal) => this.getRestore(id, { signal }),
      (s) => s.status !== 'RUNNING',
      opts,
    );
  }
}
