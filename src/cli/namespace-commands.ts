/**
 * Commands on a whole namespace: ls (list keys), txn (transaction) and the settings (ns get/set).
 */
import { CONFLICT_MODES } from '../core/schemas';
import { type Command, flag, nsPath, str } from './command';
import { UsageError } from './errors';
import { readJsonObject } from './input';
import { LEASE_DETAILS, leaseHeaders, leaseOptions } from './lease-args';
import { printJson } from './io';

interface ListPage {
  readonly items: unknown[];
  readonly cursor: string | null;
}

export const lsCommand: Command = {
  name: 'ls',
  args: ['ns'],
  synopsis: '[--prefix p] [--limit n] [--fields] [--all | --cursor c]',
  summary: 'list keys in UTF-8 byte order',
  details: [
    'Prints {"items": [{"key", "rev", "updatedAt"}], "cursor"}; pass the cursor back to continue.',
    '  --prefix p              only keys starting with p',
    '  --limit n               page size, 1 to 1000 (default 100)',
    '  --fields                include each record\'s fields',
    '  --all                   follow cursors and print every page as one list',
    '  --cursor c              continue after a previous page',
  ].join('\n'),
  options: {
    prefix: { type: 'string' },
    limit: { type: 'string' },
    fields: { type: 'boolean' },
    all: { type: 'boolean' },
    cursor: { type: 'string' },
  },
  async run({ args: [ns], values, http, io }) {
    const all = flag(values, 'all');
    const query = { prefix: str(values, 'prefix'), limit: str(values, 'limit'), fields: flag(values, 'fields') ? 'true' : undefined };
    const items: unknown[] = [];
    let cursor = str(values, 'cursor');
    do {
      const page = (await http.request('GET', `${nsPath(ns)}/keys`, { query: { ...query, cursor } })).body as ListPage;
      items.push(...page.items);
      cursor = page.cursor ?? undefined;
    } while (all && cursor !== undefined);
    printJson(io, { items, cursor: cursor ?? null });
  },
};

export const txnCommand: Command = {
  name: 'txn',
  args: ['ns', 'body'],
  synopsis: '[--idempotency-key K] [--lease ID] [--fence NAME:TOKEN]',
  summary: 'run an all-or-nothing transaction across keys',
  details: [
    'Runs {"require": [...], "ops": [...]} atomically and prints {"results": [...]}.',
    '<body> is JSON written inline, as @file to read a file, or as - to read standard input.',
    '  --idempotency-key K     repeat-safe: the same key and request within 1 hour is done once',
    ...LEASE_DETAILS,
  ].join('\n'),
  options: { 'idempotency-key': { type: 'string' }, ...leaseOptions },
  async run({ args: [ns, source], values, http, io }) {
    const body = await readJsonObject(source, io, 'the transaction body');
    const headers = { 'idempotency-key': str(values, 'idempotency-key'), ...leaseHeaders(values) };
    printJson(io, (await http.request('POST', `${nsPath(ns)}/txn`, { headers, body })).body);
  },
};

export const nsGetCommand: Command = {
  name: 'ns get',
  args: ['ns'],
  synopsis: '',
  summary: "print a namespace's settings",
  details: 'Prints {"namespace", "conflicts"}; a namespace never configured has the defaults.',
  options: {},
  async run({ args: [ns], http, io }) {
    printJson(io, (await http.request('GET', nsPath(ns))).body);
  },
};

export const nsSetCommand: Command = {
  name: 'ns set',
  args: ['ns'],
  synopsis: `--conflicts ${CONFLICT_MODES.join('|')}`,
  summary: "change a namespace's settings",
  details: [
    'Sets how concurrent writes are handled and prints the settings.',
    '  --conflicts reject      one version per record; a put overwrites it (default)',
    '  --conflicts siblings    a put that has not seen the current version adds a sibling',
    '                          beside it; a put with the ETag of a get resolves them',
  ].join('\n'),
  options: { conflicts: { type: 'string' } },
  async run({ args: [ns], values, http, io }) {
    const conflicts = str(values, 'conflicts');
    if (!conflicts || !(CONFLICT_MODES as readonly string[]).includes(conflicts)) {
      throw new UsageError(`--conflicts must be one of ${CONFLICT_MODES.join(', ')}. Received: ${JSON.stringify(conflicts ?? null)}`, 'ns set');
    }
    printJson(io, (await http.request('PUT', nsPath(ns), { body: { conflicts } })).body);
  },
};
