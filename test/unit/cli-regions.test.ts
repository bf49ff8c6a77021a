/**
 * The CLI with several Regions: `--regions` and `vesta config set regions`, where they stand
 * among --url, VESTA_URL and the stored url, `--region` as the Region to prefer, failover seen by
 * a fake fetch, and each Region's execute-api URL signed for its own region.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTarget } from '../../src/cli/connection';
import type { CliIo } from '../../src/cli/io';
import { runCli } from '../cli-harness';

const EU = 'https://abc123.execute-api.eu-west-1.amazonaws.com/dev';
const US = 'https://def456.execute-api.us-east-1.amazonaws.com/dev';
const REGIONS = `eu-west-1=${EU},us-east-1=${US}`;

const record = {
  namespace: 'shop',
  key: 'cart/1',
  fields: { qty: 2 },
  rev: 3,
  vv: { 'eu-west-1': 3 },
  lease: null,
  updatedAt: '2026-01-01T00:00:00.000Z',
};

/** A fetch that records each request; hosts in `down` refuse the connection. */
function fakeFetch(down: readonly string[] = []) {
  const sent: { url: string; headers: Record<string, string> }[] = [];
  const fetch = (async (input: string | URL, init?: RequestInit) => {
    const url = String(input);
    sent.push({ url, headers: { ...(init?.headers as Record<string, string>) } });
    if (down.some((d) => url.startsWith(d))) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    const region = /execute-api\.([a-z0-9-]+)\./.exec(url)?.[1] ?? 'local';
    return new Response(JSON.stringify(record), {
      status: 200,
      headers: { 'content-type': 'application/json', etag: '"e1"', 'x-vesta-region': region },
    });
  }) as typeof globalThis.fetch;
  return { fetch, sent };
}

function tempConfig(content?: object): string {
  const path = join(mkdtempSync(join(tmpdir(), 'vesta-config-')), 'config.json');
  if (content) {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, JSON.stringify(content));
  }
  return path;
}

const io = (env: Record<string, string | undefined>): CliIo => ({
  out: () => {},
  err: () => {},
  readStdin: async () => '',
  env,
});

describe('where the Regions come from', () => {
  test('--url, then --regions, then VESTA_URL, then the stored regions, then the stored url', () => {
    const VESTA_CONFIG = tempConfig({ url: 'http://from-config:1', regions: 'a-1=http://a:1,b-1=http://b:1' });
    const flags = { regions: 'x-1=http://x:1' };
    expect(resolveTarget({ ...flags, url: 'http://opt:1' }, io({ VESTA_CONFIG })).regions).toBeUndefined();
    expect(resolveTarget(flags, io({ VESTA_URL: 'http://env:1', VESTA_CONFIG }))).toMatchObject({
      regions: [{ region: 'x-1', url: 'http://x:1' }],
      urlFrom: 'option',
    });
    const env = resolveTarget({}, io({ VESTA_URL: 'http://env:1', VESTA_CONFIG }));
    expect(env).toMatchObject({ url: 'http://env:1', urlFrom: 'environment' });
    expect(env.regions).toBeUndefined();
    expect(resolveTarget({}, io({ VESTA_CONFIG }))).toMatchObject({
      url: 'http://a:1',
      urlFrom: 'config',
      regions: [
        { region: 'a-1', url: 'http://a:1' },
        { region: 'b-1', url: 'http://b:1' },
      ],
    });
    expect(resolveTarget({}, io({ VESTA_CONFIG: tempConfig({ url: 'http://u:1' }) })).regions).toBeUndefined();
  });

  test('--region, else the stored region when it is one of them, is the Region to prefer', () => {
    const stored = (region: string) => tempConfig({ regions: REGIONS, region });
    expect(resolveTarget({ region: 'us-east-1' }, io({ VESTA_CONFIG: stored('eu-west-1') })).preferRegion).toBe(
      'us-east-1',
    );
    expect(resolveTarget({}, io({ VESTA_CONFIG: stored('us-east-1') })).preferRegion).toBe('us-east-1');
    expect(resolveTarget({}, io({ VESTA_CONFIG: stored('ap-south-1') })).preferRegion).toBeUndefined();
  });
});

