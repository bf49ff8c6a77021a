/**
 * Where the CLI sends its requests: --url over VESTA_URL over `vesta config` over the local
 * stack; `vesta config` itself; and SigV4 signing of a deployed stack's URL, seen by a fake
 * fetch that records what would be sent.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { resolveTarget } from '../../src/cli/connection';
import type { CliIo } from '../../src/cli/io';
import { runCli } from '../cli-harness';

const DEPLOYED = 'https://abc123.execute-api.eu-west-1.amazonaws.com/dev';

interface Sent {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
}

/** A fetch that records each request and answers with `answer` (a record by default). */
function fakeFetch(
  answer: (url: string) => { status: number; body: unknown; headers?: Record<string, string> } = () => ({
    status: 200,
    body: record,
  }),
) {
  const sent: Sent[] = [];
  const fetch = (async (input: string | URL, init?: RequestInit) => {
    const url = String(input);
    sent.push({ method: init?.method ?? 'GET', url, headers: { ...(init?.headers as Record<string, string>) } });
    const a = answer(url);
    return new Response(JSON.stringify(a.body), {
      status: a.status,
      headers: { 'content-type': 'application/json', etag: '"e1"', ...a.headers },
    });
  }) as typeof globalThis.fetch;
  return { fetch, sent };
}

const record = {
  namespace: 'shop',
  key: 'cart/1',
  fields: { qty: 2 },
  rev: 3,
  vv: { local: 3 },
  lease: null,
  updatedAt: '2026-01-01T00:00:00.000Z',
};

function tempConfig(content?: object): string {
  const path = join(mkdtempSync(join(tmpdir(), 'vesta-config-')), 'nested', 'config.json');
  if (content) {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, JSON.stringify(content));
  }
  return path;
}

function vesta(argv: string[], env: Record<string, string | undefined>, fetch?: typeof globalThis.fetch) {
  return runCli(argv, { env, fetch });
}

describe('which URL a command uses', () => {
  const io = (env: Record<string, string | undefined>): CliIo => ({
    out: () => {},
    err: () => {},
    readStdin: async () => '',
    env,
  });

  test('--url wins over VESTA_URL, which wins over the config file, which wins over the local stack', () => {
    const VESTA_CONFIG = tempConfig({ url: 'http://from-config:1' });
    expect(
      resolveTarget({ url: 'http://from-option:1' }, io({ VESTA_URL: 'http://from-env:1', VESTA_CONFIG })).url,
    ).toBe('http://from-option:1');
    expect(resolveTarget({}, io({ VESTA_URL: 'http://from-env:1', VESTA_CONFIG }))).toMatchObject({
      url: 'http://from-env:1',
      urlFrom: 'environment',
    });
    expect(resolveTarget({}, io({ VESTA_CONFIG }))).toMatchObject({ url: 'http://from-config:1', urlFrom: 'config' });
    expect(resolveTarget({}, io({ VESTA_CONFIG: tempConfig() }))).toMatchObject({
      url: 'http://127.0.0.1:8080',
      urlFrom: 'default',
    });
  });

  test('--profile wins over AWS_PROFILE over the config; the URL names the region before the config does', () => {
    const VESTA_CONFIG = tempConfig({ profile: 'cfg', region: 'eu-central-1' });
    expect(resolveTarget({ profile: 'opt' }, io({ AWS_PROFILE: 'env', VESTA_CONFIG })).profile).toBe('opt');
    expect(resolveTarget({}, io({ AWS_PROFILE: 'env', VESTA_CONFIG })).profile).toBe('env');
    expect(resolveTarget({}, io({ VESTA_CONFIG })).profile).toBe('cfg');
    expect(resolveTarget({ url: DEPLOYED }, io({ VESTA_CONFIG })).region).toBeUndefined();
    expect(resolveTarget({ url: 'https://vesta.example.com' }, io({ VESTA_CONFIG })).region).toBe('eu-central-1');
    expect(resolveTarget({ url: DEPLOYED, region: 'us-west-2' }, io({ VESTA_CONFIG })).region).toBe('us-west-2');
  });

  test('XDG_CONFIG_HOME holds vesta/config.json when VESTA_CONFIG is not set', () => {
    const home = mkdtempSync(join(tmpdir(), 'vesta-xdg-'));
    mkdirSync(join(home, 'vesta'));
    writeFileSync(join(home, 'vesta', 'config.json'), JSON.stringify({ url: 'http://xdg:1' }));
    expect(resolveTarget({}, io({ XDG_CONFIG_HOME: home })).url).toBe('http://xdg:1');
  });

  test('the URL set with `vesta config` is the one requests go to', async () => {
    const env = { VESTA_CONFIG: tempConfig() };
    const { fetch, sent } = fakeFetch();
    expect((await vesta(['config', 'set', 'url', 'http://127.0.0.1:7777/'], env)).code).toBe(0);

    const r = await vesta(['get', 'shop', 'cart/1'], env, fetch);

    expect(r.code).toBe(0);
    expect(sent.map((s) => s.url)).toEqual(['http://127.0.0.1:7777/v1/ns/shop/keys/cart/1']);
  });

  test('a --url that is not http(s) exits 2 echoing it, before anything is sent', async () => {
    const { fetch, sent } = fakeFetch();
    const r = await vesta(['get', 'shop', 'k', '--url', 'ftp://x'], {}, fetch);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--url must be an http(s) URL. Received: "ftp://x"');
    expect(sent).toHaveLength(0);
  });
});

