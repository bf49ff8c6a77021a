/**
 * Several Regions behind one client (the contract's "Regions (active-active)" section): the
 * endpoints a client may call, checked once; which one a request goes to first (the preferred
 * Region, or the one a failover moved to until its cool-down ends); which failures mean a Region
 * is unavailable; and which requests are Region-local (leases, locks and the writes that carry
 * their ids or tokens) and so never move to another Region unless the caller opts in.
 */
import type { Clock } from '../core/ports';
import { type ApiError, NetworkError, UnavailableError, VestaClientError } from './errors';

/** One Region of a deployment and the base URL of its API. */
export interface RegionEndpoint {
  readonly region: string;
  readonly url: string;
}

/** Region name to URL (in preference order after `preferRegion`), or the same as a list. */
export type RegionsOption = Readonly<Record<string, string>> | readonly RegionEndpoint[];

/** What `Transport` calls: its name (undefined for a client of one `url`) and base URL. */
export interface Endpoint {
  readonly name?: string;
  readonly url: string;
}

/** How long a client stays with the Region a failover moved it to. */
export const DEFAULT_FAILBACK_AFTER_MS = 30_000;

/** Region names as AWS spells them (`eu-west-1`), or any lower-case label of that shape (`local-a`). */
const REGION_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * `url` as the transport uses it: without a trailing `/` or `/v1`. Throws `TypeError` naming
 * `option` when it is not an http(s) URL.
 */
export function baseUrl(url: unknown, option: string): string {
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
    throw new TypeError(`${option} must be an http(s) URL. Received: ${JSON.stringify(url)}`);
  return (url as string).replace(/\/+$/, '').replace(/\/v1$/, '');
}

export interface EndpointOptions {
  readonly url?: string;
  readonly regions?: RegionsOption;
  readonly preferRegion?: string;
  readonly failbackAfterMs?: number;
}

/**
 * The endpoints of `opts`, the preferred first, the others in the order given. Throws
 * `TypeError` naming the option: neither or both of `url` and `regions`; no Region; a Region
 * name that is not lower-case letters, digits and dashes (`__proto__` is not one), or given
 * twice; a URL that is not http(s); `preferRegion` without `regions` or not one of them; a
 * `failbackAfterMs` that is not a number of milliseconds from 0.
 */
export function endpointsOf(opts: EndpointOptions): Endpoint[] {
  const hasUrl = opts.url !== undefined;
  const hasRegions = opts.regions !== undefined;
  if (hasUrl === hasRegions)
    throw new TypeError(
      `give exactly one of url and regions. Received: ${hasUrl ? 'both' : 'neither'}${hasUrl ? '' : ' (url is required without regions)'}`,
    );
  if (
    opts.failbackAfterMs !== undefined &&
    !(typeof opts.failbackAfterMs === 'number' && Number.isFinite(opts.failbackAfterMs) && opts.failbackAfterMs >= 0)
  )
    throw new TypeError(
      `failbackAfterMs must be a number of milliseconds from 0. Received: ${String(opts.failbackAfterMs)}`,
    );
  if (hasUrl) {
    if (opts.preferRegion !== undefined)
      throw new TypeError(`preferRegion needs regions; a client of one url has no Region to prefer`);
    return [{ url: baseUrl(opts.url, 'url') }];
  }
  const given = opts.regions as unknown;
  if (typeof given !== 'object' || given === null)
    throw new TypeError(`regions must map Region names to URLs. Received: ${JSON.stringify(given)}`);
  const pairs: [unknown, unknown][] = Array.isArray(given)
    ? given.map((e: unknown, i) => {
        if (typeof e !== 'object' || e === null)
          throw new TypeError(`regions[${i}] must be { region, url }. Received: ${JSON.stringify(e)}`);
        return [(e as RegionEndpoint).region, (e as RegionEndpoint).url];
      })
    : Object.entries(given);
  if (pairs.length === 0) throw new TypeError('regions must name at least one Region. Received: none');
  const endpoints: Endpoint[] = [];
  for (const [name, url] of pairs) {
    if (typeof name !== 'string' || name.length > 64 || !REGION_NAME.test(name))
      throw new TypeError(
        `regions: a Region name is lower-case letters, digits and dashes, such as eu-west-1. Received: ${JSON.stringify(name)}`,
      );
    if (endpoints.some((e) => e.name === name)) throw new TypeError(`regions names ${JSON.stringify(name)} twice`);
    endpoints.push({ name, url: baseUrl(url, `regions[${JSON.stringify(name)}]`) });
  }
  const prefer = opts.preferRegion;
  if (prefer === undefined) return endpoints;
  const at = endpoints.findIndex((e) => e.name === prefer);
  if (at < 0)
    throw new TypeError(
      `preferRegion must be one of the regions (${endpoints.map((e) => e.name).join(', ')}). Received: ${JSON.stringify(prefer)}`,
    );
  return [endpoints[at], ...endpoints.filter((_, i) => i !== at)];
}

