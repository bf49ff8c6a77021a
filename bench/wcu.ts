/**
 * Write capacity of recorded DynamoDB requests, as DynamoDB bills on-demand and provisioned
 * writes: a standard write (PutItem, UpdateItem, DeleteItem, each request of a BatchWriteItem) is
 * 1 WCU per started KB of the item, a transactional one (each item of a TransactWriteItems,
 * ConditionCheck included) 2 WCU per started KB. The size is the item's, by DynamoDB's rules
 * (attribute names plus values: strings and binaries by length, numbers about one byte per two
 * digits plus one, 3 bytes per list or map plus 1 per element).
 *
 * The size of an item written whole (a Put) is in the request. For an update, a delete or a
 * condition check the size is taken from the response when it returns the item (ALL_NEW,
 * ALL_OLD), else from the item as it stands after the measured phase (`sizeOf` reads it back);
 * an item gone by then counts as 1 KB. DynamoDB bills the larger of the item before and after a
 * write; the items measured here keep their size across writes, so one of the two is taken.
 * A write whose condition fails is billed as well; every attempt recorded is counted.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Recorded } from './ddb-proxy';

type Av = AttributeValue | Record<string, unknown>;
type ItemJson = Record<string, Av>;

function numberSize(n: string): number {
  const digits = n.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function valueSize(v: Av): number {
  const a = v as Record<string, unknown>;
  if (typeof a.S === 'string') return Buffer.byteLength(a.S);
  if (typeof a.N === 'string') return numberSize(a.N);
  if (typeof a.B === 'string') return Buffer.from(a.B, 'base64').length;
  if (a.BOOL !== undefined || a.NULL !== undefined) return 1;
  if (Array.isArray(a.SS)) return (a.SS as string[]).reduce((s, x) => s + Buffer.byteLength(x), 0);
  if (Array.isArray(a.NS)) return (a.NS as string[]).reduce((s, x) => s + numberSize(x), 0);
  if (Array.isArray(a.BS)) return (a.BS as string[]).reduce((s, x) => s + Buffer.from(x, 'base64').length, 0);
  if (Array.isArray(a.L)) return 3 + (a.L as Av[]).reduce((s, x) => s + 1 + valueSize(x), 0);
  if (a.M && typeof a.M === 'object')
    return (
      3 + Object.entries(a.M as ItemJson).reduce((s, [name, x]) => s + 1 + Buffer.byteLength(name) + valueSize(x), 0)
    );
  return 0;
}

/** An item's size in bytes, as DynamoDB counts it. */
export function itemSize(item: ItemJson): number {
  return Object.entries(item).reduce((s, [name, v]) => s + Buffer.byteLength(name) + valueSize(v), 0);
}

const kb = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/** An item whose size is not in the request or its response: read back after the phase. */
export interface Unsized {
  readonly table: string;
  readonly key: ItemJson;
}

export interface WriteCost {
  readonly table: string;
  readonly op: string;
  readonly transactional: boolean;
  /** Bytes when known from the request or response, else the item to read back. */
  readonly size: number | Unsized;
}

/** The tables a request touches (for telling the API's writes from the change feed's). */
export function tablesOf(r: Recorded): string[] {
  const body = JSON.parse(r.body) as Record<string, unknown>;
  const op = r.target.slice(r.target.indexOf('.') + 1);
  if (op === 'BatchWriteItem' || op === 'BatchGetItem') return Object.keys(body.RequestItems as object);
  if (op === 'TransactWriteItems' || op === 'TransactGetItems')
    return (body.TransactItems as Record<string, { TableName: string }>[]).map((t) => Object.values(t)[0].TableName);
  return typeof body.TableName === 'string' ? [body.TableName] : [];
}

/** The billed items of one recorded write request (none for reads). */
export function writeCosts(r: Recorded): WriteCost[] {
  const op = r.target.slice(r.target.indexOf('.') + 1);
  const body = JSON.parse(r.body) as Record<string, unknown>;
  const response = r.response && r.status === 200 ? (JSON.parse(r.response) as Record<string, unknown>) : {};
  const table = String(body.TableName ?? '');
  const returned = response.Attributes as ItemJson | undefined;
  switch (op) {
    case 'PutItem':
      return [{ table, op, transactional: false, size: itemSize(body.Item as ItemJson) }];
    case 'UpdateItem':
    case 'DeleteItem':
      return [
        {
          table,
          op,
          transactional: false,
          size: returned ? itemSize(returned) : { table, key: body.Key as ItemJson },
        },
      ];
    case 'BatchWriteItem':
      return Object.entries(
        body.RequestItems as Record<string, Record<string, { Item?: ItemJson; Key?: ItemJson }>[]>,
      ).flatMap(([t, requests]) =>
        requests.map((w) =>
          w.PutRequest
            ? { table: t, op: 'BatchPut', transactional: false, size: itemSize(w.PutRequest.Item!) }
            : { table: t, op: 'BatchDelete', transactional: false, size: { table: t, key: w.DeleteRequest.Key! } },
        ),
      );
    case 'TransactWriteItems':
      return (body.TransactItems as Record<string, { TableName: string; Item?: ItemJson; Key?: ItemJson }>[]).map(
        (t) => {
          const [kind, x] = Object.entries(t)[0];
          return {
            table: x.TableName,
            op: `Transact${kind}`,
            transactional: true,
            size: x.Item ? itemSize(x.Item) : { table: x.TableName, key: x.Key! },
          };
        },
      );
    default:
      return [];
  }
}

/** WCU of the costs, with `sizeOf` for the items whose size is read back (undefined: gone, 1 KB). */
export async function wcuOf(
  costs: readonly WriteCost[],
  sizeOf: (u: Unsized) => Promise<number | undefined>,
): Promise<number> {
  let wcu = 0;
  for (const c of costs) {
    const bytes = typeof c.size === 'number' ? c.size : await sizeOf(c.size);
    wcu += (c.transactional ? 2 : 1) * kb(bytes ?? 1);
  }
  return wcu;
}
