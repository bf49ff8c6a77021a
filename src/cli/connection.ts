/**
 * Which API a command talks to, and the client it talks with. The URL is `--url`, else the
 * Regions of `--regions`, else `VESTA_URL`, else the settings file's `regions`, else its `url`
 * (`vesta config set`), else the local stack. A deployed stack's `execute-api` URL is signed with
 * SigV4 from the default AWS credential chain, with the profile of `--profile`, else
 * `AWS_PROFILE`, else the settings file, and the region of `--region`, else the URL's own, else
 * the settings file's, else `AWS_REGION`.
 *
 * With Regions (`eu-west-1=https://...,us-east-1=https://...`), `--region` (else the settings
 * file's `region`, when it is one of them) is the Region to prefer, and the client fails over to
 * the others in the order given; each Region's URL is signed for that Region.
 */
import { type ConnectOptions, type VestaClient, connect } from '../client';
import { type OptionValues, str } from './options';
import type { RegionEndpoint } from '../client/regions';
import { type CliConfig, configPath, parseRegions, readConfig } from './config';
import { UsageError } from './errors';
import type { CliIo } from './io';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** Where each setting came from, for messages. */
export type Source = 'option' | 'environment' | 'config' | 'default';

export interface Target {
  /** The URL, or with `regions` the first Region's. */
  readonly url: string;
  readonly urlFrom: Source;
  /** The Regions and their URLs, when they were given instead of one URL. */
  readonly regions?: readonly RegionEndpoint[];
  /** With `regions`: the Region to prefer (`--region`, else the settings file's when it is one of them). */
  readonly preferRegion?: string;
  readonly profile?: string;
  readonly region?: string;
}

/** The region an `execute-api` host is in, or undefined. Never throws. */
function regionInUrl(url: string): string | undefined {
  try {
    return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com/i.exec(new URL(url).hostname)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The URL, profile and region for the options `values`, the environment of `io` and the settings
 * file. Reads the file only when an option or the environment leaves something to it.
 * Throws `ConfigError` when the settings file is needed and cannot be read, `UsageError` when
 * `--regions` or the stored `regions` are not Regions and URLs.
 */
export function resolveTarget(values: OptionValues, io: CliIo): Target {
  const flagUrl = str(values, 'url');
  const flagRegions = str(values, 'regions');
  const envUrl = io.env.VESTA_URL || undefined;
  let config: CliConfig | undefined;
  const stored = (): CliConfig => (config ??= readConfig(configPath(io.env)));
  const regionsText =
    flagUrl !== undefined ? undefined : flagRegions !== undefined ? flagRegions : envUrl ? undefined : stored().regions;
  if (regionsText !== undefined) {
    const fromFlag = flagRegions !== undefined;
    const regions = parseRegions(regionsText);
    const storedRegion = (): string | undefined => {
      const r = stored().region;
      return r !== undefined && regions.some((e) => e.region === r) ? r : undefined;
    };
    const preferRegion = str(values, 'region') || storedRegion();
    return {
      url: regions[0].url,
      urlFrom: fromFlag ? 'option' : 'config',
      regions,
      preferRegion,
      profile: str(values, 'profile') || io.env.AWS_PROFILE || stored().profile,
    };
  }
  const [url, urlFrom]: [string, Source] =
    flagUrl !== undefined
      ? [flagUrl, 'option']
      : envUrl
        ? [envUrl, 'environment']
        : stored().url
          ? [stored().url!, 'config']
          : [DEFAULT_URL, 'default'];
  const profile = str(values, 'profile') || io.env.AWS_PROFILE || stored().profile;
  const region = str(values, 'region') || (regionInUrl(url) ? undefined : stored().region);
  return { url, urlFrom, profile, region };
}

/** What a command gets to make another client for the same API (`watch` retries on its own). */
export type Connector = (overrides?: Pick<ConnectOptions, 'retry' | 'timeoutMs'>) => VestaClient;

/** A connector to `target`: each call makes a client, signing `execute-api` URLs; it throws `UsageError` when the URL is not http(s). Never throws itself. */
export function connector(target: Target, io: CliIo): Connector {
  const make: Connector = (overrides = {}) => {
    try {
      // Numbers are read exactly and printed digit for digit: the CLI never rounds a value.
      return connect({
        ...(target.regions
          ? { regions: target.regions, preferRegion: target.preferRegion }
          : { url: target.url, region: target.region }),
        profile: target.profile,
        numbers: 'exact',
        ...(io.fetch ? { fetch: io.fetch } : {}),
        ...overrides,
      });
    } catch (e) {
      if (target.regions) {
        const where = target.urlFrom === 'option' ? '--regions' : 'the regions of `vesta config`';
        const message = (e as Error).message.replace(/^preferRegion/, '--region');
        throw new UsageError(`${where}: ${message}`, undefined, { cause: e });
      }
      const where = {
        option: '--url',
        environment: 'VESTA_URL',
        config: 'the url of `vesta config`',
        default: 'the default URL',
      }[target.urlFrom];
      throw new UsageError(`${where} must be an http(s) URL. Received: ${JSON.stringify(target.url)}`, undefined, {
        cause: e,
      });
    }
  };
  return make;
}
