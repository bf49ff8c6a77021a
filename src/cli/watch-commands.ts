/**
 * `vesta watch <ns>`: follows a namespace's change log (`GET /v1/ns/{ns}/changes`) and prints each
 * change as one JSON line (NDJSON), or with `--output yaml` as one YAML document (a YAML stream),
 * until Ctrl-C.
 *
 * It reads with the client's change stream (`client.watch`). Where it starts: by default at the end
 * of the log ("from now", `after: 'now'`): the API has no "from now" of its own, so the stream
 * first pages through what is kept, 1000 at a time without waiting, and drops it, until a page
 * comes back short. `--from-start` prints those changes instead, `--cursor` goes on after a
 * cursor a previous watch printed when it stopped.
 *
 * Then the stream long-polls with the returned cursor. Unreachable, throttled or unavailable
 * moments are retried with backoff (or after `Retry-After`, the stream's `retry` option) with one
 * warning line each on standard error; a cursor older than the changes kept (`410 CursorExpired`)
 * ends the watch with exit code 3.
 */
import { ApiError, type ChangeStream, RETRY_MAX_MS, type WatchOptions } from '../client';
import { type Change as ChangeDetail, DEFAULT_CHANGES_LIMIT, MAX_CHANGES_LIMIT, MAX_WAIT_SECONDS } from '../client';
import type { Command } from './command';
import { type OptionValues, flag, str } from './options';
import { UsageError } from './errors';
import { type WatchClock, systemWatchClock } from './keepalive';
import { EXIT_INTERRUPTED } from './saga-args';

/** Exit code when the cursor is older than the changes kept: this watcher missed changes. */
export const EXIT_CURSOR_EXPIRED = 3;
/** Seconds each request of the watch is held open by the API while nothing changes. */
export const WATCH_WAIT_SECONDS = MAX_WAIT_SECONDS;
/** A request that has not answered this long after its `wait` is given up and retried. */
export const REQUEST_GRACE_MS = 15_000;

/** Where the watch starts. */
export type WatchStart =
  | { readonly kind: 'now' }
  | { readonly kind: 'start' }
  | { readonly kind: 'cursor'; readonly cursor: string };

/**
 * The start `--from-now` (the default), `--from-start` and `--cursor <c>` ask for.
 * Throws `UsageError` when more than one is given or the cursor is empty.
 */
export function parseWatchStart(values: OptionValues): WatchStart {
  const cursor = str(values, 'cursor');
  const given = [flag(values, 'from-now'), flag(values, 'from-start'), cursor !== undefined].filter(Boolean).length;
  if (given > 1) throw new UsageError('give at most one of --from-now, --from-start and --cursor', 'watch');
  if (cursor === '')
    throw new UsageError('--cursor expects the cursor a previous `vesta watch` printed when it stopped', 'watch');
  if (cursor !== undefined) return { kind: 'cursor', cursor };
  return flag(values, 'from-start') ? { kind: 'start' } : { kind: 'now' };
}

/** Parses `--limit <n>`: 1 to 1000 changes per request, the API's default when absent. Throws `UsageError`. */
export function parseWatchLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_CHANGES_LIMIT;
  const n = /^[0-9]{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_CHANGES_LIMIT)) {
    throw new UsageError(
      `--limit expects a whole number from 1 to ${MAX_CHANGES_LIMIT}. Received: ${JSON.stringify(text)}`,
      'watch',
    );
  }
  return n;
}

