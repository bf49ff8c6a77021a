/**
 * Commands on one record: get, put, patch, delete.
 */
import { type Fields, type PatchBody, type Versioned, type WriteOptions, hasSiblings } from '../client';
import { checkKey, parseList } from './args';
import type { Command, CommandContext } from './command';
import { flag, str, strs } from './options';
import { readJsonObject } from './input';
import { LEASE_DETAILS, leaseOptions, leaseWriteOptions } from './lease-args';
import { printJson, printResult } from './io';
import { buildPatchBody } from './patch-body';
import { recordTable } from './table';

const ETAG_DETAIL = '  --etag                  print only the ETag instead of the record';
const TABLE_DETAIL = '  --table                 print the record as a table of its fields instead of JSON';
const WRITE_DETAILS = [
  '  --if-match ETAG         write only if the record is still at that version (412 otherwise)',
  '  --idempotency-key K     repeat-safe: the same key and request within 1 hour is done once',
  ...LEASE_DETAILS,
];

/** Prints a record: as JSON, as a table with `--table`, or only its ETag with `--etag`. */
function printRecord({ values, io }: CommandContext, { record, etag }: Versioned): void {
  if (flag(values, 'etag')) io.out(`${etag}\n`);
  else printResult(io, flag(values, 'table'), record, (r) => recordTable(r, etag));
  if (hasSiblings(record)) {
    io.err('note: the record has concurrent versions (siblings); resolve them with `vesta put --if-match <its ETag>`\n');
  }
}

function writeOptions(values: CommandContext['values']): WriteOptions {
  return { ifMatch: str(values, 'if-match'), idempotencyKey: str(values, 'idempotency-key'), ...leaseWriteOptions(values) };
}

const writeOptionSpecs = {
  'if-match': { type: 'string' },
  'idempotency-key': { type: 'string' },
  ...leaseOptions,
} as const;

export const getCommand: Command = {
  name: 'get',
  args: ['ns', 'key'],
  synopsis: '[--fields a,b] [--etag] [--table]',
  summary: 'print a record',
  details: [
    'Prints the record (fields, rev, vv, updatedAt) as JSON.',
    '  --fields a,b            only these fields',
    ETAG_DETAIL,
    TABLE_DETAIL,
  ].join('\n'),
  options: { fields: { type: 'string' }, etag: { type: 'boolean' } },
  table: true,
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
  synopsis: '[--if-match ETAG | --if-none-match] [--idempotency-key K] [--lease ID] [--fence NAME:TOKEN] [--etag]',
  summary: 'replace a record with the given fields',
  details: [
    'Replaces the record. <fields> is a JSON object of fields, written inline,',
    'as @file to read it from a file, or as - to read it from standard input.',
    '  --if-none-match         create only; 412 if the record exists',
    ...WRITE_DETAILS,
    ETAG_DETAIL,
  ].join('\n'),
  options: { ...writeOptionSpecs, 'if-none-match': { type: 'boolean' }, etag: { type: 'boolean' } },
  async run(ctx) {
    const [ns, key, source] = ctx.args;
    checkKey(key);
    const fields = await readJsonObject(source, ctx.io, 'fields');
    const opts = { ...writeOptions(ctx.values), ifNoneMatch: flag(ctx.values, 'if-none-match') };
    // The API checks that the fields are JSON values; the CLI passes them on as read.
    printRecord(ctx, await ctx.client.put(ns, key, fields as Fields, opts));
  },
};

export const patchCommand: Command = {
  name: 'patch',
  args: ['ns', 'key'],
  synopsis: "[--set k=v ...] [--remove k ...] [--incr k=n ...] [--require 'field op value' ...] [--body JSON] [--if-match ETAG] [--lease ID] [--fence NAME:TOKEN] [--etag]",
  summary: 'change fields atomically',
  details: [
    'Applies all changes atomically, or none. Creates the record when it is absent.',
    'Values after = are parsed as JSON when they parse (7, true, "7", {"a":1}), else taken as strings.',
    '  --set k=v               set field k',
    '  --remove k              remove field k',
    '  --incr k=n              add n (may be negative) to numeric field k; --incr k adds 1',
    "  --require 'field op value'",
    '                          only if the condition holds; op: == != < <= > >= , or',
    "                          'field exists' / 'field absent'",
    '  --body JSON             a PATCH body (inline, @file or -) the flags are added to',
    ...WRITE_DETAILS,
    ETAG_DETAIL,
  ].join('\n'),
  options: {
    ...writeOptionSpecs,
    set: { type: 'string', multiple: true },
    remove: { type: 'string', multiple: true },
    incr: { type: 'string', multiple: true },
    require: { type: 'string', multiple: true },
    body: { type: 'string' },
    etag: { type: 'boolean' },
  },
  async run(ctx) {
    const [ns, key] = ctx.args;
    const { values, io } = ctx;
    const source = str(values, 'body');
    const base = source === undefined ? {} : await readJsonObject(source, io, '--body');
    const flags = { set: strs(values, 'set'), remove: strs(values, 'remove'), incr: strs(values, 'incr'), require: strs(values, 'require') };
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
  synopsis: '[--if-match ETAG] [--idempotency-key K] [--lease ID] [--fence NAME:TOKEN]',
  summary: 'delete a record',
  details: ['Deletes the record and prints {"namespace", "key", "deleted": true}.', ...WRITE_DETAILS].join('\n'),
  options: writeOptionSpecs,
  async run(ctx) {
    const { args: [ns, key], values, client, io } = ctx;
    checkKey(key);
    await client.delete(ns, key, writeOptions(values));
    printJson(io, { namespace: ns, key, deleted: true });
  },
};
