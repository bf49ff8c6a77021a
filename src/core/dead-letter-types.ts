/**
 * The values of dead letters: sources, entries, listings and replay outcomes (the rules are in
 * `dead-letters.ts`, the store's port in `ports.ts`). Types and constants only, so that the port
 * and the rules can both import them.
 */
export const DEAD_LETTER_SOURCES = ['publisher', 'snapshot', 'restore', 'reaper', 'renewer'] as const;
export type DeadLetterSource = (typeof DEAD_LETTER_SOURCES)[number];

/** Which item it was: identifiers only (namespace, key, rev, lease id, snapshot id, part, line...). */
export type DeadLetterItem = Readonly<Record<string, string | number | null>>;

export interface DeadLetterError {
  readonly name: string;
  readonly message: string;
}

/** What a path hands over when it sets an item aside. */
export interface DeadLetterInput {
  readonly source: DeadLetterSource;
  readonly item: DeadLetterItem;
  readonly error: DeadLetterError;
  /** Tries made this time. */
  readonly attempts: number;
  /** What a replay needs to process the item again (JSON; kept exactly, see the store). */
  readonly payload: unknown;
}

/** An entry as listed and read (`payload` only when read one by one). */
export interface DeadLetter {
  readonly id: string;
  readonly source: DeadLetterSource;
  readonly item: DeadLetterItem;
  readonly error: DeadLetterError;
  /** Tries made in all, replays included. */
  readonly attempts: number;
  /** When it was first set aside, and last (ISO times). */
  readonly firstAt: string;
  readonly lastAt: string;
  /** When DynamoDB's clean-up may remove it (ISO time). */
  readonly expiresAt: string;
  readonly payload?: unknown;
  /** The payload was too big to keep: the item cannot be replayed, only discarded. */
  readonly payloadOmitted?: true;
}

/** A listing of `GET /v1/dead-letters`. */
export interface DeadLetterQuery {
  readonly source?: DeadLetterSource;
  readonly limit: number;
  /** Opaque cursor from a previous page. */
  readonly cursor?: string;
}

export interface DeadLetterPage {
  /** Newest first (by when first set aside), without payloads. */
  readonly items: readonly DeadLetter[];
  readonly cursor: string | null;
}

/** What a replay did: `REPLAYED` (the entry is gone) or `FAILED` (the entry, with the new error). */
export type ReplayOutcome = { readonly id: string; readonly status: 'REPLAYED' } | { readonly id: string; readonly status: 'FAILED'; readonly entry: DeadLetter };
