/**
 * The client's transport against a scripted fetch: problem documents become typed errors, 429 and
 * 503 are retried after Retry-After (or a back-off), a request without an answer is sent again
 * only when that is safe, and signing sees exactly what is sent.
 */
import {
  type ConflictError,
  NetworkError,
  PreconditionFailedError,
  ThrottledError,
  UnavailableError,
  type ValidationError,
} from '../../src/client/errors';
import { Transport, retryAfterMs } from '../../src/client/transport';

type Scripted = { status: number; body?: unknown; headers?: Record<string, string> } | Error;

function scripted(answers: Scripted[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchFn = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const a = answers.shift();
    if (!a) throw new Error('no more answers');
    if (a instanceof Error) throw a;
    return new Response(a.body === undefined ? null : JSON.stringify(a.body), { status: a.status, headers: a.headers });
  }) as unknown as typeof fetch;
  const sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
  };
  return { fetchFn, calls, sleeps, sleep };
}

const problem = (status: number, code: string, extra: object = {}) => ({
  status,
  body: { type: `urn:vesta:problem:${code}`, title: 't', status, code, detail: `${code} detail`, ...extra },
});

test('a problem document becomes the error class of its code, with its members', async () => {
  const s = scripted([
    { ...problem(412, 'PreconditionFailed', { current: { key: 'k', rev: 2 } }), headers: { etag: '"e2"' } },
    problem(409, 'Conflict', { reason: 'FencingTokenStale' }),
    problem(400, 'ValidationError', { field: 'limit' }),
  ]);
  const t = new Transport({ url: 'http://api.test/', fetch: s.fetchFn, sleep: s.sleep });
  const pre = await t.request('PUT', '/v1/ns/a/keys/k', { body: {} }).catch((e: unknown) => e);
  expect(pre).toBeInstanceOf(PreconditionFailedError);
  expect(pre).toMatchObject({ status: 412, code: 'PreconditionFailed', etag: '"e2"', current: { key: 'k', rev: 2 } });
  expect(await t.request('PUT', '/x').catch((e: unknown) => (e as ConflictError).reason)).toBe('FencingTokenStale');
  expect(await t.request('GET', '/x').catch((e: unknown) => (e as ValidationError).field)).toBe('limit');
  expect(s.calls[0].url).toBe('http://api.test/v1/ns/a/keys/k');
});

test('the base URL may end in /v1 or /: the paths of the contract are not doubled', async () => {
  for (const url of ['http://api.test/v1', 'http://api.test/v1/', 'http://api.test/stage/v1', 'http://api.test/']) {
    const s = scripted([{ status: 200, body: { status: 'ok' } }]);
    await new Transport({ url, fetch: s.fetchFn, sleep: s.sleep }).request('GET', '/v1/health');
    expect(s.calls[0].url).toBe(`${url.replace(/\/v1\/?$|\/$/, '')}/v1/health`);
  }
});

test('429 and 503 are retried, after Retry-After when given, else a jittered back-off', async () => {
  const s = scripted([
    { ...problem(429, 'Throttled'), headers: { 'retry-after': '2' } },
    problem(503, 'Unavailable'),
    { status: 200, body: { ok: true } },
  ]);
  const t = new Transport({ url: 'http://api.test', fetch: s.fetchFn, sleep: s.sleep, retry: { baseMs: 100 } });
  const r = await t.request('POST', '/v1/leases', { body: { ttlSeconds: 5 } });
  expect(r.body).toEqual({ ok: true });
  expect(s.calls).toHaveLength(3);
  expect(s.sleeps[0]).toBe(2000);
  expect(s.sleeps[1]).toBeGreaterThanOrEqual(0);
  expect(s.sleeps[1]).toBeLessThanOrEqual(200);
});

test('retries stop after maxAttempts with the last error; Retry-After is capped', async () => {
  const s = scripted(
    Array.from({ length: 3 }, () => ({ ...problem(503, 'Unavailable'), headers: { 'retry-after': '3600' } })),
  );
  const t = new Transport({
    url: 'http://api.test',
    fetch: s.fetchFn,
    sleep: s.sleep,
    retry: { maxAttempts: 3, maxRetryAfterMs: 10_000 },
  });
  await expect(t.request('GET', '/v1/health')).rejects.toBeInstanceOf(UnavailableError);
  expect(s.sleeps).toEqual([10_000, 10_000]);
});

test('a request without an answer is sent again only when safe: GET, PUT, DELETE or an Idempotency-Key', async () => {
  const refused = () => Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
  const get = scripted([refused(), { status: 200, body: {} }]);
  await new Transport({ url: 'http://api.test', fetch: get.fetchFn, sleep: get.sleep }).request('GET', '/v1/health');
  expect(get.calls).toHaveLength(2);

  const patch = scripted([refused(), { status: 200, body: {} }]);
  const e = await new Transport({ url: 'http://api.test', fetch: patch.fetchFn, sleep: patch.sleep })
    .request('PATCH', '/x', { body: { increment: { n: 1 } } })
    .catch((x: unknown) => x);
  expect(e).toBeInstanceOf(NetworkError);
  expect((e as Error).message).toContain('ECONNREFUSED');
  expect(patch.calls).toHaveLength(1);

  const keyed = scripted([refused(), { status: 200, body: {} }]);
  await new Transport({ url: 'http://api.test', fetch: keyed.fetchFn, sleep: keyed.sleep }).request('PATCH', '/x', {
    body: {},
    headers: { 'Idempotency-Key': 'k1' },
  });
  expect(keyed.calls).toHaveLength(2);
});

test('a throttled answer is an error of its own class when retries are used up', async () => {
  const s = scripted([problem(429, 'Throttled')]);
  await expect(
    new Transport({ url: 'http://api.test', fetch: s.fetchFn, sleep: s.sleep, retry: { maxAttempts: 1 } }).request(
      'GET',
      '/x',
    ),
  ).rejects.toBeInstanceOf(ThrottledError);
});

test('queries are encoded with %20, and the signer sees the URL, headers and body that are sent', async () => {
  const s = scripted([{ status: 200, body: {} }]);
  const seen: { url: string; body?: string }[] = [];
  const t = new Transport({
    url: 'http://api.test',
    fetch: s.fetchFn,
    sleep: s.sleep,
    signer: async (req) => {
      seen.push({ url: req.url, body: req.body });
      return { ...req.headers, authorization: 'signed' };
    },
  });
  await t.request('POST', '/v1/ns/a/txn', { query: { prefix: 'a b+c', limit: 5, skip: undefined }, body: { ops: [] } });
  expect(s.calls[0].url).toBe('http://api.test/v1/ns/a/txn?prefix=a%20b%2Bc&limit=5');
  expect(seen).toEqual([{ url: s.calls[0].url, body: '{"ops":[]}' }]);
  expect((s.calls[0].init.headers as Record<string, string>).authorization).toBe('signed');
});

test('Retry-After as seconds or as an HTTP date', () => {
  expect(retryAfterMs('3')).toBe(3000);
  expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
  expect(retryAfterMs('soon')).toBeUndefined();
  expect(retryAfterMs(undefined)).toBeUndefined();
});

test('a URL that is not http(s) is refused at once', () => {
  expect(() => new Transport({ url: 'ftp://x' })).toThrow(/http\(s\) URL/);
  expect(() => new Transport({ url: 'not a url' })).toThrow(/Received: "not a url"/);
});
