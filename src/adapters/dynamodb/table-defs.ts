/**
 * The one definition of Vesta's DynamoDB tables. The CDK stack (`lib/constructs/state-tables.ts`)
 * and the local stack (`src/local/bootstrap-tables.ts`) both build their tables from this list, so
 * the data model is written down once. Plain data only: no AWS SDK or CDK import here.
 */

export type AttributeType = 'S' | 'N' | 'B';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

/** A global secondary index (projection: keys only unless `project` lists attributes). */
export interface IndexDef {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Non-key attributes copied into the index. @default none (keys only) */
  readonly project?: readonly string[];
}

export interface TableDef {
  /** Logical id, also the suffix of the physical table name (`<prefix>-<id>`). */
  readonly id: 'records' | 'control' | 'idempotency' | 'sagas' | 'changes' | 'deadletters';
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Attribute that DynamoDB TTL clean-up reads (epoch seconds); expiry is still checked on read. */
  readonly ttlAttribute?: string;
  /** Whether the table has a stream (NEW_AND_OLD_IMAGES) that change events are read from. @default false */
  readonly stream?: boolean;
  /** Global secondary indexes. @default none */
  readonly indexes?: readonly IndexDef[];
  /** Environment variable that carries the physical table name to the Lambda functions. */
  readonly envVar: string;
}

const S = (name: string): KeyAttribute => ({ name, type: 'S' });
const N = (name: string): KeyAttribute => ({ name, type: 'N' });

/** A table keyed by `partitionKey` (and `sortKey`), its name passed to the functions in `envVar`. */
function table(
  id: TableDef['id'],
  [partitionKey, sortKey]: readonly [KeyAttribute, KeyAttribute?],
  envVar: string,
  more: Pick<TableDef, 'ttlAttribute' | 'stream' | 'indexes'> = {},
): TableDef {
  return { id, partitionKey, ...(sortKey && { sortKey }), envVar, ...more };
}

/**
 * One item per record (or tombstone): fields, rev, version vector, siblings (layout:
 * `codec.ts`). The index `byFieldExpiry` (`xshard`, `due`), sparse: only records some of whose
 * fields expire carry those attributes, gives the field sweeper the records with a due field,
 * one Query per shard, without reading any other.
 */
export const RECORDS_TABLE = table('records', [S('ns'), S('k')], 'VESTA_RECORDS_TABLE', {
  ttlAttribute: 'ttl',
  stream: true,
  indexes: [{ name: 'byFieldExpiry', partitionKey: S('xshard'), sortKey: N('due') }],
});

/** Namespace settings, leases, locks and other control-plane items (key formats: `src/core/control-keys.ts`). */
export const CONTROL_TABLE = table('control', [S('pk'), S('sk')], 'VESTA_CONTROL_TABLE', {
  ttlAttribute: 'ttl',
  indexes: [
    // Sparse: only lease items carry `shard`. The reaper reads expired leases, never live ones.
    { name: 'byExpiry', partitionKey: S('shard'), sortKey: N('expiresAt') },
    // Sparse: only leases of Step Functions executions carry `rshard`; the renewer reads them.
    { name: 'byExecution', partitionKey: S('rshard'), sortKey: N('expiresAt'), project: ['executionArn'] },
    // Sparse: only a lock item while some lease holds it carries `lockNs`; lists a namespace's locks by name.
    { name: 'locksByNamespace', partitionKey: S('lockNs'), sortKey: S('lockName'), project: ['token', 'leaseId'] },
  ],
});

/** Idempotency-Key records, kept one hour, in the layout of the Powertools idempotency DynamoDB persistence layer (defaults). */
export const IDEMPOTENCY_TABLE = table('idempotency', [S('id')], 'VESTA_IDEMPOTENCY_TABLE', {
  ttlAttribute: 'expiration',
});

/**
 * The saga log: per saga a header item (`sk = saga`: definition, status, execution, timestamps),
 * one item per step (`step#NNN`: action, compensation, status, attempts, error) and one entry per
 * applied action or compensation (`step#NNN#apply`, `step#NNN#undo`), each committed in the same
 * transaction as its record write and conditioned on not existing yet (exactly once). The index
 * `byStatus` (`listStatus`, `listOrder` = `<startedAt>#<id>`), sparse: only headers carry those
 * attributes, lists the sagas of one status newest first; `GET /v1/sagas` without a status merges
 * the four statuses' queries. When a saga ends SUCCEEDED or COMPENSATED every item of it gets
 * `ttl` (epoch s, `VESTA_SAGA_RETENTION_DAYS` after its end, `src/core/retention.ts`); a RUNNING
 * or COMPENSATION_FAILED saga has none.
 */
export const SAGAS_TABLE = table('sagas', [S('id'), S('sk')], 'VESTA_SAGAS_TABLE', {
  ttlAttribute: 'ttl',
  indexes: [
    {
      name: 'byStatus',
      partitionKey: S('listStatus'),
      sortKey: S('listOrder'),
      project: ['type', 'startedAt', 'finishedAt'],
    },
  ],
});

/**
 * The change log, one partition per namespace (`ns`, `seq`), kept at least 24 hours (the watch
 * cursor): change `seq` = 1, 2, 3, ... without gaps, each with its detail as JSON (`d`), key (`k`),
 * id, append time (`at`, ms) and end of retention (`exp`, epoch s; `ttl` an hour later for
 * DynamoDB's clean-up); the namespace's head (`seq` = 2^53 - 1, `head`: the last number given)
 * sorts after every change, so one Query returns both; and one id item per change (`ns` = `#<id>`,
 * `seq` = 0) that makes appending a replayed change a no-op. Written only by the change publisher,
 * read by the changes endpoint.
 */
export const CHANGES_TABLE = table('changes', [S('ns'), N('seq')], 'VESTA_CHANGES_TABLE', { ttlAttribute: 'ttl' });

/**
 * Dead-letter entries (`src/core/dead-letters.ts`): items a background path set aside with their
 * error, kept 14 days, one item per set-aside item (`id` = `<source>-<32 hex>`, derived from the
 * item, so setting it aside again updates the same item): `source`, `item` (JSON of its
 * identifiers), `errName`, `errMessage`, `attempts`, `firstAt`, `lastAt`, `p` (gzip of the
 * payload's JSON, what a replay needs; `pOmitted` when it was too big to keep), `ttl` (epoch s,
 * `DEAD_LETTER_RETENTION_DAYS` after `lastAt`). The index `bySource` (`source`, `order` =
 * `<firstAt>#<id>`) lists a source's entries newest first without their payloads. Written by the
 * background paths, read and cleared by operators through the API.
 */
export const DEAD_LETTERS_TABLE = table('deadletters', [S('id')], 'VESTA_DEAD_LETTERS_TABLE', {
  ttlAttribute: 'ttl',
  indexes: [
    {
      name: 'bySource',
      partitionKey: S('source'),
      sortKey: S('order'),
      project: ['item', 'errName', 'errMessage', 'attempts', 'firstAt', 'lastAt', 'ttl'],
    },
  ],
});

export const TABLE_DEFS: readonly TableDef[] = [
  RECORDS_TABLE,
  CONTROL_TABLE,
  IDEMPOTENCY_TABLE,
  SAGAS_TABLE,
  CHANGES_TABLE,
  DEAD_LETTERS_TABLE,
];

/** Physical table name for a given prefix, e.g. `vesta-dev-records`. */
export function physicalTableName(prefix: string, def: TableDef): string {
  return `${prefix}-${def.id}`;
}