describe('commands', () => {
  test('requests go to the first Region and fail over to the next when it does not answer', async () => {
    const { fetch, sent } = fakeFetch([EU]);
    const r = await runCli(['get', 'shop', 'cart/1', '--regions', REGIONS], { env: {}, fetch });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ key: 'cart/1' });
    expect(sent.map((s) => s.url.slice(0, 20))).toEqual([EU.slice(0, 20), US.slice(0, 20)]);
    // Each execute-api URL is signed for its own region.
    expect(sent[0].headers.authorization).toContain('/eu-west-1/execute-api/aws4_request');
    expect(sent[1].headers.authorization).toContain('/us-east-1/execute-api/aws4_request');
  });

  test('--region prefers a Region; one that is not among them is a usage error', async () => {
    const { fetch, sent } = fakeFetch();
    const ok = await runCli(['get', 'shop', 'cart/1', '--regions', REGIONS, '--region', 'us-east-1'], {
      env: {},
      fetch,
    });
    expect(ok.code).toBe(0);
    expect(sent[0].url.startsWith(US)).toBe(true);
    const bad = await runCli(['get', 'shop', 'cart/1', '--regions', REGIONS, '--region', 'ap-south-1'], {
      env: {},
      fetch,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--region must be one of the regions (eu-west-1, us-east-1). Received: "ap-south-1"');
    expect(sent).toHaveLength(1);
  });

  test('a lease request in an unavailable Region fails naming it, with a hint', async () => {
    const { fetch, sent } = fakeFetch([EU]);
    const r = await runCli(['lease', 'grant', '--ttl', '30', '--regions', REGIONS], { env: {}, fetch });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Region eu-west-1 is unavailable .*\nhint: .*another Region \(--region\)/);
    expect(sent.every((s) => s.url.startsWith(EU))).toBe(true);
  });

  test('the url alone works as before', async () => {
    const { fetch, sent } = fakeFetch();
    const r = await runCli(['get', 'shop', 'cart/1', '--url', 'http://127.0.0.1:9'], { env: {}, fetch });
    expect(r.code).toBe(0);
    expect(sent.map((s) => s.url)).toEqual(['http://127.0.0.1:9/v1/ns/shop/keys/cart/1']);
  });
});

describe('vesta config set regions', () => {
  test('stores the Regions in order, checked, and the commands use them', async () => {
    const VESTA_CONFIG = tempConfig();
    const set = await runCli(['config', 'set', 'regions', `eu-west-1=${EU}/, us-east-1=${US}`], {
      env: { VESTA_CONFIG },
    });
    expect(set.code).toBe(0);
    expect(JSON.parse(readFileSync(VESTA_CONFIG, 'utf8'))).toEqual({ regions: REGIONS });
    const { fetch, sent } = fakeFetch();
    expect((await runCli(['get', 'shop', 'cart/1'], { env: { VESTA_CONFIG }, fetch })).code).toBe(0);
    expect(sent[0].url.startsWith(EU)).toBe(true);
  });

  test.each([
    ['eu-west-1', 'regions must be <region>=<url> pairs'],
    ['', 'regions must name at least one Region'],
    ['__proto__=http://x:1', 'a Region name is lower-case letters, digits and dashes'],
    ['eu-west-1=ftp://x', 'regions["eu-west-1"] must be an http(s) URL. Received: "ftp://x"'],
    ['a-1=http://x:1,a-1=http://y:1', 'regions names "a-1" twice'],
  ])('refuses %j', async (value, message) => {
    const VESTA_CONFIG = tempConfig();
    const r = await runCli(['config', 'set', 'regions', value], { env: { VESTA_CONFIG } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
