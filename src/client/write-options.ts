/**
 * What a record write may carry, as options and as the headers that send them, and the path of a
 * record. Shared by the client's record methods, its fenced lock context and the CLI.
 */

/** Headers a write may carry. */
export interface WriteOptions {
  /** Only if the record is still at this ETag (`*`: exists). */
  readonly ifMatch?: string;
  /** Only if the record does not exist. */
  readonly ifNoneMatch?: boolean;
  /** Attach the record to this lease (it goes when the lease ends). */
  readonly leaseId?: string;
  /** Only while lock `lock` of the namespace is held with `token`. */
  readonly fence?: { readonly lock: string; readonly token: number };
  readonly idempotencyKey?: string;
  readonly signal?: AbortSignal;
  /**
   * Send to this Region only (a client of several Regions): where the lease or lock of `leaseId`
   * or `fence` was granted. Fenced and lease writes never fail over on their own (regions.ts).
   */
  readonly region?: string;
}

/** What a `PUT` may carry besides its headers. */
export interface PutOptions extends WriteOptions {
  /** Field name to whole seconds (1 to one year) from the write until the field disappears. */
  readonly expire?: Readonly<Record<string, number>>;
}

/**
 * `/v1/ns/<ns>/keys/<key>` with each segment of the key percent-encoded. A key with a `.` or `..`
 * segment (which the API refuses with 400) is sent as one segment, its slashes as `%2F`, so that
 * no URL parser on the way resolves it into another key.
 */
export function recordPath(ns: string, key: string): string {
  const segments = key.split('/');
  const encoded = segments.some((x) => x === '.' || x === '..')
    ? encodeURIComponent(key)
    : segments.map(encodeURIComponent).join('/');
  return `/v1/ns/${encodeURIComponent(ns)}/keys/${encoded}`;
}

export function writeHeaders(o: WriteOptions = {}): Record<string, string | undefined> {
  return {
    'if-match': o.ifMatch,
    'if-none-match': o.ifNoneMatch ? '*' : undefined,
    'x-lease-id': o.leaseId,
    'x-fencing-token': o.fence ? `${o.fence.lock}:${o.fence.token}` : undefined,
    'idempotency-key': o.idempotencyKey,
  };
}
