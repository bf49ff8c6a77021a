import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { ChangeDetail } from '../../src/core/changes';
import { findCommand } from '../../src/cli/commands';
import {
  ApiError,
  ChangeStream,
  NetworkError,
  RETRY_AFTER_MAX_MS,
  RETRY_BASE_MS,
  RETRY_MAX_MS,
  type Requester,
  isTransient,
  retryDelayMs,
} from '../../src/client';
import { UsageError } from '../../src/cli/errors';
import type { WatchClock } from '../../src/cli/keepalive';
import {
  EXIT_CURSOR_EXPIRED,
  WATCH_WAIT_SECONDS,
  type WatchStart,
  followChanges,
  parseWatchLimit,
  parseWatchStart,
} from '../../src/cli/watch-commands';
import { type Document, parseAllDocuments } from 'yaml';
import { runCli } from '../cli-harness';

const change = (key: string, rev = 1, kind: ChangeDetail['change'] = 'put'): ChangeDetail => ({
  id: `${key}-${rev}`,
  namespace: 'shop',
  key,
  rev,
  vv: { local: rev },
  change: kind,
  ...(kind === 'delete' || kind === 'expire' ? {} : { fields: { rev } }),
});

const problem = (status: number, code: string, retryAfterSeconds?: number) =>
  new ApiError({ status, code, detail: code }, undefined, retryAfterSeconds);

/** A clock whose sleeps end at once, recording each pause; false once the signal aborted. */
function fakeClock(): WatchClock & { readonly slept: number[] } {
  const slept: number[] = [];
  return {
    slept,
    now: () => 0,
    sleep: async (ms, signal) => {
      slept.push(ms);
      return !signal.aborted;
    },
  };
}

type Answer = { items: ChangeDetail[]; cursor: string } | Error;

/** What one request of the stream asked for. */
interface PageQuery {
  readonly after?: string;
  readonly limit: number;
  readonly wait: number;
}

/**
 * Runs `followChanges` on the client's stream against scripted answers, one per request; once
 * they run out the watch is stopped, as by Ctrl-C. Returns the queries sent, what was printed and
 * warned, and the cursor.
 */
async function follow(start: WatchStart, answers: Answer[], limit = 100) {
  const controller = new AbortController();
  const queries: PageQuery[] = [];
  const emitted: string[] = [];
  const warned: string[] = [];
  const events: string[] = [];
  const clock = fakeClock();
  const api: Requester = {
    request: async <T>(_method: string, _path: string, opts: { query?: Record<string, unknown> } = {}) => {
      const { after, limit, wait } = opts.query as unknown as PageQuery;
      queries.push({ after, limit, wait });
      const next = answers.shift();
      if (!next) {
        controller.abort();
        throw new NetworkError('http://x', 'aborted');
      }
      if (next instanceof Error) throw next;
      return { status: 200, body: next as T };
    },
  };
  const cursor = await followChanges({
    start,
    limit,
    clock,
    signal: controller.signal,
    random: () => 0,
    open: (opts) => new ChangeStream(api, 'shop', opts),
    emit: (c) => {
      emitted.push(`${c.change} ${c.key}@${c.rev}`);
      events.push('emit');
    },
    warn: (line) => warned.push(line),
    ready: () => events.push('ready'),
  });
  return { queries, emitted, warned, cursor, slept: clock.slept, events };
}

