/**
 * Dead letters: what a background path (change publisher, snapshot export, restore, lease reaper,
 * lease renewer, field sweeper) sets aside when one item fails for itself, so that the items after it flow.
 *
 * Lifecycle of an entry: a path tries an item up to `ITEM_ATTEMPTS` times (`tryItem`); when the
 * last failure is a dependency failure (throttling, an unreachable store) the path stops and is
 * retried as a whole by its scheduler, because then every item would fail alike. Otherwise the
 * item is set aside: an entry with the item's identity, the error, the attempts and what a replay
 * needs, counted in the `DeadLetters` metric (dimension `source`). An operator lists and reads
 * entries, replays one (the item is processed again: success removes the entry, failure keeps it
 * with the new error and one more attempt) or discards it. Entries expire after
 * `DEAD_LETTER_RETENTION_DAYS` (DynamoDB TTL).
 *
 * An entry's id is derived from its source and the item's identity, so setting the same item
 * aside again (a retried stream batch, the next reaper run) updates one entry instead of adding
 * another. Pure: no I/O here.
 */
import { createHash } from 'node:crypto';
import { backoffCeilingMs, sleep } from './backoff';
import { NotFoundError, ThrottledError, UnavailableError, ValidationError } from './errors';
import { type DimensionedMetrics, METRIC_NAMES } from './metric-names';
import type { DeadLetterReplayer, DeadLetterStore } from './ports';
import {
  DEAD_LETTER_SOURCES,
  type DeadLetter,
  type DeadLetterError,
  type DeadLetterInput,
  type DeadLetterItem,
  type DeadLetterSource,
  type ReplayOutcome,
} from './dead-letter-types';

export * from './dead-letter-types';

/** Entries are kept this long after they were last set aside (DynamoDB TTL removes them). */
export const DEAD_LETTER_RETENTION_DAYS = 14;
/** Tries of one item before it is set aside (the first try included). */
export const ITEM_ATTEMPTS = 3;
/** Pause before the second try; doubled before each later one. */
export const ITEM_BACKOFF_MS = 50;
/** Listing bounds of `GET /v1/dead-letters`. */
export const DEFAULT_DEAD_LETTER_LIMIT = 50;
export const MAX_DEAD_LETTER_LIMIT = 500;
/** Characters of an error message kept in an entry. */
export const MAX_ERROR_MESSAGE_CHARS = 2048;

/** `<source>-<32 hex>`. */
export const DEAD_LETTER_ID_PATTERN = new RegExp(`^(${DEAD_LETTER_SOURCES.join('|')})-[0-9a-f]{32}$`);

export function isDeadLetterSource(v: unknown): v is DeadLetterSource {
  return typeof v === 'string' && (DEAD_LETTER_SOURCES as readonly string[]).includes(v);
}

/** The id of the entry of an item: the same source and identity give the same id. */
export function deadLetterId(source: DeadLetterSource, item: DeadLetterItem): string {
  const identity = Object.keys(item)
    .sort()
    .map((k) => `${k}=${String(item[k])}`)
    .join('\u0000');
  return `${source}-${createHash('sha256').update(`${source}\u0000${identity}`).digest('hex').slice(0, 32)}`;
}

/** Whether `id` can name an entry at all (an id that cannot names none: 404). Never throws. */
export function isDeadLetterId(id: string): boolean {
  return DEAD_LETTER_ID_PATTERN.test(id);
}

/** The name and message of anything thrown, the message cut to `MAX_ERROR_MESSAGE_CHARS`. Never throws. */
export function errorOf(e: unknown): DeadLetterError {
  const name = e instanceof Error ? e.name : typeof e;
  const message = e instanceof Error ? e.message : String(e);
  return { name: name || 'Error', message: message.slice(0, MAX_ERROR_MESSAGE_CHARS) };
}

/**
 * Whether a failure is the dependency's (throttled, unreachable) rather than the item's: then the
 * path stops and is retried as a whole instead of setting items aside. Errors must be translated
 * to the domain's first (the adapters do).
 */
export function isDependencyFailure(e: unknown): boolean {
  return e instanceof ThrottledError || e instanceof UnavailableError;
}

export type ItemOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown; readonly attempts: number };

export interface TryItemOptions {
  /** @default ITEM_ATTEMPTS */
  readonly attempts?: number;
  /** @default ITEM_BACKOFF_MS */
  readonly backoffMs?: number;
  /** Maps a thrown value to the domain's errors before it is judged. @default as thrown */
  readonly translate?: (e: unknown) => unknown;
}

/**
 * Runs one item's processing, retrying it. Resolves `{ok: true}` with its value, or `{ok: false}`
 * with the last error when the item failed for itself (then set it aside). Throws the last error
 * when it is a dependency failure (`isDependencyFailure`): the caller stops and is retried whole.
 */
