/**
 * `vesta watch <ns>`: follows a namespace's change log (`GET /v1/ns/{ns}/changes`) and prints each
 * change as one JSON line (NDJSON) until Ctrl-C.
 *
 * Where it starts: by default at the end of the log ("from now"). The API has no "from now" of
 * its own (without `after` it answers from the oldest change kept), so the watcher first pages
 * through what is kept, `MAX_CHANGES_LIMIT` at a time without waiting, and drops it, until a page
 * comes back short: the log's end when it was read. `--from-start` prints those changes instead,
 * `--cursor` goes on after a cursor a previous watch printed when it stopped.
 *
 * Then it long-polls with the returned cursor. Unreachable, throttled or unavailable moments are
 * retried with backoff (or after `Retry-After`) with one warning line each on standard error; a
 * cursor older than the changes kept (`410 CursorExpired`) ends the watch with exit code 3.
 */
import { ApiError, NetworkError, changes } from '../client';
import { backoffCeilingMs } from '../core/backoff';
import { type ChangeDetail, DEFAULT_CHANGES_LIMIT, MAX_CHANGES_LIMIT, MAX_WAIT_SECONDS } from '../core/changes';
import { stringifyJson } from '../core/json';
import { type Command, type OptionValues, flag, str } from './command';
import { UsageError } from './errors';
import { type WatchClock, systemWatchClock } from './keepalive';
import { EXIT_INTERRUPTED } from './saga-args';

/** Exit code when the cursor is older than the changes kept: this watcher missed changes. */
export const EXIT_CURSOR_EXPIRED = 3;
/** Seconds each request of the watch is held open by the API while nothing changes. */
export const WATCH_WAIT_SECONDS = MAX_WAIT_SECONDS;
/** A request that has not answered this long after its `wait` is given up and retried. */
export const REQUEST_GRACE_MS = 15_000;
/** First pause after a transient failure; it doubles with each failure in a row, up to the max. */
export const RETRY_BASE_MS = 500;
export const RETRY_MAX_MS = 30_000;
/** A `Retry-After` longer than this is cut to it. */
export const RETRY_AFTER_MAX_MS = 300_000;

/** One answer of `GET /v1/ns/{ns}/changes`. */
export interface ChangePage {
  readonly items: readonly ChangeDetail[];
  readonly cursor: string;
}

/** What one request asks: after `after` (from the oldest kept when undefined), at most `limit`, held `wait` seconds. */
export interface PageQuery {
  readonly after?: string;
  readonly limit: number;
  readonly wait: number;
}

/** Where the watch starts. */
export type WatchStart = { readonly kind: 'now' } | { readonly kind: 'start' } | { readonly kind: 'cursor'; readonly cursor: string };

/**
 * The start `--from-now` (the default), `--from-start` and `--cursor <c>` ask for.
 * Throws `UsageError` when more than one is given or the cursor is empty.
 */
export function parseWatchStart(values: OptionValues): WatchStart {
  const cursor = str(values, 'cursor');
  const given = [flag(values, 'from-now'), flag(values, 'from-start'), cursor !== undefined].filter(Boolean).length;
  if (given > 1) throw new UsageError('give at most one of --from-now, --from-start and --cursor', 'watch');
  if (cursor === '') throw new UsageError('--cursor expects the cursor a previous `vesta watch` printed when it stopped', 'watch');
  if (cursor !== undefined) return { kind: 'cursor', cursor };
  return flag(values, 'from-start') ? { kind: 'start' } : { kind: 'now' };
}

/** Parses `--limit <n>`: 1 to 1000 changes per request, the API's default when absent. Throws `UsageError`. */
export function parseWatchLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_CHANGES_LIMIT;
  const n = /^[0-9]{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_CHANGES_LIMIT)) {
    throw new UsageError(`--limit expects a whole number from 1 to ${MAX_CHANGES_LIMIT}. Received: ${JSON.stringify(text)}`, 'watch');
  }
  return n;
}

