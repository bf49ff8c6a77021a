/**
 * The dead-letter routes: what background paths set aside (`src/core/dead-letters.ts`), for an
 * operator to inspect, replay or discard. `GET /v1/dead-letters` lists entries newest first
 * (without payloads), optionally of one `source`; `GET /v1/dead-letters/{id}` reads one with its
 * payload; `POST .../replay` processes the item again where its path runs (`200` with
 * `status: REPLAYED`, the entry removed, or `status: FAILED` with the entry as it now stands);
 * `DELETE` discards it.
 */
import { DEFAULT_DEAD_LETTER_LIMIT, MAX_DEAD_LETTER_LIMIT, isDeadLetterId, parseSource } from '../core/dead-letters';
import { NotFoundError, ValidationError } from '../core/errors';
import type { DeadLetterReplay, DeadLetterStore } from '../core/ports';
import type { DeadLetter, DeadLetterPage, ReplayOutcome } from '../core/wire/dead-letters';
import { json, noContent } from './http';
import type { Handler } from './records-handlers';

export interface DeadLettersDeps {
  readonly deadLetters: DeadLetterStore;
  readonly deadLetterReplay: DeadLetterReplay;
}

const LIST_QUERY = new Set(['source', 'limit', 'cursor']);

export function deadLettersHandlers({ deadLetters, deadLetterReplay }: DeadLettersDeps): Record<string, Handler> {
  const idOf = (raw: string) => {
    if (!isDeadLetterId(raw)) throw new NotFoundError(`no dead letter ${raw}`);
    return raw;
  };
  return {
    async listDeadLetters(req) {
      for (const name of Object.keys(req.query)) {
        if (!LIST_QUERY.has(name))
          throw new ValidationError(
            `query.${name}`,
            'is not a query parameter of this list; use source, limit, cursor',
          );
      }
      const source = parseSource(req.query.source);
      const limit = req.intQuery('limit', 1, MAX_DEAD_LETTER_LIMIT, DEFAULT_DEAD_LETTER_LIMIT);
      const cursor = req.query.cursor || undefined;
      return json(200, (await deadLetters.list({ source, limit, cursor })) satisfies DeadLetterPage);
    },

    async getDeadLetter(req) {
      const id = idOf(req.param('id'));
      const entry = await deadLetters.get(id);
      if (!entry) throw new NotFoundError(`no dead letter ${id}`);
      return json(200, entry satisfies DeadLetter);
    },

    async replayDeadLetter(req) {
      return json(200, (await deadLetterReplay.replay(idOf(req.param('id')))) satisfies ReplayOutcome);
    },

    async deleteDeadLetter(req) {
      const id = idOf(req.param('id'));
      if (!(await deadLetters.remove(id))) throw new NotFoundError(`no dead letter ${id}`);
      return noContent();
    },
  };
}
