/**
 * A client of several Regions against one real HTTP server per Region (node:http, ephemeral
 * ports), each answering with its `X-Vesta-Region` and made to fail on demand: connection
 * refused (closed), 500, 502, 503, 504, or an answer later than the client's timeout. Requests go
 * to the preferred Region, fail over on what means a Region is unavailable and only when sending
 * again is safe, come back after the cool-down (an injected clock, no waiting), and leases and
 * locks never leave the Region that granted them (options and signing: client-region-options.test.ts).
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VestaClient } from '../../src/client/client';
import { InternalError, NetworkError, NotFoundError, UnavailableError } from '../../src/client/errors';
import { RegionUnavailableError } from '../../src/client/regions';

type Mode = 'ok' | 'refused' | 'slow' | 400 | 404 | 500 | 502 | 503 | 504;

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
}

interface FakeRegion {
  readonly name: string;
  readonly url: string;
  readonly seen: Seen[];
  mode: Mode;
  stop(): Promise<void>;
}

// The client's timeout is far above a local answer's time even on a loaded machine (other test
// files run beside this one), and a slow Region answers far later still.
const SLOW_MS = 5000;
const TIMEOUT_MS = 1000;
const CODES: Record<number, string> = {
  400: 'ValidationError',
  404: 'NotFound',
  500: 'InternalError',
  503: 'Unavailable',
};

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A Region's API: records each request, then answers as `mode` says. */
async function fakeRegion(name: string): Promise<FakeRegion> {
  const timers = new Set<NodeJS.Timeout>();
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => answer(req, res));
  });
  const region: FakeRegion = {
    name,
    url: '',
    seen,
    mode: 'ok',
    async stop() {
      for (const t of timers) clearTimeout(t);
      if (server.listening) await close(server);
    },
  };
  const send = (res: ServerResponse, status: number, body: unknown, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type, 'x-vesta-region': name });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const mode = region.mode;
    if (mode === 'slow') {
      const t = setTimeout(() => send(res, 200, { late: true }), SLOW_MS);
      timers.add(t);
      return;
    }
    if (mode === 502 || mode === 504) return send(res, mode, 'Bad gateway', 'text/plain');
    if (typeof mode === 'number')
      return send(res, mode, { status: mode, code: CODES[mode], title: 't', detail: `${CODES[mode]} in ${name}` });
    if (req.method === 'GET' && /\/changes\?/.test(req.url ?? '')) {
      const seq = seen.filter((x) => x.path.includes('/changes')).length;
      const change = { namespace: 'shop', key: `${name}/${seq}`, rev: seq, vv: {}, change: 'put' };
      return send(res, 200, { items: [change], cursor: `${name}.${seq}` });
    }
    if (req.method === 'POST' && req.url === '/v1/sagas')
      return send(res, 202, { id: 'saga-1', status: 'RUNNING', executionArn: `arn:${name}` });
    if (req.method === 'POST' && req.url === '/v1/leases')
      return send(res, 201, { id: `lease-${name}`, ttlSeconds: 30, expiresAt: '2026-01-01T00:00:30Z' });
    if (req.method === 'POST' && /\/locks\//.test(req.url ?? ''))
      return send(res, 200, { name: 'l', leaseId: `lease-${name}`, fencingToken: 7, expiresAt: 'x' });
    send(res, 200, { answeredBy: name });
  };
  const port = await listen(server);
  Object.assign(region, { url: `http://127.0.0.1:${port}` });
  // Refused: the port is closed, nothing listens there.
  let current: Mode = 'ok';
  Object.defineProperty(region, 'mode', {
    get: () => current,
    set: (m: Mode) => {
      current = m;
      if (m === 'refused' && server.listening) void close(server);
    },
  });
  return region;
}

let eu: FakeRegion;
let us: FakeRegion;
let ap: FakeRegion;
let now: number;
const clock = { now: () => new Date(now) };

beforeAll(async () => {
  // The first fetch of a process loads its HTTP stack: not to be taken for a slow Region.
  const warm = await fakeRegion('warm-up');
  await fetch(warm.url).then((r) => r.text());
  await warm.stop();
});

beforeEach(async () => {
  [eu, us, ap] = await Promise.all([fakeRegion('eu-west-1'), fakeRegion('us-east-1'), fakeRegion('ap-south-1')]);
  now = Date.parse('2026-06-01T00:00:00Z');
});