/** Failures that pass: no answer, throttling, an API that is briefly unavailable. */
export function isTransient(e: unknown): boolean {
  if (e instanceof NetworkError) return true;
  return e instanceof ApiError && [429, 502, 503, 504].includes(e.problem.status);
}

/**
 * The pause before retry number `failures` (1 for the first): the `Retry-After` of the answer when
 * it has one (the client reads seconds or an HTTP date into `retryAfterSeconds`), at most
 * `RETRY_AFTER_MAX_MS`, else a backoff doubling from `RETRY_BASE_MS` to `RETRY_MAX_MS`, its upper
 * half drawn by `random`. Never throws.
 */
export function retryDelayMs(e: unknown, failures: number, random: () => number = Math.random): number {
  const seconds = e instanceof ApiError ? e.retryAfterSeconds : undefined;
  if (seconds !== undefined && Number.isFinite(seconds)) return Math.min(Math.max(seconds * 1000, 0), RETRY_AFTER_MAX_MS);
  const ceiling = backoffCeilingMs(failures - 1, { baseMs: RETRY_BASE_MS, capMs: RETRY_MAX_MS });
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export interface FollowOptions {
  /** Sends one request. Rejects with `ApiError` or `NetworkError` (also when `signal` aborts). */
  readonly read: (query: PageQuery, signal: AbortSignal) => Promise<ChangePage>;
  readonly start: WatchStart;
  /** Changes per request while following. */
  readonly limit: number;
  readonly clock: WatchClock;
  /** Stops the watch (Ctrl-C). */
  readonly signal: AbortSignal;
  /** Receives every change, in log order. */
  readonly emit: (change: ChangeDetail) => void;
  /** Receives one line (without newline) per transient failure before it is retried. */
  readonly warn: (line: string) => void;
  /** Called once the start is found, before the first long poll. */
  readonly ready?: () => void;
  /** @default Math.random */
  readonly random?: () => number;
}

const STOPPED = Symbol('stopped');

/**
 * Follows the change log until `signal` aborts, then resolves with the cursor after the last change
 * emitted (undefined when none was read yet and the watch started with `--from-start`). Retries
 * transient failures without end. Throws `ApiError` for any other error answer, among them
 * `410 CursorExpired`.
 */
export async function followChanges(o: FollowOptions): Promise<string | undefined> {
  const random = o.random ?? Math.random;
  const ask = async (query: PageQuery): Promise<ChangePage | typeof STOPPED> => {
    for (let failures = 1; ; failures++) {
      try {
        return await o.read(query, o.signal);
      } catch (e) {
        if (o.signal.aborted) return STOPPED;
        if (!isTransient(e)) throw e;
        const ms = retryDelayMs(e, failures, random);
        o.warn(`warning: ${(e as Error).message}; retrying in ${(ms / 1000).toFixed(1)} s (attempt ${failures + 1})`);
        if (!(await o.clock.sleep(ms, o.signal))) return STOPPED;
      }
    }
  };
  let cursor = o.start.kind === 'cursor' ? o.start.cursor : undefined;
  if (o.start.kind === 'now') {
    for (;;) {
      const page = await ask({ after: cursor, limit: MAX_CHANGES_LIMIT, wait: 0 });
      if (page === STOPPED) return cursor;
      cursor = page.cursor;
      if (page.items.length < MAX_CHANGES_LIMIT) break;
    }
  }
  o.ready?.();
  for (;;) {
    const page = await ask({ after: cursor, limit: o.limit, wait: WATCH_WAIT_SECONDS });
    if (page === STOPPED) return cursor;
    for (const change of page.items) o.emit(change);
    cursor = page.cursor;
  }
}

function expiredMessage(e: ApiError, ns: string): string {
  return [
    `error: ${e.problem.code} (${e.problem.status}): ${e.problem.detail ?? e.problem.title ?? ''}`,
    `hint: changes after that cursor are no longer kept (they are kept 24 hours), so some were missed; re-read the records you follow (\`vesta ls ${ns}\`), then watch again with --from-now, or --from-start for every change still kept`,
    '',
  ].join('\n');
}

export const watchCommand: Command = {
  name: 'watch',
  args: ['ns'],
  synopsis: '[--prefix <p>] [--from-now | --from-start | --cursor <c>] [--limit <n>]',
  summary: 'print the changes of a namespace as they happen, one JSON line each',
  details: [
    'Prints each committed change as one line of JSON until Ctrl-C, oldest first, for `jq` and',
    'friends: {"id", "namespace", "key", "rev", "vv", "change", "fields", "siblings"?}, change one',
    'of put, patch, delete and expire (no fields for delete and expire). Every change is printed',
    'once, and the changes of one key in the order they were committed. On Ctrl-C it prints on',
    'standard error the `vesta watch ... --cursor <c>` that goes on from there without a gap.',
    '  --prefix <p>            only keys that start with <p>',
    '  --from-now              start with the next change (the default): the changes kept so far',
    '                          are read once and skipped, 1000 per request',
    '  --from-start            start with the oldest change kept (changes are kept 24 hours)',
    '  --cursor <c>            go on after <c>, a cursor a previous watch printed when it stopped',
    `  --limit <n>             at most <n> changes per request, 1 to ${MAX_CHANGES_LIMIT} (default ${DEFAULT_CHANGES_LIMIT})`,
    'When the API cannot be reached, is throttled or unavailable, the watch waits (Retry-After, else',
    `a backoff up to ${RETRY_MAX_MS / 1000} s) and tries again, with one warning line on standard error each time.`,
  ].join('\n'),
  exitCodes: [
    `Exit codes: 130 Ctrl-C stopped the watch; ${EXIT_CURSOR_EXPIRED} the cursor is older than the changes kept`,
    '(410 CursorExpired: changes were missed, the hint says how to start again); 1 the API answered',
    'with another error; 2 the command line is wrong (nothing was sent).',
  ].join('\n'),
  options: {
    prefix: { type: 'string' },
    'from-now': { type: 'boolean' },
    'from-start': { type: 'boolean' },
    cursor: { type: 'string' },
    limit: { type: 'string' },
  },
  async run({ args: [ns], values, connect, io }) {
    const start = parseWatchStart(values);
    const limit = parseWatchLimit(str(values, 'limit'));
    const prefix = str(values, 'prefix') || undefined;
    // Each request is tried once: the watch retries without end, one warning line per failure.
    const client = connect({ retry: { maxAttempts: 1 }, timeoutMs: REQUEST_GRACE_MS });
    const scope = `${ns}${prefix ? ` (keys starting ${JSON.stringify(prefix)})` : ''}`;
    const from = start.kind === 'now' ? 'from now' : start.kind === 'start' ? 'from the oldest change kept' : 'after the cursor';
    let cursor: string | undefined;
    let following = false;
    try {
      cursor = await followChanges({
        start,
        limit,
        clock: systemWatchClock,
        signal: io.interrupt?.() ?? new AbortController().signal,
        read: async (q, signal) => (await changes(client, ns, { after: q.after, prefix, limit: q.limit, wait: q.wait, signal })) as ChangePage,
        emit: (change) => io.out(`${stringifyJson(change)}\n`),
        warn: (line) => io.err(`${line}\n`),
        ready: () => {
          following = true;
          io.err(`watching ${scope} ${from}; one JSON line per change, Ctrl-C to stop\n`);
        },
      });
    } catch (e) {
      if (!(e instanceof ApiError && e.problem.code === 'CursorExpired')) throw e;
      io.err(expiredMessage(e, ns));
      return EXIT_CURSOR_EXPIRED;
    }
    // Stopped while skipping to the end, a cursor would print what was being skipped.
    const resumable = cursor !== undefined && (following || start.kind !== 'now');
    const again = resumable ? `--cursor ${cursor}` : start.kind === 'start' ? '--from-start' : '--from-now';
    io.err(`stopped at ${new Date().toISOString()}; \`vesta watch ${ns}${prefix ? ` --prefix ${prefix}` : ''} ${again}\` goes on from here\n`);
    return EXIT_INTERRUPTED;
  },
};
