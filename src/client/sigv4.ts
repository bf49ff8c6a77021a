/**
 * SigV4 request signing for the deployed API (every method has AWS_IAM auth), on the signer the
 * AWS SDK itself uses (`@smithy/signature-v4`) and the SDK's default credential chain.
 *
 * What is signed is what `fetch` sends: the path and query of the WHATWG-parsed URL.
 *
 * - Path: API Gateway (execute-api), like every AWS service except S3, builds the canonical URI
 *   by URI-encoding the path as received, which is already percent-encoded: `cart%2F42` on the
 *   wire is `cart%252F42` in the canonical request. That is `uriEscapePath: true` (the signer's
 *   default), fed the encoded wire path. S3 is the exception that signs the wire path as is.
 *   Dot segments and empty segments (`//`) are dropped from the canonical path, as the SDKs do.
 * - Query: each `name=value` of the raw query is percent-decoded and re-encoded per RFC 3986.
 *   A `+` is a literal plus, not a space: send spaces as `%20` (`encodeURIComponent`), not as the
 *   `+` of `URLSearchParams`, or the signature depends on how the server reads `+`.
 */
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, HttpRequest } from '@smithy/types';
import { type Clock, systemClock } from '../core/ports';

/**
 * The SDK's default credential chain for `profile`, loaded on the first signature: a client of the
 * local stack, which signs nothing, does not load it.
 */
function defaultChain(profile: string | undefined): AwsCredentialIdentityProvider {
  let chain: AwsCredentialIdentityProvider | undefined;
  return async (props) => {
    chain ??= (await import('@aws-sdk/credential-providers')).fromNodeProviderChain({ profile });
    return chain(props);
  };
}

/** The request as the client is about to send it; `url` is absolute. */
export interface HttpRequestToSign {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /**
   * The Region of the deployment this URL belongs to (a client of several Regions): signed for,
   * unless the URL is an execute-api URL, whose own region always wins.
   */
  region?: string;
}

/** Returns the headers to send: the request's own plus the signature's. */
export type RequestSigner = (req: HttpRequestToSign) => Promise<Record<string, string>>;

export interface Sigv4SignerOptions {
  /**
   * The signing region.
   * @default the region in an execute-api URL, else `AWS_REGION`, else `AWS_DEFAULT_REGION`
   */
  readonly region?: string;
  /**
   * The shared config/credentials profile for the default credential chain.
   * @default `AWS_PROFILE`, else `default`
   */
  readonly profile?: string;
  /**
   * Credentials, or a provider of them.
   * @default the SDK's default chain (`fromNodeProviderChain`): environment, SSO, profile files,
   *          web identity, ECS and EC2 instance metadata
   */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** @default 'execute-api' */
  readonly service?: string;
  /** The signing time. @default the system clock */
  readonly clock?: Clock;
}

/** `<api-id>.execute-api.<region>.amazonaws.com`, with the private-API (`vpce`) and China forms. */
const EXECUTE_API_HOST = /^[a-z0-9-]+\.execute-api\.([a-z0-9-]+)\.(?:vpce\.)?amazonaws\.com(?:\.cn)?$/i;
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether requests to `url` must be signed: true for an execute-api host, or for any URL when
 * `VESTA_SIGV4=1` (a custom domain name in front of the API). The local stack (localhost,
 * 127.0.0.1) checks no signature, so it is not signed unless forced. Returns false for a URL
 * that does not parse; it never throws.
 */
export function shouldSign(url: string): boolean {
  if (process.env.VESTA_SIGV4 === '1') return true;
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  if (LOCAL_HOSTS.has(host)) return false;
  return EXECUTE_API_HOST.test(host);
}

/** The region of an execute-api URL, or undefined for any other host. */
function regionOfUrl(url: URL): string | undefined {
  return EXECUTE_API_HOST.exec(url.hostname)?.[1]?.toLowerCase();
}

/**
 * Throws an Error naming the ways to set the region when neither `explicit`, the URL, nor
 * `AWS_REGION`/`AWS_DEFAULT_REGION` gives one. The URL wins over the environment: an
 * execute-api host only accepts signatures scoped to its own region.
 */
function resolveRegion(explicit: string | undefined, url: URL): string {
  const region = explicit || regionOfUrl(url) || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  if (region) return region;
  throw new Error(
    `Cannot sign the request to ${url.origin}: no AWS region. Set AWS_REGION (or pass the region), ` +
      'or use the execute-api URL (https://<api-id>.execute-api.<region>.amazonaws.com/<stage>).',
  );
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a malformed escape is signed as sent: re-encoded, like the server does
  }
}

/** The raw query as a multi-map of decoded names to decoded values; `+` stays a plus. */
function parseQuery(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const pair of search.replace(/^\?/, '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1));
    const prior = query[name];
    query[name] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  return query;
}

/** Lower-cased names, so that `Host` and `host` cannot both be sent. */
function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/**
 * A signer for the client. Adds `host`, `x-amz-date`, `authorization` and, with temporary
 * credentials, `x-amz-security-token`; header names come back lower-cased. No
 * `x-amz-content-sha256`: API Gateway does not need it (only S3 and Glacier do).
 *
 * Credentials are resolved on the first request, not here. The returned function rejects with
 * a TypeError when `url` is not absolute, with the Error of `resolveRegion` when there is no
 * region, and with the credential chain's `CredentialsProviderError` when no credentials are
 * found or they cannot be loaded.
 */
export function sigv4Signer(opts: Sigv4SignerOptions = {}): RequestSigner {
  const clock = opts.clock ?? systemClock;
  const signer = new SignatureV4({
    service: opts.service ?? 'execute-api',
    // Always overridden per request with `signingRegion`: the region may come from the URL.
    region: opts.region ?? '',
    credentials: opts.credentials ?? defaultChain(opts.profile),
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: true,
    applyChecksum: false,
  });
  return async (req) => {
    const url = new URL(req.url);
    // Per request with several Regions: each URL only accepts signatures scoped to its Region.
    const explicit = req.region !== undefined ? (regionOfUrl(url) ?? req.region) : opts.region;
    const signingRegion = resolveRegion(explicit, url);
    const toSign: HttpRequest = {
      method: req.method.toUpperCase(),
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: parseQuery(url.search),
      headers: { ...lowerCased(req.headers), host: url.host },
      body: req.body,
    };
    const signed = await signer.sign(toSign, { signingDate: clock.now(), signingRegion });
    return { ...signed.headers };
  };
}