describe('where the watch starts', () => {
  test('from now by default, or as asked by --from-now, --from-start or --cursor', () => {
    expect(parseWatchStart({})).toEqual({ kind: 'now' });
    expect(parseWatchStart({ 'from-now': true })).toEqual({ kind: 'now' });
    expect(parseWatchStart({ 'from-start': true })).toEqual({ kind: 'start' });
    expect(parseWatchStart({ cursor: 'YzEuNy5zaG9w' })).toEqual({ kind: 'cursor', cursor: 'YzEuNy5zaG9w' });
  });

  test.each([
    [{ 'from-now': true, 'from-start': true }, /at most one of/],
    [{ 'from-start': true, cursor: 'c' }, /at most one of/],
    [{ cursor: '' }, /--cursor expects/],
  ])('%j is a usage error of watch', (values, message) => {
    expect(() => parseWatchStart(values)).toThrow(message);
    expect(() => parseWatchStart(values)).toThrow(expect.objectContaining({ command: 'watch' }));
  });

  test('--limit is 1 to 1000 changes per request, 100 when absent', () => {
    expect(parseWatchLimit(undefined)).toBe(100);
    expect(parseWatchLimit('1')).toBe(1);
    expect(parseWatchLimit('1000')).toBe(1000);
    for (const bad of ['0', '1001', '-1', '2.5', 'ten', '']) expect(() => parseWatchLimit(bad)).toThrow(UsageError);
  });
});

describe('following the change log', () => {
  test('from now skips the changes kept, 1000 a page until a short page, then long-polls from that cursor', async () => {
    const full = Array.from({ length: 1000 }, (_, i) => change(`old/${i}`));
    const r = await follow({ kind: 'now' }, [
      { items: full, cursor: 'c1000' },
      { items: [change('old/x')], cursor: 'c1001' },
      { items: [change('a'), change('b')], cursor: 'c1003' },
      { items: [], cursor: 'c1003' },
      { items: [change('a', 2, 'patch'), change('b', 2, 'delete')], cursor: 'c1005' },
    ]);

    expect(r.queries.slice(0, 3)).toEqual([
      { after: undefined, limit: 1000, wait: 0 },
      { after: 'c1000', limit: 1000, wait: 0 },
      { after: 'c1001', limit: 100, wait: WATCH_WAIT_SECONDS },
    ]);
    expect(r.queries.slice(3).map((q) => q.after)).toEqual(['c1003', 'c1003', 'c1005']);
    expect(r.emitted).toEqual(['put a@1', 'put b@1', 'patch a@2', 'delete b@2']);
    expect(r.events[0]).toBe('ready');
    expect(r.cursor).toBe('c1005');
  });

  test('from an empty log the first page is short: nothing is skipped twice', async () => {
    const r = await follow(
      { kind: 'now' },
      [
        { items: [], cursor: 'c0' },
        { items: [change('k')], cursor: 'c1' },
      ],
      5,
    );
    expect(r.queries.map((q) => [q.after, q.limit, q.wait])).toEqual([
      [undefined, 1000, 0],
      ['c0', 5, WATCH_WAIT_SECONDS],
      ['c1', 5, WATCH_WAIT_SECONDS],
    ]);
    expect(r.emitted).toEqual(['put k@1']);
  });

  test('--from-start prints what is kept; --cursor goes on after the cursor', async () => {
    const fromStart = await follow({ kind: 'start' }, [
      { items: [change('a'), change('a', 2, 'expire')], cursor: 'c2' },
    ]);
    expect(fromStart.queries[0]).toEqual({ after: undefined, limit: 100, wait: WATCH_WAIT_SECONDS });
    expect(fromStart.emitted).toEqual(['put a@1', 'expire a@2']);

    const resumed = await follow({ kind: 'cursor', cursor: 'c7' }, [{ items: [change('z', 3)], cursor: 'c8' }]);
    expect(resumed.queries.map((q) => q.after)).toEqual(['c7', 'c8']);
    expect(resumed.emitted).toEqual(['put z@3']);
    expect(resumed.cursor).toBe('c8');
  });

  test('stopped before the first answer, it resolves with the cursor it was given, or none', async () => {
    expect((await follow({ kind: 'cursor', cursor: 'c7' }, [])).cursor).toBe('c7');
    expect((await follow({ kind: 'start' }, [])).cursor).toBeUndefined();
  });

  test('transient failures are retried with one warning each, after Retry-After or a growing backoff', async () => {
    const r = await follow({ kind: 'start' }, [
      problem(503, 'Unavailable', 3),
      new NetworkError('http://127.0.0.1:8080', 'ECONNREFUSED'),
      problem(429, 'Throttled'),
      { items: [change('a')], cursor: 'c1' },
    ]);

    expect(r.slept).toEqual([3000, RETRY_BASE_MS, 2 * RETRY_BASE_MS]);
    expect(r.warned).toHaveLength(3);
    expect(r.warned[0]).toMatch(/^warning: Unavailable \(503\): Unavailable; retrying in 3\.0 s \(attempt 2\)$/);
    expect(r.warned[1]).toContain('could not reach http://127.0.0.1:8080: ECONNREFUSED');
    expect(r.emitted).toEqual(['put a@1']);
    expect(r.queries.map((q) => q.after)).toEqual([undefined, undefined, undefined, undefined, 'c1']);
  });

  test('an expired cursor and other error answers end the watch', async () => {
    await expect(follow({ kind: 'cursor', cursor: 'c1' }, [problem(410, 'CursorExpired')])).rejects.toThrow(
      /CursorExpired/,
    );
    await expect(follow({ kind: 'now' }, [problem(400, 'ValidationError')])).rejects.toThrow(ApiError);
    await expect(follow({ kind: 'now' }, [problem(500, 'InternalError')])).rejects.toThrow(ApiError);
  });
});

