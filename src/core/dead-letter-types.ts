/**
 * The values of dead letters: the wire shapes (sources, entries, listings, replay outcomes, from
 * `wire/dead-letters.ts`) and what a path hands over and a listing asks for. The rules are in
 * `dead-letters.ts`, the store's port in `ports.ts`; types and constants only, so that the port
 * and the rules can both import them.
 */
import type { DeadLetterError, DeadLetterItem, DeadLetterSource } from './wire/dead-letters';

export { DEAD_LETTER_SOURCES } from './wire/dead-letters';
export type {
  DeadLetter,
  DeadLetterError,
  DeadLetterItem,
  DeadLetterPage,
  DeadLetterSource,
  ReplayOutcome,
} from './wire/dead-letters';

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

/** A listing of `GET /v1/dead-letters`. */
export interface DeadLetterQuery {
  readonly source?: DeadLetterSource;
  readonly limit: number;
  /** Opaque cursor from a previous page. */
  readonly cursor?: string;
}