describe('vesta config', () => {
  test('set, get and unset the url, profile and region in the file VESTA_CONFIG names', async () => {
    const env = { VESTA_CONFIG: tempConfig() };

    const set = await vesta(['config', 'set', 'url', DEPLOYED], env);
    await vesta(['config', 'set', 'profile', 'prod'], env);
    await vesta(['config', 'set', 'region', 'eu-west-1'], env);
    const one = await vesta(['config', 'get', 'url'], env);
    const all = await vesta(['config', 'get'], env);
    const unset = await vesta(['config', 'unset', 'profile'], env);
    const gone = await vesta(['config', 'get', 'profile'], env);

    expect(set).toMatchObject({ code: 0 });
    expect(JSON.parse(set.stdout)).toEqual({ url: DEPLOYED });
    expect(one.stdout).toBe(`${DEPLOYED}\n`);
    expect(JSON.parse(all.stdout)).toEqual({ url: DEPLOYED, profile: 'prod', region: 'eu-west-1' });
    expect(JSON.parse(unset.stdout)).toEqual({ url: DEPLOYED, region: 'eu-west-1' });
    expect(gone).toMatchObject({ code: 0, stdout: '' });
    expect(gone.stderr).toContain('profile is not set');
    expect(JSON.parse(readFileSync(env.VESTA_CONFIG, 'utf8'))).toEqual({ url: DEPLOYED, region: 'eu-west-1' });
  });

  test.each([
    [
      ['config', 'set', 'url', 'not a url'],
      'url must be an http(s) URL, e.g. http://127.0.0.1:8080 or https://<api-id>.execute-api.<region>.amazonaws.com/<stage>. Received: "not a url"',
    ],
    [['config', 'set', 'url', 'file:///etc/passwd'], 'Received: "file:///etc/passwd"'],
    [['config', 'set', 'region', 'Europe'], 'region must be an AWS region such as eu-west-1. Received: "Europe"'],
    [['config', 'set', 'colour', 'blue'], 'config set knows url, regions, profile, region. Received: "colour"'],
    [['config', 'get', 'url', 'profile'], 'at most one <name>'],
  ])('%j is a usage error: exit 2, the value echoed, nothing stored', async (argv, message) => {
    const env = { VESTA_CONFIG: tempConfig() };
    const r = await vesta(argv, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain(`hint: see \`vesta ${argv.slice(0, 2).join(' ')} --help\``);
    expect(JSON.parse((await vesta(['config', 'get'], env)).stdout)).toEqual({});
  });

  test('a settings file that is not JSON exits 1 naming the file and what to do, sending nothing', async () => {
    const VESTA_CONFIG = tempConfig({});
    writeFileSync(VESTA_CONFIG, '{ url: ');
    const { fetch, sent } = fakeFetch();

    const r = await vesta(['get', 'shop', 'k'], { VESTA_CONFIG }, fetch);

    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the settings file ${VESTA_CONFIG} cannot be used: not valid JSON`);
    expect(r.stderr).toContain('hint: fix the file, or remove it');
    expect(sent).toHaveLength(0);
  });
});

describe('signing', () => {
  test('a deployed execute-api URL is signed with SigV4 for its region and execute-api', async () => {
    const { fetch, sent } = fakeFetch();

    const r = await vesta(['get', 'shop', 'cart/1', '--url', DEPLOYED], {}, fetch);

    expect(r.code).toBe(0);
    expect(sent[0].url).toBe(`${DEPLOYED}/v1/ns/shop/keys/cart/1`);
    expect(sent[0].headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAVESTATESTKEY0000\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=\S*host\S*, Signature=[0-9a-f]{64}$/,
    );
    expect(sent[0].headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });

  test('--region changes the signing region; a deployed URL from the config file is signed too', async () => {
    const VESTA_CONFIG = tempConfig({ url: DEPLOYED });
    const { fetch, sent } = fakeFetch(() => ({ status: 200, body: { items: [], cursor: null } }));

    await vesta(['ls', 'shop', '--region', 'us-west-2'], { VESTA_CONFIG }, fetch);
    await vesta(['ls', 'shop'], { VESTA_CONFIG }, fetch);

    expect(sent[0].headers.authorization).toContain('/us-west-2/execute-api/aws4_request');
    expect(sent[1].headers.authorization).toContain('/eu-west-1/execute-api/aws4_request');
  });

  test('credentials that cannot be found are reported with the profile they were looked for in', async () => {
    const empty = join(mkdtempSync(join(tmpdir(), 'vesta-aws-')), 'none');
    const saved = { ...process.env };
    // The credential chain reads the process environment: no files, no instance metadata.
    Object.assign(process.env, {
      AWS_CONFIG_FILE: empty,
      AWS_SHARED_CREDENTIALS_FILE: empty,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    try {
      const { fetch, sent } = fakeFetch();

      const r = await vesta(['get', 'shop', 'cart/1', '--url', DEPLOYED, '--profile', 'nosuch'], {}, fetch);

      expect(r.code).toBe(1);
      expect(sent).toHaveLength(0);
      expect(r.stderr).toMatch(/^error: cannot sign the request for the deployed API with AWS profile "nosuch": /);
      expect(r.stderr).toContain('hint: requests to an execute-api URL are signed');
    } finally {
      process.env = saved;
    }
  });

  test('the local stack is not signed', async () => {
    const { fetch, sent } = fakeFetch();

    await vesta(['get', 'shop', 'cart/1'], { VESTA_URL: 'http://127.0.0.1:8080' }, fetch);
    await vesta(['get', 'shop', 'cart/1', '--url', 'http://localhost:8080'], {}, fetch);

    expect(sent).toHaveLength(2);
    for (const s of sent) {
      expect(s.headers.authorization).toBeUndefined();
      expect(s.headers['x-amz-date']).toBeUndefined();
    }
  });
});

describe('requests the commands send', () => {
  test('ids and names are one percent-encoded segment each; keys keep their slashes', async () => {
    const { fetch, sent } = fakeFetch((url) => ({
      status: 200,
      body: url.includes('/leases/') ? { id: 'x', ttlSeconds: 5, remainingSeconds: 1, expiresAt: '', keys: [] } : {},
    }));
    const env = { VESTA_URL: 'http://127.0.0.1:7777' };

    await vesta(['lease', 'get', 'a/b c'], env, fetch);
    await vesta(['lock', 'acquire', 'jobs', 'nightly run/1', '--lease', 'L1'], env, fetch);
    await vesta(['saga', 'get', 'a/b c'], env, fetch);
    await vesta(['snapshot', 'get', 'a/b'], env, fetch);
    await vesta(['snapshot', 'restore-status', 'rest-1'], env, fetch);
    await vesta(['get', 'shop', 'a b/c'], env, fetch);
    await vesta(['get', 'shop', 'a/../b'], env, fetch);

    expect(sent.map((s) => `${s.method} ${new URL(s.url).pathname}`)).toEqual([
      'GET /v1/leases/a%2Fb%20c',
      'POST /v1/ns/jobs/locks/nightly%20run%2F1',
      'GET /v1/sagas/a%2Fb%20c',
      'GET /v1/snapshots/a%2Fb',
      'GET /v1/restores/rest-1',
      'GET /v1/ns/shop/keys/a%20b/c',
      'GET /v1/ns/shop/keys/a%2F..%2Fb',
    ]);
  });

  test('saga watch follows the states the client reports and exits with the outcome', async () => {
    const step = (status: string) => ({ name: 'debit', status, error: null, attempts: 1 });
    const states = [
      { id: 's1', type: 'transfer', namespace: 'bank', status: 'RUNNING', steps: [step('PENDING')] },
      { id: 's1', type: 'transfer', namespace: 'bank', status: 'RUNNING', steps: [step('DONE')] },
      {
        id: 's1',
        type: 'transfer',
        namespace: 'bank',
        status: 'COMPENSATED',
        steps: [step('COMPENSATED')],
        finishedAt: '2026-01-01T00:00:01.000Z',
      },
    ];
    const { fetch } = fakeFetch(() => ({ status: 200, body: states.length > 1 ? states.shift() : states[0] }));

    const r = await vesta(['saga', 'watch', 's1', '--interval', '1'], { VESTA_URL: 'http://127.0.0.1:7777' }, fetch);

    expect(r.code).toBe(3);
    expect(r.stdout.trim().split('\n')).toEqual([
      'saga s1 (transfer, namespace bank, 1 steps): RUNNING',
      'step 0 debit: PENDING -> DONE',
      'step 0 debit: DONE -> COMPENSATED',
      'saga s1: RUNNING -> COMPENSATED',
      'saga s1 ended COMPENSATED at 2026-01-01T00:00:01.000Z',
    ]);
  });
});
