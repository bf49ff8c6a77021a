/**
 * Commands on one record: get, put, patch, delete.
 */
import { type Fields, type PatchBody, type Versioned, type WriteOptions, hasSiblings } from '../client';
import { checkKey, parseList } from './args';
import { UsageError } from './errors';
import type { Command, CommandContext } from './command';
import { type OptionDecls, flag, str, strs } from './options';
import { readJsonObject } from './input';
import { LEASE_OPTIONS, leaseWriteOptions } from './lease-args';
import { buildPatchBody } from './patch-body';
import { EXPIRE_OPTION, PERSIST_OPTION, putExpires } from './expire-args';
import { recordTable } from './table';

const ETAG: OptionDecls = { etag: { type: 'boolean', help: ['print only the ETag instead of the record'] } };

/** `--idempotency-key`, of every write (records and transactions). */
export const IDEMPOTENCY_OPTION: OptionDecls = {
  'idempotency-key': {
    type: 'string',
    value: 'K',
    help: ['repeat-safe: the same key and request within 1 hour is done once'],
  },
};

/** The options of every record write. */
const WRITE_OPTIONS: OptionDecls = {
  'if-match': {
    type: 'string',
    value: 'ETAG',
    help: ['write only if the record is still at that version (412 otherwise)'],
  },
  ...IDEMPOTENCY_OPTION,
  ...LEASE_OPTIONS,
};

/** Prints a record as `--output` asks (JSON, YAML, a table with `--table`), or only its ETag with `--etag`. */
function printRecord({ values, io, output }: CommandContext, { record, etag }: Versioned): void {
  if (flag(values, 'etag')) io.out(`${etag}\n`);
  else output.printResult(record, (r) => recordTable(r, etag));
  if (hasSiblings(record)) {
    io.err(
      'note: the record has concurrent versions (siblings); resolve them with `vesta put --if-match <its ETag>`\n',
    );
  }
}

function writeOptions(values: CommandContext['values']): WriteOptions {
  return {
    ifMatch: str(values, 'if-match'),
    idempotencyKey: str(values, 'idempotency-key'),
    ...leaseWriteOptions(values),
  };
}

export const getCommand: Command = {
  name: 'get',
  args: ['ns', 'key'],
  summary: 'print a record',
  about: 'Prints the record (fields, expires when fields expire, rev, vv, updatedAt) as JSON.',
  options: {
    fields: { type: 'string', value: 'a,b', help: ['only these fields'] },
    ...ETAG,
    table: { type: 'boolean', help: ['print the record as a table of its fields instead of JSON'] },
  },
  async run(ctx) {
    const [ns, key] = ctx.args;
    const text = str(ctx.values, 'fields');
    const fields = text === undefined ? undefined : parseList(text, '--fields');
    printRecord(ctx, await ctx.client.get(ns, checkKey(key), { fields }));
  },
};

export const putCommand: Command = {
  name: 'put',
  args: ['ns', 'key', 'fields'],
  summary: 'replace a record with the given fields',
  about: [
    'Replaces the record. <fields> is a JSON object of fields, written inline,',
    'as @file to read it from a file, or as - to read it from standard input.',
    'Fields not named by --expire keep no expiry.',
  ].join('\n'),
  options: {
    'if-none-match': { type: 'boolean', help: ['create only; 412 if the record exists'] },
    ...EXPIRE_OPTION,
    ...WRITE_OPTIONS,
    ...ETAG,
  },
  // --if-none-match is explained first but is the alternative to --if-match.
  usage:
    '[--if-match ETAG | --if-none-match] [--expire k=DURATION ...] [--idempotency-key K] [--lease ID] [--fence NAME:TOKEN] [--etag]',
  async run(ctx) {
    const [ns, key, source] = ctx.args;
    checkKey(key);
    const expire = putExpires(ctx.values);
    const fields = await readJsonObject(source, ctx.io, 'fields');
    const opts = { ...writeOptions(ctx.values), ifNoneMatch: flag(ctx.values, 'if-none-match'), expire };
    // The API checks that the fields are JSON values; the CLI passes them on as read.
    printRecord(ctx, await ctx.client.put(ns, key, fields as Fields, opts));
  },
};

export const patchCommand: Command = {
  name: 'patch',
  args: ['ns', 'key'],
  optionalArgs: ['body'],
  summary: 'change fields atomically',
  about: [
    'Applies all changes atomically, or none. Creates the record when it is absent.',
    '<body> is a PATCH body (set, remove, increment, expire, persist, require), inline, as @file',
    'or as -; the flags below are added to it, or make the whole body without it.',
    'Values after = are parsed as JSON when they parse (7, true, "7", {"a":1}), else taken as strings.',
    'A field set without --expire loses its expiry; --incr keeps it.',
  ].join('\n'),
  options: {
    set: { type: 'string', multiple: true, value: 'k=v', help: ['set field k'] },
    remove: { type: 'string', multiple: true, value: 'k', help: ['remove field k'] },
    incr: {
      type: 'string',
      multiple: true,
      value: 'k=n',
      help: ['add n (may be negative) to numeric field k; --incr k adds 1'],
    },
    require: {
      type: 'string',
      multiple: true,
      value: "'field op value'",
      help: ['only if the condition holds; op: == != < <= > >= , or', "'field exists' / 'field absent'"],
    },
    ...EXPIRE_OPTION,
    ...PERSIST_OPTION,
    body: { type: 'string', value: 'JSON', help: ['a PATCH body (inline, @file or -) the flags are added to'] },
    ...WRITE_OPTIONS,
    ...ETAG,
  },
  async run(ctx) {
    const [ns, key, positional] = ctx.args;
    const { values, io } = ctx;
    if (positional !== undefined && str(values, 'body') !== undefined)
      throw new UsageError('give the body once: as <body> or as --body', 'patch');
    const source = positional ?? str(values, 'body');
    const base =
      source === undefined ? {} : await readJsonObject(source, io, positional === undefined ? '--body' : 'body');
    const flags = {
      set: strs(values, 'set'),
      remove: strs(values, 'remove'),
      incr: strs(values, 'incr'),
      require: strs(values, 'require'),
      expire: strs(values, 'expire'),
      persist: strs(values, 'persist'),
    };
    const body = buildPatchBody(base, flags);
    checkKey(key);
    const opts = writeOptions(values);
    // The API validates the body; the flags and --body are passed on as given.
    printRecord(ctx, await ctx.client.patch(ns, key, body as PatchBody, opts));
  },
};

export const deleteCommand: Command = {
  name: 'delete',
  args: ['ns', 'key'],
  summary: 'delete a record',
  about: 'Deletes the record and prints {"namespace", "key", "deleted": true}.',
  options: WRITE_OPTIONS,
  async run(ctx) {
    const {
      args: [ns, key],
      values,
      client,
      output,
    } = ctx;
    checkKey(key);
    await client.delete(ns, key, writeOptions(values));
    output.print({ namespace: ns, key, deleted: true });
  },
};
