/**
 * The CLI's small settings file: the API URL (or the URLs of several Regions) and, for a deployed
 * stack, the AWS profile and region, so that they need not be passed on every command. It lives at `$VESTA_CONFIG`, else
 * `$XDG_CONFIG_HOME/vesta/config.json`, else `~/.config/vesta/config.json`.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { type RegionEndpoint, endpointsOf } from '../client/regions';
import { ConfigError, UsageError } from './errors';

/** The settings `vesta config` knows, in the order it prints them. */
export const CONFIG_KEYS = ['url', 'regions', 'profile', 'region'] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];
export type CliConfig = Partial<Record<ConfigKey, string>>;

/** The environment variable that names the file explicitly. */
export const CONFIG_ENV = 'VESTA_CONFIG';

const REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]+$/;

/**
 * The Regions of `value`, `eu-west-1=https://...,us-east-1=https://...`, in the order given (the
 * first is preferred unless `--region` names another). Throws `UsageError` for `command` naming
 * what is wrong: a pair without `=`, no Region, or what `endpointsOf` (client/regions.ts) refuses.
 */
export function parseRegions(value: string, command?: string): RegionEndpoint[] {
  const received = `Received: ${JSON.stringify(value)}`;
  const pairs = value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const regions: RegionEndpoint[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new UsageError(
        `regions must be <region>=<url> pairs separated by commas, e.g. eu-west-1=https://...,us-east-1=https://... ${received}`,
        command,
      );
    regions.push({ region: pair.slice(0, eq).trim(), url: pair.slice(eq + 1).trim() });
  }
  try {
    endpointsOf({ regions });
  } catch (e) {
    throw new UsageError((e as Error).message, command, { cause: e });
  }
  return regions;
}

/** Where the settings file is for `env`. Never throws. */
export function configPath(env: Readonly<Record<string, string | undefined>>): string {
  if (env[CONFIG_ENV]) return env[CONFIG_ENV];
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'vesta', 'config.json');
}

/** Throws `UsageError` naming the settings when `name` is not one of them. */
export function configKey(name: string, command: string): ConfigKey {
  if ((CONFIG_KEYS as readonly string[]).includes(name)) return name as ConfigKey;
  throw new UsageError(`${command} knows ${CONFIG_KEYS.join(', ')}. Received: ${JSON.stringify(name)}`, command);
}

/**
 * Checks a value before it is stored: an http(s) URL, Regions and their URLs
 * (`eu-west-1=https://...,us-east-1=https://...`), a profile name, a region like `eu-west-1`.
 * Returns it (a URL without trailing slashes). Throws `UsageError` echoing what was received.
 */
export function checkConfigValue(key: ConfigKey, value: string): string {
  const received = `Received: ${JSON.stringify(value)}`;
  if (key === 'url') {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new UsageError(
        `url must be an http(s) URL, e.g. http://127.0.0.1:8080 or https://<api-id>.execute-api.<region>.amazonaws.com/<stage>. ${received}`,
        'config set',
      );
    }
    return value.replace(/\/+$/, '');
  }
  if (key === 'regions')
    return parseRegions(value, 'config set')
      .map((r) => `${r.region}=${r.url.replace(/\/+$/, '')}`)
      .join(',');
  if (key === 'region' && !REGION.test(value))
    throw new UsageError(`region must be an AWS region such as eu-west-1. ${received}`, 'config set');
  if (value.trim() === '') throw new UsageError(`${key} must not be empty. ${received}`, 'config set');
  return value;
}

/**
 * The settings stored at `path`; none when the file does not exist.
 * Throws `ConfigError` when it cannot be read or is not a JSON object of strings.
 */
export function readConfig(path: string): CliConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(path, (e as Error).message, { cause: e });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(path, `not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ConfigError(path, 'not a JSON object');
  const config: CliConfig = {};
  for (const key of CONFIG_KEYS) {
    const v = (parsed as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new ConfigError(path, `${key} must be a string`);
    config[key] = v;
  }
  return config;
}

/**
 * Writes `config` to `path` (creating its folder), replacing the file at once: a temporary file
 * beside it, flushed to disk, then renamed into place; removed again if any of that fails.
 * Throws `ConfigError`.
 */
export function writeConfig(path: string, config: CliConfig): void {
  const ordered = Object.fromEntries(CONFIG_KEYS.filter((k) => config[k] !== undefined).map((k) => [k, config[k]]));
  const temp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(ordered, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    throw new ConfigError(path, (e as Error).message, { cause: e });
  }
}
