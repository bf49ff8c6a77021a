/**
 * Dead-letter entries as zod schemas, the types inferred from them: what `GET /v1/dead-letters`
 * lists, `GET /v1/dead-letters/{id}` reads and `POST .../replay` answers. Built by the dead-letter
 * store, never parsed.
 */
import { z } from 'zod';
import { timestamp } from './fields';

import { DEAD_LETTER_SOURCES } from './constants';

export { DEAD_LETTER_SOURCES } from './constants';
export type { DeadLetterSource } from './constants';

/** Which item it was: identifiers only (namespace, key, rev, lease id, snapshot id, part, line...). */
export const deadLetterItem = z.record(z.union([z.string(), z.number(), z.null()])).readonly();
export type DeadLetterItem = z.infer<typeof deadLetterItem>;

export const deadLetterError = z.object({ name: z.string(), message: z.string() }).readonly();
export type DeadLetterError = z.infer<typeof deadLetterError>;

/** An entry as listed and read (`payload` only when read one by one). */
export const deadLetter = z
  .object({
    id: z.string(),
    source: z.enum(DEAD_LETTER_SOURCES),
    item: deadLetterItem,
    error: deadLetterError,
    /** Tries made in all, replays included. */
    attempts: z.number().int(),
    /** When it was first set aside, and last. */
    firstAt: timestamp,
    lastAt: timestamp,
    /** When DynamoDB's clean-up may remove it. */
    expiresAt: timestamp,
    payload: z.unknown().optional(),
    /** The payload was too big to keep: the item cannot be replayed, only discarded. */
    payloadOmitted: z.literal(true).optional(),
  })
  .readonly();
export type DeadLetter = z.infer<typeof deadLetter>;

/** `GET /v1/dead-letters`: newest first (by when first set aside), without payloads. */
export const deadLetterPage = z
  .object({ items: z.array(deadLetter).readonly(), cursor: z.string().nullable() })
  .readonly();
export type DeadLetterPage = z.infer<typeof deadLetterPage>;

/** What a replay did: `REPLAYED` (the entry is gone) or `FAILED` (the entry, with the new error). */
export const replayOutcome = z.union([
  z.object({ id: z.string(), status: z.literal('REPLAYED') }).readonly(),
  z.object({ id: z.string(), status: z.literal('FAILED'), entry: deadLetter }).readonly(),
]);
export type ReplayOutcome = z.infer<typeof replayOutcome>;
