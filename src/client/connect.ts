/**
 * A client for a URL, or for the URLs of several Regions (`regions`): the local stack as it is, a
 * deployed stack (an `execute-api` URL) with requests signed by SigV4 from the default AWS
 * credential chain (`profile`, `region` to choose). With `regions`, each request is signed for the
 * Region it is sent to (the execute-api URL's, else its name in `regions`).
 */
import { type ClientOptions, VestaClient } from './client';
import { shouldSign, sigv4Signer } from './sigv4';

export interface ConnectOptions extends Omit<ClientOptions, 'signer'> {
  /** AWS profile of the credential chain (a deployed stack). @default AWS_PROFILE, else the chain's default */
  readonly profile?: string;
  /** Region of the API (with `url`; ignored with `regions`). @default from the execute-api URL, else AWS_REGION */
  readonly region?: string;
  /** Sign requests: `auto` signs `execute-api` URLs (with `regions`: when any is one; any with VESTA_SIGV4=1). @default 'auto' */
  readonly sign?: boolean | 'auto';
}

/**
 * Throws `TypeError` for a URL that is not http(s) and for `regions` as `VestaClient` does; signing
 * errors (no region, no credentials) come with the first request.
 */
export function connect(opts: ConnectOptions): VestaClient {
  const urls =
    opts.regions === undefined
      ? [opts.url]
      : Array.isArray(opts.regions)
        ? opts.regions.map((e) => e?.url)
        : Object.values(opts.regions ?? {});
  const sign =
    opts.sign === undefined || opts.sign === 'auto'
      ? urls.some((u) => typeof u === 'string' && shouldSign(u))
      : opts.sign;
  const region = opts.regions === undefined ? opts.region : undefined;
  return new VestaClient({
    ...opts,
    ...(sign ? { signer: sigv4Signer({ profile: opts.profile, region }) } : {}),
  });
}