afterEach(async () => {
  await Promise.all([eu.stop(), us.stop(), ap.stop()]);
});

function client(extra: Partial<ConstructorParameters<typeof VestaClient>[0]> = {}): VestaClient {
  return new VestaClient({
    regions: { [eu.name]: eu.url, [us.name]: us.url, [ap.name]: ap.url },
    clock,
    timeoutMs: TIMEOUT_MS,
    retry: { maxAttempts: 4, baseMs: 1, maxDelayMs: 1 },
    sleep: async () => undefined,
    ...extra,
  });
}

const get = (c: VestaClient) => c.request<{ answeredBy: string }>('GET', '/v1/ns/shop/keys/k');

test('requests go to the preferred Region, by default the first; the reply and the transport name it', async () => {
  const first = client();
  expect(first.transport.currentRegion).toBe('eu-west-1');
  const r = await get(first);
  expect(r.body.answeredBy).toBe('eu-west-1');
  expect(r.region).toBe('eu-west-1');

  const preferring = client({ preferRegion: 'us-east-1' });
  expect(preferring.transport.regions).toEqual(['us-east-1', 'eu-west-1', 'ap-south-1']);
  expect(preferring.url).toBe(us.url);
  expect((await get(preferring)).region).toBe('us-east-1');
  expect(preferring.transport.currentRegion).toBe('us-east-1');
  expect(eu.seen).toHaveLength(1);
  expect(us.seen).toHaveLength(1);
});

test('the array form keeps its order; a Region answering under another name is reported by that name', async () => {
  const c = new VestaClient({
    regions: [
      { region: 'primary', url: `${eu.url}/v1/` },
      { region: 'secondary', url: us.url },
    ],
    sleep: async () => undefined,
  });
  const r = await get(c);
  expect(r.region).toBe('eu-west-1');
  expect(c.transport.currentRegion).toBe('eu-west-1');
  expect(eu.seen[0].path).toBe('/v1/ns/shop/keys/k');
});

test.each<Mode>(['refused', 500, 502, 503, 504, 'slow'])(
  'an unavailable Region (%s) moves a GET to the next',
  async (mode) => {
    eu.mode = mode;
    const retries: (string | undefined)[] = [];
    const c = client({ onRetry: (i) => retries.push(i.region) });
    const r = await get(c);
    expect(r.body.answeredBy).toBe('us-east-1');
    expect(r.region).toBe('us-east-1');
    expect(c.transport.currentRegion).toBe('us-east-1');
    expect(c.url).toBe(us.url);
    expect(eu.seen).toHaveLength(mode === 'refused' ? 0 : 1);
    expect(us.seen).toHaveLength(1);
    expect(retries).toEqual(['us-east-1']);
  },
);

test('failover goes on in order and wraps around under the attempts of the retry policy', async () => {
  eu.mode = 503;
  us.mode = 'refused';
  ap.mode = 500;
  const e = await get(client()).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(UnavailableError); // the fourth and last try, back in eu-west-1
  expect(eu.seen).toHaveLength(2);
  expect(ap.seen).toHaveLength(1);
});

test.each<Mode>([400, 404])('a %s is an answer: no failover', async (mode) => {
  eu.mode = mode;
  const c = client();
  const e = await get(c).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(mode === 404 ? NotFoundError : Error);
  expect((e as { status: number }).status).toBe(mode);
  expect(us.seen).toHaveLength(0);
  expect(c.transport.currentRegion).toBe('eu-west-1');
});

