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
  readonly description: string;
}

export const RECORDS_TABLE: TableDef = {
  id: 'records',
  partitionKey: { name: 'ns', type: 'S' },
  sortKey: { name: 'k', type: 'S' },
  ttlAttribute: 'ttl',
  stream: true,
  envVar: 'VESTA_RECORDS_TABLE',
  description: 'One item per record (or tombstone): fields, rev, version vector, siblings.',
};

export const CONTROL_TABLE: TableDef = {
  id: 'control',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  ttlAttribute: 'ttl',
  indexes: [
    // Sparse: only lease items carry `shard`. The reaper reads expired leases, never live ones.
    { name: 'byExpiry', partitionKey: { name: 'shard', type: 'S' }, sortKey: { name: 'expiresAt', type: 'N' } },
    // Sparse: only leases of Step Functions executions carry `rshard`; the renewer reads them.
    {
      name: 'byExecution',
      partitionKey: { name: 'rshard', type: 'S' },
      sortKey: { name: 'expiresAt', type: 'N' },
      project: ['executionArn'],
    },
  ],
  envVar: 'VESTA_CONTROL_TABLE',
  description: 'Namespace settings, leases, locks and other control-plane items.',
};

/** Layout required by the Powertools idempotency DynamoDB persistence layer (defaults). */
export const IDEMPOTENCY_TABLE: TableDef = {
  id: 'idempotency',
  partitionKey: { name: 'id', type: 'S' },
  ttlAttribute: 'expiration',
  envVar: 'VESTA_IDEMPOTENCY_TABLE',
  description: 'Idempotency-Key records (Powertools idempotency), kept one hour.',
};

/**
 * The saga log: per saga a header item (`sk = saga`: definition, status, execution, timestamps),
 * one item per step (`step#NNN`: action, compensation, status, attempts, error) and one entry per
 * applied action or compensation (`step#NNN#apply`, `step#NNN#undo`), each committed in the same
 * transaction as its record write and conditioned on not existing yet (exactly once).
 */
export const SAGAS_TABLE: TableDef = {
  id: 'sagas',
  partitionKey: { name: 'id', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  envVar: 'VESTA_SAGAS_TABLE',
  description: 'Saga log: definitions, step statuses, attempts and errors, exactly-once entries.',
};

/**
 * The change log, one partition per namespace (`ns`, `seq`): change `seq` = 1, 2, 3, ... without
 * gaps, each with its detail as JSON (`d`), key (`k`), id, append time (`at`, ms) and end of
 * retention (`exp`, epoch s; `ttl` an hour later for DynamoDB's clean-up); the namespace's head
 * (`seq` = 2^53 - 1, `head`: the last number given) sorts after every change, so one Query
 * returns both; and one id item per change (`ns` = `#<id>`, `seq` = 0) that makes appending a
 * replayed change a no-op. Written only by the change publisher, read by the changes endpoint.
 */
export const CHANGES_TABLE: TableDef = {
  id: 'changes',
  partitionKey: { name: 'ns', type: 'S' },
  sortKey: { name: 'seq', type: 'N' },
  ttlAttribute: 'ttl',
  envVar: 'VESTA_CHANGES_TABLE',
  description: 'Change log per namespace, numbered without gaps, kept at least 24 hours (watch cursor).',
};

/**
 * Dead-letter entries (`src/core/dead-letters.ts`), one item per set-aside item (`id` =
 * `<source>-<32 hex>`, derived from the item, so setting it aside again updates the same item):
 * `source`, `item` (JSON of its identifiers), `errName`, `errMessage`, `attempts`, `firstAt`,
 * `lastAt`, `p` (gzip of the payload's JSON, what a replay needs; `pOmitted` when it was too big to
 * keep), `ttl` (epoch s, `DEAD_LETTER_RETENTION_DAYS` after `lastAt`). The index
 * `bySource` (`source`, `order` = `<firstAt>#<id>`) lists a source's entries newest first without
 * their payloads. Written by the background paths, read and cleared by operators through the API.
 */
export const DEAD_LETTERS_TABLE: TableDef = {
  id: 'deadletters',
  partitionKey: { name: 'id', type: 'S' },
  ttlAttribute: 'ttl',
  indexes: [
    {
      name: 'bySource',
      partitionKey: { name: 'source', type: 'S' },
      sortKey: { name: 'order', type: 'S' },
      project: ['item', 'errName', 'errMessage', 'attempts', 'firstAt', 'lastAt', 'ttl'],
    },
  ],
  envVar: 'VESTA_DEAD_LETTERS_TABLE',
  description: 'Dead letters: items a background path set aside with their error, kept 14 days.',
};

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