describe('retry pauses', () => {
  test('honour Retry-After (as the client read it, in seconds), up to five minutes', () => {
    expect(retryDelayMs(problem(503, 'Unavailable', 7), 1)).toBe(7000);
    expect(retryDelayMs(problem(429, 'Throttled', 10), 1)).toBe(10_000);
    expect(retryDelayMs(problem(503, 'Unavailable', 86400), 1)).toBe(RETRY_AFTER_MAX_MS);
  });

  test('otherwise double from 0.5 s up to 30 s, drawn in the upper half', () => {
    const e = new NetworkError('http://x', 'ECONNREFUSED');
    expect([1, 2, 3, 4].map((n) => retryDelayMs(e, n, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelayMs(e, 3, () => 0)).toBe(1000);
    expect(retryDelayMs(e, 50, () => 1)).toBe(RETRY_MAX_MS);
    expect(retryDelayMs(problem(503, 'Unavailable'), 1, () => 1)).toBe(RETRY_BASE_MS);
  });

  test('only unreachable, throttled and unavailable moments are transient', () => {
    expect(isTransient(new NetworkError('http://x', 'ECONNRESET'))).toBe(true);
    for (const s of [429, 502, 503, 504]) expect(isTransient(problem(s, 'X'))).toBe(true);
    for (const s of [400, 404, 410, 500]) expect(isTransient(problem(s, 'X'))).toBe(false);
    expect(isTransient(new Error('bug'))).toBe(false);
  });
});

describe('vesta watch against a fake API that follows the contract', () => {
  let server: Server;
  let url: string;
  let handle: (req: IncomingMessage, res: ServerResponse, q: URLSearchParams) => void;
  const requests: URLSearchParams[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      requests.push(u.searchParams);
      handle(req, res, u.searchParams);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  beforeEach(() => {
    requests.length = 0;
  });

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' });
    res.end(JSON.stringify(body));
  };

  function watch(argv: string[], stopWhen: (out: string, err: string) => boolean) {
    const controller = new AbortController();
    return runCli(['watch', ...argv], {
      url,
      interrupt: () => controller.signal,
      onWrite: (stdout, stderr) => {
        if (stopWhen(stdout, stderr)) controller.abort();
      },
    });
  }

  test('prints one JSON line per change, and on Ctrl-C the command that goes on from there (exit 130)', async () => {
    handle = (_req, res, q) => {
      if (q.get('wait') === '0') return reply(res, 200, { items: [change('old')], cursor: 'c1' });
      if (q.get('after') === 'c1')
        return reply(res, 200, { items: [change('cart/1'), change('cart/1', 2, 'patch')], cursor: 'c3' });
      setTimeout(() => reply(res, 200, { items: [], cursor: q.get('after') }), 20);
    };

    const r = await watch(['shop', '--prefix', 'cart/'], (out) => out.split('\n').length > 2);

    expect(r.code).toBe(130);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([change('cart/1'), change('cart/1', 2, 'patch')]);
    expect(r.stderr).toContain('watching shop (keys starting "cart/") from now');
    expect(r.stderr).toMatch(/stopped at .*; `vesta watch shop --prefix cart\/ --cursor c3` goes on from here/);
    expect(requests[0].get('prefix')).toBe('cart/');
    expect(requests[1].get('wait')).toBe(String(WATCH_WAIT_SECONDS));
  });

  test('with --output yaml prints a YAML stream, one document per change', async () => {
    handle = (_req, res, q) => {
      if (q.get('wait') === '0') return reply(res, 200, { items: [], cursor: 'c1' });
      if (q.get('after') === 'c1')
        return reply(res, 200, { items: [change('cart/1'), change('cart/1', 2, 'patch')], cursor: 'c3' });
      setTimeout(() => reply(res, 200, { items: [], cursor: q.get('after') }), 20);
    };

    const r = await watch(['shop', '--output', 'yaml'], (out) => out.split('---\n').length > 2);

    expect(r.code).toBe(130);
    expect(r.stdout.startsWith('---\n')).toBe(true);
    expect(parseAllDocuments(r.stdout).map((d) => (d as Document).toJS())).toEqual([
      change('cart/1'),
      change('cart/1', 2, 'patch'),
    ]);
    expect(r.stderr).toContain('watching shop from now; one YAML document per change');
  });

  test('an expired cursor exits 3 with what to do on standard error', async () => {
    handle = (_req, res) =>
      reply(res, 410, { status: 410, code: 'CursorExpired', detail: 'changes after this cursor are no longer kept' });

    const r = await watch(['shop', '--cursor', 'old'], () => false);

    expect(r.code).toBe(EXIT_CURSOR_EXPIRED);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error: CursorExpired (410): changes after this cursor are no longer kept');
    expect(r.stderr).toMatch(/hint: .*some were missed.*--from-now, or --from-start/);
  });

  test('a 503 with Retry-After is waited out with one warning line, then the watch goes on', async () => {
    let failed = false;
    handle = (_req, res, q) => {
      if (!failed) {
        failed = true;
        res.setHeader('retry-after', '0');
        return reply(res, 503, { status: 503, code: 'Unavailable', detail: 'try again' });
      }
      reply(res, 200, { items: q.get('after') ? [] : [change('k')], cursor: 'c1' });
    };

    const r = await watch(['shop', '--from-start'], (out) => out.includes('"key":"k"'));

    expect(r.code).toBe(130);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toEqual([
      'warning: Unavailable (503): try again; retrying in 0.0 s (attempt 2)',
    ]);
    expect(JSON.parse(r.stdout)).toEqual(change('k'));
  });

  test('conflicting start options exit 2 and send nothing', async () => {
    const r = await watch(['shop', '--from-start', '--cursor', 'c1'], () => false);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('hint: see `vesta watch --help`');
    expect(requests).toHaveLength(0);
  });

  test('watch is listed and has its own help', async () => {
    expect(findCommand(['watch'])?.name).toBe('watch');
    const own = await runCli(['watch', '--help']);
    expect(own.code).toBe(0);
    expect(own.stdout).toContain(
      'usage: vesta watch <ns> [--prefix <p>] [--from-now | --from-start | --cursor <c>] [--limit <n>]',
    );
    expect(own.stdout).toContain('130 Ctrl-C stopped the watch');
    const tool = await runCli(['--help']);
    expect(tool.code).toBe(0);
    expect(tool.stdout).toMatch(/\n {2}watch +print the changes of a namespace as they happen/);
  });
});