export interface FollowOptions {
  /** Opens the change stream with the options given: the client's `watch` of the namespace. */
  readonly open: (opts: WatchOptions) => ChangeStream;
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

/**
 * Follows the change log with the client's stream until `signal` aborts, then resolves with the
 * cursor after the last change emitted (undefined when none was read yet and the watch started
 * with `--from-start`). Retries transient failures without end, one warning each. Throws
 * `ApiError` for any other error answer, among them `410 CursorExpired`.
 */
export async function followChanges(o: FollowOptions): Promise<string | undefined> {
  const stream = o.open({
    after: o.start.kind === 'now' ? 'now' : o.start.kind === 'cursor' ? o.start.cursor : undefined,
    limit: o.limit,
    waitSeconds: WATCH_WAIT_SECONDS,
    signal: o.signal,
    retry: {
      random: o.random,
      sleep: (ms, signal) => o.clock.sleep(ms, signal),
      onRetry: (e, attempt, ms) =>
        o.warn(`warning: ${(e as Error).message}; retrying in ${(ms / 1000).toFixed(1)} s (attempt ${attempt})`),
    },
  });
  try {
    await stream.start();
  } catch (e) {
    if (o.signal.aborted) return stream.cursor;
    throw e;
  }
  o.ready?.();
  // The changes come as the API sends them (the client types their common members).
  for await (const change of stream) o.emit(change as ChangeDetail);
  return stream.cursor;
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
  summary: 'print the changes of a namespace as they happen, one JSON line each',
  about: [
    'Prints each committed change as one line of JSON until Ctrl-C, oldest first, for `jq` and',
    'friends: {"id", "namespace", "key", "rev", "vv", "change", "fields", "siblings"?}, change one',
    'of put, patch, delete and expire (no fields for delete and expire). Every change is printed',
    'once, and the changes of one key in the order they were committed. On Ctrl-C it prints on',
    'standard error the `vesta watch ... --cursor <c>` that goes on from there without a gap.',
    'With --output yaml, each change is one YAML document starting with `---` instead.',
  ].join('\n'),
  options: {
    prefix: { type: 'string', value: '<p>', help: ['only keys that start with <p>'] },
    'from-now': {
      type: 'boolean',
      help: [
        'start with the next change (the default): the changes kept so far',
        `are read once and skipped, ${MAX_CHANGES_LIMIT} per request`,
      ],
    },
    'from-start': {
      type: 'boolean',
      or: true,
      help: ['start with the oldest change kept (changes are kept 24 hours)'],
    },
    cursor: {
      type: 'string',
      value: '<c>',
      or: true,
      help: ['go on after <c>, a cursor a previous watch printed when it stopped'],
    },
    limit: {
      type: 'string',
      value: '<n>',
      help: [`at most <n> changes per request, 1 to ${MAX_CHANGES_LIMIT} (default ${DEFAULT_CHANGES_LIMIT})`],
    },
  },
  notes: [
    'When the API cannot be reached, is throttled or unavailable, the watch waits (Retry-After, else',
    `a backoff up to ${RETRY_MAX_MS / 1000} s) and tries again, with one warning line on standard error each time.`,
  ].join('\n'),
  exitCodes: [
    `Exit codes: 130 Ctrl-C stopped the watch; ${EXIT_CURSOR_EXPIRED} the cursor is older than the changes kept`,
    '(410 CursorExpired: changes were missed, the hint says how to start again); 1 the API answered',
    'with another error; 2 the command line is wrong (nothing was sent).',
  ].join('\n'),
  async run({ args: [ns], values, connect, io, output }) {
    const start = parseWatchStart(values);
    const limit = parseWatchLimit(str(values, 'limit'));
    const prefix = str(values, 'prefix') || undefined;
    // Each request is tried once: the watch retries without end, one warning line per failure.
    const client = connect({ retry: { maxAttempts: 1 }, timeoutMs: REQUEST_GRACE_MS });
    const scope = `${ns}${prefix ? ` (keys starting ${JSON.stringify(prefix)})` : ''}`;
    const from =
      start.kind === 'now' ? 'from now' : start.kind === 'start' ? 'from the oldest change kept' : 'after the cursor';
    const perChange = output.format === 'yaml' ? 'one YAML document per change' : 'one JSON line per change';
    let cursor: string | undefined;
    let following = false;
    try {
      cursor = await followChanges({
        start,
        limit,
        clock: systemWatchClock,
        signal: io.interrupt?.() ?? new AbortController().signal,
        open: (opts) => client.watch(ns, { ...opts, prefix }),
        emit: (change) => output.printItem(change),
        warn: (line) => io.err(`${line}\n`),
        ready: () => {
          following = true;
          io.err(`watching ${scope} ${from}; ${perChange}, Ctrl-C to stop\n`);
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
    io.err(
      `stopped at ${new Date().toISOString()}; \`vesta watch ${ns}${prefix ? ` --prefix ${prefix}` : ''} ${again}\` goes on from here\n`,
    );
    return EXIT_INTERRUPTED;
  },
};