/**
 * Which endpoint a request starts at. After a request was answered by a Region other than the
 * preferred one (a failover), requests start there until `failbackAfterMs` has passed since; then
 * the preferred Region again. An answer of the preferred Region ends the stay at once.
 */
export class RegionRouter {
  private stay?: { readonly index: number; readonly until: number };
  /** `X-Vesta-Region` names seen, to the endpoint that sent them (when they differ from its name). */
  private readonly aliases = new Map<string, number>();

  public constructor(
    public readonly endpoints: readonly Endpoint[],
    private readonly failbackAfterMs: number,
    private readonly clock: Clock,
  ) {}

  /** The endpoint the next request starts at. */
  public first(): number {
    if (this.stay && this.clock.now().getTime() >= this.stay.until) this.stay = undefined;
    return this.stay?.index ?? 0;
  }

  /** The endpoint after `index`, in preference order, wrapping around. */
  public next(index: number): number {
    return (index + 1) % this.endpoints.length;
  }

  /**
   * Endpoint `index` answered (any status), naming itself `region` in `X-Vesta-Region`; `routed`:
   * the request went where the routing sent it (not to a Region it named), so the answer moves the
   * routing.
   */
  public answered(index: number, region: string | undefined, routed = true): void {
    if (region && region !== this.endpoints[index].name) this.aliases.set(region, index);
    if (!routed) return;
    if (index === 0) this.stay = undefined;
    else if (this.stay?.index !== index)
      this.stay = { index, until: this.clock.now().getTime() + this.failbackAfterMs };
  }

  /** The endpoint of Region `region` (its configured name, or the name it answered with). Throws `TypeError` for another. */
  public indexOf(region: string): number {
    const at = this.endpoints.findIndex((e) => e.name === region);
    if (at >= 0) return at;
    const alias = this.aliases.get(region);
    if (alias !== undefined) return alias;
    throw new TypeError(
      `region must be one of the client's regions (${this.endpoints.map((e) => e.name).join(', ')}). Received: ${JSON.stringify(region)}`,
    );
  }
}

/** A failure that means the Region did not serve the request: no answer, or a 500, 502, 503 or 504. */
export function regionDown(e: unknown): boolean {
  if (e instanceof NetworkError) return true;
  const s = (e as ApiError)?.status;
  return s === 500 || s === 502 || s === 503 || s === 504;
}

/** Connection failures before anything was sent: the Region cannot have acted on the request. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Whether the Region certainly did nothing with the request: a `503 Unavailable` (the contract
 * says nothing was written) or a connection that was never made. A timeout, a reset or a 500, 502
 * or 504 may come after the Region acted.
 */
export function nothingDone(e: unknown): boolean {
  if (e instanceof UnavailableError) return true;
  if (!(e instanceof NetworkError)) return false;
  for (let c: unknown = e.cause; c; c = (c as { cause?: unknown }).cause) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT.has(code)) return true;
  }
  return false;
}

const REGION_LOCAL_PATH = /^\/v1\/(?:leases(?:\/|$)|ns\/[^/]+\/locks(?:\/|$))/;

/**
 * Whether a request is Region-local: a lease or lock request, or a write that carries a lease id
 * (`X-Lease-Id`) or a fencing token (`X-Fencing-Token`). Leases, locks and their tokens exist only
 * in the Region that granted them (docs/regions.md), so such a request does not fail over.
 */
export function isRegionLocal(path: string, headers: Readonly<Record<string, string>>): boolean {
  if (REGION_LOCAL_PATH.test(path)) return true;
  return Object.keys(headers).some((h) => {
    const name = h.toLowerCase();
    return name === 'x-lease-id' || name === 'x-fencing-token';
  });
}

/** Why a request stays in its Region, as `RegionUnavailableError` says it by default. */
const LEASES_ARE_LOCAL =
  'leases and locks are Region-local, so the request was not sent to another Region. ' +
  'Take a new lease in another Region, or pass failover: true to send it there anyway.';

/**
 * A request bound to one Region (a lease, a lock, a write fenced by one, a change feed's cursor,
 * or one given `region`) could not be served by that Region, and was not sent to another: a lease
 * or fencing token of one Region means nothing in another. `cause` is the last failure; `region`
 * the Region; `why` what the message says instead of the leases' reason.
 */
export class RegionUnavailableError extends VestaClientError {
  public constructor(
    public readonly region: string,
    public readonly url: string,
    options: { cause: unknown },
    why: string = LEASES_ARE_LOCAL,
  ) {
    super(
      `Region ${region} is unavailable (${(options.cause as Error)?.message ?? String(options.cause)}); ${why}`,
      options,
    );
    this.name = 'RegionUnavailableError';
  }
}
