/**
 * Commands on a whole namespace: ls (list keys), txn (transaction) and the settings (ns get/set).
 */
import type { ConflictMode, ListItem, ListPage, TxnBody } from '../client';
import { CONFLICT_MODES } from '../client';
import type { Command } from './command';
import { flag, str } from './options';
import { UsageError } from './errors';
import { readJsonObject } from './input';
import { LEASE_OPTIONS, leaseWriteOptions } from './lease-args';
import { IDEMPOTENCY_OPTION } from './record-commands';
import { listTable } from './table';

/**
 * Parses `ls --limit`: a whole number (the API checks the range, 1 to 1000).
 * Throws `UsageError` for anything else; undefined when absent.
 */
export function parseListLimit(text: string | undefined, command = 'ls'): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(text))
    throw new UsageError(`--limit expects a whole number from 1 to 1000. Received: ${JSON.stringify(text)}`, command);
  return Number(text);
}

export const lsCommand: Command = {
  name: 'ls',
  args: ['ns'],
  summary: 'list keys in UTF-8 byte order',
  about: 'Prints {"items": [{"key", "rev", "updatedAt"}], "cursor"}; pass the cursor back to continue.',
  options: {
    prefix: { type: 'string', value: 'p', help: ['only keys starting with p'] },
    limit: { type: 'string', value: 'n', help: ['page size, 1 to 1000 (default 100)'] },
    fields: { type: 'boolean', help: ["include each record's fields"] },
    all: { type: 'boolean', help: ['follow cursors and print every page as one list'] },
    cursor: { type: 'string', value: 'c', or: true, help: ['continue after a previous page'] },
    table: {
      type: 'boolean',
      help: ['one row per key (and its fields with --fields); the cursor of the', 'next page goes to standard error'],
    },
  },
  async run({ args: [ns], values, client, io, output }) {
    const all = flag(values, 'all');
    const query = {
      prefix: str(values, 'prefix'),
      limit: parseListLimit(str(values, 'limit')),
      fields: flag(values, 'fields'),
    };
    const items: ListItem[] = [];
    let cursor = str(values, 'cursor');
    if (all && cursor === undefined) {
      for await (const item of client.listAll(ns, query)) items.push(item);
    } else {
      do {
        const page = await client.list(ns, { ...query, cursor });
        items.push(...page.items);
        cursor = page.cursor ?? undefined;
      } while (all && cursor !== undefined);
    }
    const page: ListPage = { items, cursor: cursor ?? null };
    output.printResult(page, listTable);
    if (output.format === 'table' && page.cursor)
      io.err(`more keys: \`vesta ls ${ns} --cursor ${page.cursor}\` lists the next page\n`);
  },
};

export const txnCommand: Command = {
  name: 'txn',
  args: ['ns', 'body'],
  summary: 'run an all-or-nothing transaction across keys',
  about: [
    'Runs {"require": [...], "ops": [...]} atomically and prints {"results": [...]}.',
    '<body> is JSON written inline, as @file to read a file, or as - to read standard input.',
  ].join('\n'),
  options: { ...IDEMPOTENCY_OPTION, ...LEASE_OPTIONS },
  async run({ args: [ns, source], values, client, io, output }) {
    const body = await readJsonObject(source, io, 'the transaction body');
    const opts = { idempotencyKey: str(values, 'idempotency-key'), ...leaseWriteOptions(values) };
    // The API validates the body and names what is wrong with it.
    output.print({ results: await client.transact(ns, body as unknown as TxnBody, opts) });
  },
};

export const nsGetCommand: Command = {
  name: 'ns get',
  args: ['ns'],
  summary: "print a namespace's settings",
  about: 'Prints {"namespace", "conflicts"}; a namespace never configured has the defaults.',
  options: {},
  async run({ args: [ns], client, output }) {
    output.print(await client.namespace(ns));
  },
};

export const nsSetCommand: Command = {
  name: 'ns set',
  args: ['ns'],
  summary: "change a namespace's settings",
  about:
    'Sets how concurrent writes are handled and prints the settings. With --regions, sets them in every Region, one after another (they are kept per Region).',
  options: {
    conflicts: {
      type: 'string',
      required: true,
      choices: CONFLICT_MODES,
      help: {
        reject: ['one version per record; a put overwrites it (default)'],
        siblings: [
          'a put that has not seen the current version adds a sibling',
          'beside it; a put with the ETag of a get resolves them',
        ],
      } satisfies Record<ConflictMode, readonly string[]>,
    },
  },
  async run({ args: [ns], values, client, output }) {
    const conflicts = str(values, 'conflicts');
    if (!conflicts || !(CONFLICT_MODES as readonly string[]).includes(conflicts)) {
      throw new UsageError(
        `--conflicts must be one of ${CONFLICT_MODES.join(', ')}. Received: ${JSON.stringify(conflicts ?? null)}`,
        'ns set',
      );
    }
    output.print(await client.setNamespace(ns, { conflicts: conflicts as ConflictMode }));
  },
};
