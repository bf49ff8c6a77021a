/**
 * Commands on dead letters: items a background path (change publisher, snapshot export, restore,
 * lease reaper, lease renewer) set aside with their error. `ls` and `get` to see what and why,
 * `replay` to process an item again once its cause is fixed, `rm` to discard one.
 */
import { DEAD_LETTER_SOURCES, type DeadLetterSource } from '../client';
import type { DeadLetter } from '../client';
import type { Command } from './command';
import { flag, str } from './options';
import { UsageError } from './errors';
import { deadLettersTable } from './table';

/** Exit code of `replay` when the item failed again (the entry stays, with the new error). */
export const REPLAY_FAILED_EXIT = 3;

/** `--source`, when given. Throws `UsageError` for a value that names no source. */
export function parseSource(raw: string | undefined): DeadLetterSource | undefined {
  if (raw === undefined) return undefined;
  if (!(DEAD_LETTER_SOURCES as readonly string[]).includes(raw)) {
    throw new UsageError(
      `dead-letter ls: --source must be one of ${DEAD_LETTER_SOURCES.join(', ')}. Received: ${JSON.stringify(raw)}`,
    );
  }
  return raw as DeadLetterSource;
}

export const deadLetterLsCommand: Command = {
  name: 'dead-letter ls',
  args: [],
  summary: 'list items background paths set aside, newest first',
  about: [
    'Prints {"items": [{"id", "source", "item", "error": {"name", "message"}, "attempts", "firstAt",',
    '"lastAt", "expiresAt"}], "cursor"}, newest first, without payloads (see `dead-letter get`).',
  ].join('\n'),
  options: {
    source: { type: 'string', value: '<source>', choices: DEAD_LETTER_SOURCES, help: ["only that path's entries"] },
    limit: { type: 'string', value: '<n>', help: ['entries per page, 1 to 500 (default 50)'] },
    cursor: { type: 'string', value: '<c>', help: ['the page after a cursor printed before'] },
    all: { type: 'boolean', help: ['every entry, page after page (prints {"items"} only)'] },
    table: { type: 'boolean', help: ['one row per entry: id, source, item, error, attempts, last time'] },
  },
  async run({ values, client, output }) {
    const source = parseSource(str(values, 'source'));
    const rawLimit = str(values, 'limit');
    const limit = rawLimit === undefined ? undefined : Number(rawLimit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500))
      throw new UsageError(
        `dead-letter ls: --limit must be a whole number from 1 to 500. Received: ${JSON.stringify(rawLimit)}`,
      );
    let page: { items: readonly DeadLetter[]; cursor?: string | null };
    if (flag(values, 'all')) {
      const items: DeadLetter[] = [];
      for await (const e of client.deadLetters.listAll({ source })) items.push(e);
      page = { items };
    } else {
      page = await client.deadLetters.list({ source, limit, cursor: str(values, 'cursor') });
    }
    output.printResult(page, (v) => deadLettersTable(v.items));
  },
};

export const deadLetterGetCommand: Command = {
  name: 'dead-letter get',
  args: ['id'],
  summary: 'print one dead letter with its payload (what a replay needs)',
  about: [
    'Prints the entry as `dead-letter ls` does, plus "payload": the item as the path had it (for the',
    'publisher and the snapshot export, the record item with DynamoDB types, e.g. {"f": {"S": ...}};',
    'for a restore, the snapshot line). Unknown id: exits 1 (NotFound).',
  ].join('\n'),
  options: {},
  async run({ args: [id], client, output }) {
    output.print(await client.deadLetters.get(id));
  },
};

export const deadLetterReplayCommand: Command = {
  name: 'dead-letter replay',
  args: ['id'],
  summary: 'process a set-aside item again; the entry goes once it succeeds',
  about: [
    "Runs the item through its path again (in AWS, in that path's own function). Prints",
    '{"id", "status": "REPLAYED"} (the entry is removed) or {"id", "status": "FAILED", "entry"}',
    '(the entry stays, with the new error and one more attempt).',
  ].join('\n'),
  exitCodes: `0 replayed, ${REPLAY_FAILED_EXIT} failed again (the entry stays), 1 error (e.g. NotFound), 2 usage`,
  options: {},
  async run({ args: [id], client, output }) {
    const outcome = await client.deadLetters.replay(id);
    output.print(outcome);
    return outcome.status === 'REPLAYED' ? 0 : REPLAY_FAILED_EXIT;
  },
};

export const deadLetterRmCommand: Command = {
  name: 'dead-letter rm',
  args: ['id'],
  summary: 'discard a dead letter without processing its item',
  about: ['Removes the entry and prints {"id", "removed": true}. Unknown id: exits 1 (NotFound).'].join('\n'),
  options: {},
  async run({ args: [id], client, output }) {
    await client.deadLetters.remove(id);
    output.print({ id, removed: true });
  },
};