export async function tryItem<T>(run: () => Promise<T>, opts: TryItemOptions = {}): Promise<ItemOutcome<T>> {
  const attempts = opts.attempts ?? ITEM_ATTEMPTS;
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await sleep(backoffCeilingMs(i - 1, { baseMs: opts.backoffMs ?? ITEM_BACKOFF_MS }));
    try {
      return { ok: true, value: await run() };
    } catch (e) {
      last = opts.translate ? opts.translate(e) : e;
    }
  }
  if (isDependencyFailure(last)) throw last;
  return { ok: false, error: last, attempts };
}

/** Throws `ValidationError` (field `source`) for a value that names no source. */
export function parseSource(raw: string | undefined): DeadLetterSource | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!isDeadLetterSource(raw))
    throw new ValidationError(
      'source',
      `must be one of ${DEAD_LETTER_SOURCES.join(', ')}. Received: ${JSON.stringify(raw)}`,
    );
  return raw;
}

/** What `replayDeadLetter` needs: the entries and a replayer per source it serves. */
export interface ReplayDeps {
  readonly store: DeadLetterStore;
  readonly replayers: Partial<Record<DeadLetterSource, DeadLetterReplayer>>;
}

/**
 * Replays entry `id`: processes its item again (`replayers[source]`), then removes the entry; when
 * the item fails again, keeps the entry with the new error and one more attempt. Throws
 * `NotFoundError` when there is no such entry, `ValidationError` when no replayer serves its
 * source here, and dependency failures as they are (the entry is then untouched).
 */
export async function replayDeadLetter(id: string, deps: ReplayDeps): Promise<ReplayOutcome> {
  const entry = isDeadLetterId(id) ? await deps.store.get(id) : undefined;
  if (!entry) throw new NotFoundError(`no dead letter ${id}`);
  const replayer = deps.replayers[entry.source];
  if (!replayer) throw new ValidationError('id', `entries of source ${entry.source} cannot be replayed here`);
  try {
    await replayer(entry);
  } catch (e) {
    if (isDependencyFailure(e)) throw e;
    const kept = await deps.store.put({
      source: entry.source,
      item: entry.item,
      error: errorOf(e),
      attempts: 1,
      payload: entry.payload,
    });
    return { id, status: 'FAILED', entry: kept };
  }
  await deps.store.remove(id);
  return { id, status: 'REPLAYED' };
}

/** What a path counts dead letters with: Powertools `Metrics` satisfies it as it is. */
export type DeadLetterMetrics = DimensionedMetrics;

/** Sets one item aside; resolves to its entry. See `deadLetterSink`. */
export type SetAside = (input: DeadLetterInput) => Promise<DeadLetter>;

/**
 * How a background path sets items aside: records the entry, counts it (`DeadLetters`, dimension
 * `source`, one EMF line at once) and logs it. Throws what the store throws (the item is then not
 * set aside: the path must not move past it); a metrics or log failure is ignored.
 */
export function deadLetterSink(
  store: DeadLetterStore,
  metrics?: DeadLetterMetrics,
  logger?: { warn(message: string, extra: Record<string, unknown>): void },
): SetAside {
  return async (input) => {
    const entry = await store.put(input);
    try {
      const m = metrics?.singleMetric();
      m?.addDimension('source', input.source);
      m?.addMetric(METRIC_NAMES.deadLetters, 'Count', 1);
      logger?.warn('item set aside as a dead letter', {
        id: entry.id,
        source: input.source,
        item: input.item,
        error: input.error,
        attempts: entry.attempts,
      });
    } catch {
      // Counting is best effort; the entry is recorded.
    }
    return entry;
  };
}

/** The event a background function gets when the API asks it to replay one of its entries. */
export interface ReplayRequest {
  readonly action: 'replayDeadLetter';
  readonly id: string;
}

export function isReplayRequest(event: unknown): event is ReplayRequest {
  const e = event as Partial<ReplayRequest> | null;
  return typeof e === 'object' && e !== null && e.action === 'replayDeadLetter' && typeof e.id === 'string';
}

/** A function's answer to a `ReplayRequest`: the outcome, or the error that stopped it (by name). */
export type ReplayResponse = ReplayOutcome | { readonly error: DeadLetterError };

/** Runs `replayDeadLetter` for a function's entry point. Never throws: errors are in the answer. */
export async function answerReplay(request: ReplayRequest, deps: ReplayDeps): Promise<ReplayResponse> {
  try {
    return await replayDeadLetter(request.id, deps);
  } catch (e) {
    return { error: errorOf(e) };
  }
}
