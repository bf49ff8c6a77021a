/**
 * Commands on one record: get, put, patch, delete.
 */
import { parseList } from './args';
import { type Command, type CommandContext, flag, keyPath, str, strs } from './command';
import type { Reply } from './http';
import { readJsonObject } from './input';
import { LEASE_DETAILS, leaseHeaders, leaseOptions } from './lease-args';
import { printJson } from './io';
import { buildPatchBody } from './patch-body';

const ETAG_DETAIL = '  --etag                  print only the ETag instead of the record';
const WRITE_DETAILS = [
  '  --if-match ETAG         write only if the record is still at that version (412 otherwise)',
  '  --idempotency-key K     repeat-safe: the same key and request within 1 hour is done once',
  ...LEASE_DETAILS,
];

/** Prints a record reply: the record as JSON, or only its ETag with `--etag`. */
function printRecord({ values, io }: CommandContext, reply: Reply): void {
  if (flag(values, 'etag')) io.out(`${reply.etag ?? ''}\n`);
  else printJson(io, reply.body);
  if (reply.status === 300) {
    io.err('note: the record has concurrent versions (siblings); resolve them with `vesta put --if-match <its ETag>`\n');
  }
}

function writeHeaders(values: CommandContext['values']): Record<string, string | undefined> {
  return { 'if-match': str(values, 'if-match'), 'idempotency-key': str(values, 'idempotency-key'), ...leaseHeaders(values) };
}

const writeOptions = {
  'if-match': { type: 'string' },
  'idempotency-key': { type: 'string' },
  ...leaseOptions,
} as const;

export const getCommand: Command = {
  name: 'get',
  args: ['ns', 'key'],
  synopsis: '[--fields a,b] [--etag]',
  summary: 'print a record',
  details: [
    'Prints the record (fields, rev, vv, updatedAt) as JSON.',
    '  --fields a,b            only these fields',
    ETAG_DETAIL,
  ].join('\n'),
  options: { fields: { type: 'string' }, etag: { type: 'boolean' } },
  async run(ctx) {
    const [ns, key] = ctx.args;
    const fields = str(ctx.values, 'fields');
    const reply = await ctx.http.request('GET', keyPath(ns, key), {
      query: { fields: fields === undefined ? undefined : parseList(fields, '--fields').join(',') },
    });
    printRecord(ctx, reply);
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
  options: { ...writeOptions, 'if-none-match': { type: 'boolean' }, etag: { type: 'boolean' } },
  async run(ctx) {
    const [ns, key, source] = ctx.args;
    const fields = await readJsonObject(source, ctx.io, 'fields');
    const headers = { ...writeHeaders(ctx.values), 'if-none-match': flag(ctx.values, 'if-none-match') ? '*' : undefined };
    printRecord(ctx, await ctx.http.request('PUT', keyPath(ns, key), { headers, body: { fields } }));
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
    ...writeOptions,
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
    printRecord(ctx, await ctx.http.request('PATCH', keyPath(ns, key), { headers: writeHeaders(values), body }));
  },
};

export const deleteCommand: Command = {
  name: 'delete',
  args: ['ns', 'key'],
  synopsis: '[--if-match ETAG] [--idempotency-key K] [--lease ID] [--fence NAME:TOKEN]',
  summary: 'delete a record',
  details: ['Deletes the record and prints {"namespace", "key", "deleted": true}.', ...WRITE_DETAILS].join('\n'),
  options: writeOptions,
  async run({ args: [ns, key], values, http, io }) {
    await http.request('DELETE', keyPath(ns, key), { headers: writeHeaders(values) });
    printJson(io, { namespace: ns, key, deleted: true });
  },
};
