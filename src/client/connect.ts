/**
 * A client for a URL: the local stack as it is, a deployed stack (an `execute-api` URL) with
 * requests signed by SigV4 from the default AWS credential chain (`profile`, `region` to choose).
 */
import { type ClientOptions, VestaClient } from './client';
import { shouldSign, sigv4Signer } from './sigv4';

export interface ConnectOptions extends Omit<ClientOptions, 'signer'> {
  /** AWS profile of the credential chain (a deployed stack). @default AWS_PROFILE, else the chain's default */
  readonly profile?: string;
  /** Region of the API. @default from the execute-api URL, else AWS_REGION */
  readonly region?: string;
  /** Sign requests: `auto` signs `execute-api` URLs (and any with VESTA_SIGV4=1). @default 'auto' */
  readonly sign?: boolean | 'auto';
}

/** Throws `TypeError` for a URL that is not http(s); signing errors (no region, no credentials) come with the first request. */
export function connect(opts: ConnectOptions): VestaClient {
  const sign = opts.sign === undefined || opts.sign === 'auto' ? shouldSign(opts.url) : opts.sign;
  return new VestaClient({
    ...opts,
    ...(sign ? { signer: sigv4Signer({ profile: opts.profile, region: opts.region }) } : {}),
  });
}