test.each<Mode>([500, 502, 504, 'slow'])(
  'a POST without an Idempotency-Key is not sent again after %s, in no Region',
  async (mode) => {
    eu.mode = mode;
    const c = client();
    const e = await c.transact('shop', { ops: [] } as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(mode === 'slow' ? NetworkError : mode === 500 ? InternalError : Error);
    expect(eu.seen).toHaveLength(1);
    expect(us.seen).toHaveLength(0);
    expect(ap.seen).toHaveLength(0);
  },
);

test('a 503 Unavailable wrote nothing: even a POST without a key moves to the next Region', async () => {
  eu.mode = 503;
  const r = await client().request('POST', '/v1/ns/shop/txn', { body: { ops: [] } });
  expect(r.region).toBe('us-east-1');
  expect(eu.seen).toHaveLength(1);
  expect(us.seen).toHaveLength(1);
});

test.each<Mode>([503, 'refused'])('after %s, a POST with an Idempotency-Key moves with the same key', async (mode) => {
  eu.mode = mode;
  await client().transact('shop', { ops: [] } as never, { idempotencyKey: 'txn-0001' });
  const keys = [...eu.seen, ...us.seen].map((s) => s.headers['idempotency-key']);
  expect(keys).toEqual(mode === 'refused' ? ['txn-0001'] : ['txn-0001', 'txn-0001']);
  expect(us.seen).toHaveLength(1);
});

test.each<Mode>([500, 502, 'slow'])(
  'after %s, which may follow a write, a keyed POST is retried where its key is known, not elsewhere',
  async (mode) => {
    eu.mode = mode;
    await expect(client().transact('shop', { ops: [] } as never, { idempotencyKey: 'txn-0002' })).rejects.toThrow();
    expect(eu.seen.map((s) => s.headers['idempotency-key'])).toEqual(Array(4).fill('txn-0002'));
    expect(us.seen).toHaveLength(0);
  },
);

test('after a failover requests stay in the Region that answered until the cool-down ends', async () => {
  const c = client({ failbackAfterMs: 5000 });
  eu.mode = 503;
  expect((await get(c)).region).toBe('us-east-1');
  eu.mode = 'ok';
  now += 4999;
  expect((await get(c)).region).toBe('us-east-1');
  expect(eu.seen).toHaveLength(1);
  now += 1;
  expect(c.transport.url).toBe(eu.url);
  expect((await get(c)).region).toBe('eu-west-1');
  expect(eu.seen).toHaveLength(2);
  expect(us.seen).toHaveLength(2);
});

test('the default cool-down is 30 s; a preferred Region still down moves requests again', async () => {
  const c = client();
  eu.mode = 500;
  await get(c);
  now += 29_999;
  expect((await get(c)).region).toBe('us-east-1');
  now += 1;
  expect((await get(c)).region).toBe('us-east-1');
  expect(eu.seen).toHaveLength(2);
  eu.mode = 'ok';
  now += 30_000;
  expect((await get(c)).region).toBe('eu-west-1');
});

describe('leases and locks stay in their Region', () => {
  test('a grant in an unavailable Region fails naming it, and nothing is sent elsewhere', async () => {
    for (const mode of [503, 'refused'] as const) {
      eu.mode = mode;
      const e = await client()
        .leases.grant(30)
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RegionUnavailableError);
      expect(e).toMatchObject({ region: 'eu-west-1', url: eu.url });
      expect((e as Error).message).toMatch(/Region eu-west-1 is unavailable.*Region-local/);
      expect(us.seen).toHaveLength(0);
    }
  });

  test('keepalive, locks and fenced writes go to the Region of the lease, also after other requests failed over', async () => {
    const c = client();
    const lease = await c.leases.grant(30);
    expect(c.leases.regionOf(lease.id)).toBe('eu-west-1');
    eu.mode = 503;
    expect((await get(c)).region).toBe('us-east-1'); // records move
    const e = await c.leases.keepalive(lease.id).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RegionUnavailableError);
    expect((e as RegionUnavailableError).cause).toBeInstanceOf(UnavailableError);
    for (const call of [
      () => c.locks.acquire('shop', 'l', lease.id),
      () => c.put('shop', 'k', { a: 1 }, { fence: { lock: 'l', token: 7 }, region: 'eu-west-1' }),
      () => c.put('shop', 'k', { a: 1 }, { leaseId: lease.id }),
    ])
      await expect(call()).rejects.toBeInstanceOf(RegionUnavailableError);
    expect(us.seen.map((s) => s.path)).toEqual(['/v1/ns/shop/keys/k']);
    eu.mode = 'ok';
    await c.leases.keepalive(lease.id); // the stay in us-east-1 does not move it
    expect(eu.seen.at(-1)?.path).toBe(`/v1/leases/${lease.id}/keepalive`);
    expect((await get(c)).region).toBe('us-east-1'); // nor does its answer end the stay
  });

  test('an answer to a request sent to a Region it names does not move the others there', async () => {
    const c = client({ preferRegion: 'us-east-1' });
    eu.mode = 'ok';
    const lease = await c.leases.grant(30);
    expect(c.leases.regionOf(lease.id)).toBe('us-east-1');
    const inEu = await c.request('GET', '/v1/ns/shop/keys/k', { region: 'eu-west-1' });
    expect(inEu.region).toBe('eu-west-1');
    expect((await get(c)).region).toBe('us-east-1');
  });

  test('failoverRegionLocal lets them move, as far as sending again is safe', async () => {
    eu.mode = 'refused';
    const c = client({ failoverRegionLocal: true });
    await expect(c.leases.grant(30)).rejects.toBeInstanceOf(NetworkError);
    const lease = await c.leases.grant(30, { idempotencyKey: 'grant-1' });
    expect(lease.id).toBe('lease-us-east-1');
    expect(c.leases.regionOf(lease.id)).toBe('us-east-1');
    expect(us.seen).toHaveLength(1);
  });

  test('a client of one url keeps its errors as they were', async () => {
    eu.mode = 503;
    const c = new VestaClient({ url: eu.url, retry: { maxAttempts: 1 } });
    await expect(c.leases.grant(30)).rejects.toBeInstanceOf(UnavailableError);
  });
});

