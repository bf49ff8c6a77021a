/**
 * `vesta ttl <ns> <key> [field...]`: the seconds each field has left (like Redis `HTTL`), from the
 * record's `expires` and this machine's clock.
 */
import { type Fields, type VestaRecord, hasSiblings, secondsToLive } from '../client';
import { checkKey } from './args';
import type { Command } from './command';
import { UsageError } from './errors';
import { renderTable } from './table';

/** One value's fields: seconds left, or `null` for a field without expiry. */
export interface FieldTtls {
  readonly ttl: Readonly<Record<string, number | null>>;
  /** Fields asked for that the value does not have (present only when some are). */
  readonly absent?: readonly string[];
}

/**
 * The seconds left of `fields` (every field of the value when empty) at `now`. Never throws.
 */
export function fieldTtls(
  value: { readonly fields: Fields; readonly expires?: VestaRecord['expires'] },
  fields: readonly string[],
  now: number,
): FieldTtls {
  const left = secondsToLive(value, now);
  const has = (f: string) => Object.hasOwn(value.fields, f);
  const names = fields.length > 0 ? fields.filter(has) : Object.keys(value.fields);
  const ttl: Record<string, number | null> = Object.create(null);
  for (const f of names) ttl[f] = left[f] ?? null;
  const absent = fields.filter((f) => !has(f));
  return absent.length > 0 ? { ttl, absent } : { ttl };
}

/** Rows of `ttlTable`: one per field, `no expiry` or `absent` where it has no seconds. Never throws. */
function ttlRows(t: FieldTtls, prefix: readonly unknown[] = []): unknown[][] {
  return [
    ...Object.entries(t.ttl).map(([f, s]) => [...prefix, f, s === null ? 'no expiry' : s]),
    ...(t.absent ?? []).map((f) => [...prefix, f, 'absent']),
  ];
}

type TtlResult = { namespace: string; key: string } & (FieldTtls | { siblings: FieldTtls[] });

/** `--table`: FIELD and TTL (seconds), with a SIBLING column for a record with siblings. Never throws. */
export function ttlTable(result: TtlResult): string {
  if ('siblings' in result) {
    return renderTable(
      ['sibling', 'field', 'ttl'],
      result.siblings.flatMap((t, i) => ttlRows(t, [i])),
    );
  }
  return renderTable(['field', 'ttl'], ttlRows(result));
}

export const ttlCommand: Command = {
  name: 'ttl',
  args: ['ns', 'key'],
  checksOwnArgs: true,
  summary: 'print the seconds each field has left before it expires',
  about: [
    'Prints {"namespace", "key", "ttl": {"<field>": seconds | null}} for the named fields, or',
    'for every field without names (like Redis HTTL): the whole seconds until the field expires,',
    "rounded up, by this machine's clock; null for a field without expiry. Named fields the",
    'record does not have are listed in "absent". A record with siblings prints',
    '{"namespace", "key", "siblings": [{"ttl", "absent"}]}, each value with its own expiries.',
    'A record whose every field has expired is absent (exit 1, NotFound).',
  ].join('\n'),
  options: {
    table: { type: 'boolean', help: ['print a table of fields and seconds instead of JSON'] },
  },
  usage: '[<field> ...] [--table]',
  async run({ args, client, output }) {
    if (args.length < 2)
      throw new UsageError(`ttl expects <ns> <key> [<field> ...]; received ${args.length} argument(s)`, 'ttl');
    const [ns, key, ...fields] = args;
    const { record } = await client.get(ns, checkKey(key));
    const now = Date.now();
    const result: TtlResult = hasSiblings(record)
      ? { namespace: ns, key, siblings: record.siblings.map((s) => fieldTtls(s, fields, now)) }
      : { namespace: ns, key, ...fieldTtls(record, fields, now) };
    output.printResult(result, ttlTable);
  },
};
