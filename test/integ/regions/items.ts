/**
 * The replicator's options, counters and helpers: versions and their order, canonical item
 * text, a seeded generator and the condition that an item is still the version it knows.
 */
import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { RECORDS_TABLE } from '../../../src/adapters/dynamodb/table-defs';

export type Item = Record<string, AttributeValue>;

export interface ReplicatorOptions {
  /** Region ids, e.g. `['us-east-1', 'eu-west-1']`. */
  readonly regions: readonly string[];
  /** @default 'vesta-test' */
  readonly tablePrefix?: string;
  /** Delay of every link, ms (change with `setDelay`). @default 0 */
  readonly delayMs?: number;
  /** Up to this much more delay per change, drawn from `seed`. @default 0 */
  readonly jitterMs?: number;
  /** @default 1 */
  readonly seed?: number;
  /** Pause between reads of a stream that found nothing, ms. @default 5 */
  readonly pollMs?: number;
}

/** One Region: its DynamoDB Local and a client of it. */
export interface Region {
  readonly id: string;
  readonly endpoint: string;
  readonly client: DynamoDBClient;
}

/** What the replicator did so far. */
export interface ReplicatorStats {
  /** Changes read from a Region's stream that were local writes there. */
  local: number;
  /** Stream records recognised as the replicator's own writes (not replicated again). */
  echoes: number;
  /** PutItem / DeleteItem requests the replicator sent, per target Region. */
  puts: Record<string, number>;
  deletes: Record<string, number>;
  /** Incoming versions dropped: older than the target's, or beaten by a local write not read yet. */
  dropped: number;
}

/** A version of an item: its image (`null`: absent) and the replicator's timestamp for it. */
export interface Version {
  readonly image: Item | null;
  readonly ts: number;
  readonly origin: string;
}

/** A version on its way along a link, due at `deliverAt`. */
export interface Change extends Version {
  readonly key: Item;
  readonly deliverAt: number;
}

/** Whether `a` is the later version (last writer wins; ties broken by Region id). */
export const newer = (a: Version, b: Version) => a.ts > b.ts || (a.ts === b.ts && a.origin > b.origin);
export const ABSENT: Version = { image: null, ts: Number.NEGATIVE_INFINITY, origin: '' };

export const RECORD_KEYS = [RECORDS_TABLE.partitionKey.name, RECORDS_TABLE.sortKey!.name];

/** Same value whatever the order of map keys. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** The key of a records-table item, as text. */
export const keyOf = (item: Record<string, unknown>) => canonical(RECORD_KEYS.map((k) => item[k]));

/** A small seeded generator (mulberry32), for jitter that repeats with the seed. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A condition that holds when the item is `held` (every attribute equal; `null`: absent), and has
 * none of the attributes of `incoming` that `held` lacks.
 */
export function conditionOn(
  held: Item | null,
  incoming: Item | null,
): {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Item;
} {
  const names: Record<string, string> = {};
  const values: Item = {};
  const parts: string[] = [];
  const name = (a: string) => {
    const n = `#a${Object.keys(names).length}`;
    names[n] = a;
    return n;
  };
  if (!held) {
    parts.push(`attribute_not_exists(${name(RECORD_KEYS[0])})`);
  } else {
    for (const [a, v] of Object.entries(held)) {
      const ref = `:v${Object.keys(values).length}`;
      values[ref] = v;
      parts.push(`${name(a)} = ${ref}`);
    }
    for (const a of Object.keys(incoming ?? {})) if (!(a in held)) parts.push(`attribute_not_exists(${name(a)})`);
  }
  return {
    ConditionExpression: parts.join(' AND '),
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

/** Every item of a table, sorted by records-table key, for comparisons. */
export async function scanTable(client: DynamoDBClient, table: string): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await client.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items.sort((x, y) => (keyOf(x) < keyOf(y) ? -1 : keyOf(x) > keyOf(y) ? 1 : 0));
}