test('a saga is read where it was started, also after other requests failed over', async () => {
  const c = client();
  const saga = await c.sagas.start({ id: 'saga-1' } as never);
  eu.mode = 503;
  expect((await get(c)).region).toBe('us-east-1');
  const e = await c.sagas.get(saga.id).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(RegionUnavailableError);
  expect((e as Error).message).toMatch(
    /Region eu-west-1 is unavailable .*its saga, snapshot or change cursor is there/,
  );
  expect(us.seen.filter((s) => s.path.includes('/sagas'))).toHaveLength(0);
});

describe('a change feed keeps to the Region of its cursor', () => {
  test('once it has a cursor it asks that Region only, and reports it unavailable', async () => {
    const c = client();
    const stream = c.watch('shop', { waitSeconds: 0 });
    const it = stream[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ key: 'eu-west-1/1' });
    expect(stream.region).toBe('eu-west-1');
    eu.mode = 503;
    expect((await get(c)).region).toBe('us-east-1'); // records move
    await expect(it.next()).rejects.toBeInstanceOf(RegionUnavailableError);
    expect(us.seen.filter((s) => s.path.includes('/changes'))).toHaveLength(0);
  });

  test('a cursor given at the start does not move either; with retry the outage is waited out', async () => {
    eu.mode = 'refused';
    const retried: unknown[] = [];
    const stop = new AbortController();
    const stream = client().watch('shop', {
      after: 'eu-west-1.7',
      waitSeconds: 0,
      signal: stop.signal,
      retry: {
        sleep: async () => {
          if (retried.length >= 2) stop.abort();
          return !stop.signal.aborted;
        },
        onRetry: (e) => retried.push(e),
      },
    });
    expect(await stream[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined }); // stopped
    expect(retried.length).toBeGreaterThanOrEqual(2);
    expect(retried.every((e) => e instanceof RegionUnavailableError)).toBe(true);
    expect(us.seen).toHaveLength(0);
  });
});

test('namespace settings are set in every Region, each request staying in its Region; a Region down stops it and names the Region', async () => {
  const c = client({ preferRegion: 'us-east-1' });
  await c.setNamespace('shop', { conflicts: 'siblings' });
  for (const r of [eu, us, ap]) {
    expect(r.seen.map((s) => `${s.method} ${s.path}`)).toEqual(['PUT /v1/ns/shop']);
  }

  ap.mode = 503;
  const e = await c.setNamespace('shop', { conflicts: 'reject' }).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(RegionUnavailableError);
  expect(String((e as Error).message)).toContain('ap-south-1');
  // The Regions before it were set; none moved its request to another Region.
  expect(us.seen).toHaveLength(2);
  expect(eu.seen).toHaveLength(2);
});

test('a client of one url sets namespace settings with one request', async () => {
  const c = new VestaClient({ url: eu.url, sleep: async () => undefined });
  await c.setNamespace('shop', { conflicts: 'siblings' });
  expect(eu.seen.map((s) => s.method)).toEqual(['PUT']);
});
