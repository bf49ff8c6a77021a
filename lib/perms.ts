/**
 * IAM action lists, one per intent, in one place (as `aws-dynamodb/lib/perms.ts` does for the
 * CDK's own grants). Constructs grant these lists by intent (`TABLE_INTENTS` for the tables, below;
 * intent-named methods for the rest); tests assert that
 * a function's policy holds nothing else. `TransactWriteItems` is not an IAM action: a transaction
 * is authorized by the actions of its parts (`ConditionCheckItem`, `PutItem`, `UpdateItem`,
 * `DeleteItem`) on each table it touches, so those parts must be listed for every such table.
 */
import type { TableDef } from '../src/adapters/dynamodb/table-defs';

type TableId = TableDef['id'];

/** `dynamodb('GetItem', 'Query')` gives `['dynamodb:GetItem', 'dynamodb:Query']`: DynamoDB actions by name. */
function dynamodb<const A extends readonly string[]>(...actions: A): { readonly [I in keyof A]: `dynamodb:${A[I]}` } {
  return actions.map((a) => `dynamodb:${a}`) as never;
}

/**
 * What the API function does on the records table: `GetItem` (reads), `PutItem` and `UpdateItem`
 * (conditional writes; a delete is a tombstone, an update, so no `DeleteItem`; a revoked lease's
 * records are expired with an update), `Query` for key listings, `BatchGetItem` and
 * `ConditionCheckItem` for transactions. No `Scan` (listings are queries within a namespace), no
 * `DescribeTable` (the health check reads an item of the control table).
 */
export const RECORDS_READ_WRITE_ACTIONS = dynamodb(
  'GetItem',
  'PutItem',
  'UpdateItem',
  'Query',
  'BatchGetItem',
  'ConditionCheckItem',
);

/**
 * What the API function does on the control table: namespace settings, leases and locks (their
 * transactions' `ConditionCheckItem`, `DeleteItem` of a released lock's holding and of a revoked
 * lease), snapshot and restore items, the `Query`s of a lease's holdings, of the snapshot
 * list and of a running restore's checkpoints, and the `BatchGetItem` of the holders' leases that
 * tells a held lock in a lock listing from one whose lease expired.
 */
export const CONTROL_READ_WRITE_ACTIONS = dynamodb(
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'BatchGetItem',
  'ConditionCheckItem',
);

/** What the API function does on the control table's `locksByNamespace` index: lists a namespace's held locks. */
export const LOCK_INDEX_ACTIONS = dynamodb('Query');

/** What the Powertools idempotency persistence layer does on the idempotency table. */
export const IDEMPOTENCY_READ_WRITE_ACTIONS = dynamodb('GetItem', 'PutItem', 'UpdateItem', 'DeleteItem');

/**
 * What the lease reaper does on the control table: reads an expired lease's holdings (`Query`),
 * frees its locks (`UpdateItem`), deletes its holding items and the lease, and records its last
 * run (`PutItem` of `reaper#status`, which only the API reads).
 */
export const LEASE_REAPER_CONTROL_ACTIONS = dynamodb('PutItem', 'UpdateItem', 'DeleteItem', 'Query');

/** What the lease reaper does on the control table's `byExpiry` index: one Query per shard. */
export const LEASE_REAPER_EXPIRY_INDEX_ACTIONS = dynamodb('Query');

/**
 * What the lease reaper does on the records table: expires the records a reaped lease held, with
 * a conditional update (never a read of other records, never a delete).
 */
export const LEASE_REAPER_RECORDS_ACTIONS = dynamodb('UpdateItem');

/**
 * What the field sweeper does on the records table: reads a record with a due field (`GetItem`,
 * consistent), writes it without its due fields (a `PutItem` conditioned on the record as read),
 * or moves its `due` bound (`UpdateItem`, no new `rev`). Never a Scan, never a delete. In
 * several Regions it also reads the key's item in every Region (`regionalSweeping`).
 */
export const FIELD_SWEEPER_RECORDS_ACTIONS = dynamodb('GetItem', 'PutItem', 'UpdateItem');

/** What the field sweeper does on the records table's `byFieldExpiry` index: one Query per shard. */
export const FIELD_SWEEPER_EXPIRY_INDEX_ACTIONS = dynamodb('Query');

/** What the field sweeper does on the control table: records its last run (`PutItem` of `field-sweeper#status`). */
export const FIELD_SWEEPER_CONTROL_ACTIONS = dynamodb('PutItem');

/** What the lease renewer does on the control table: moves a live lease's expiry forward. */
export const LEASE_RENEWER_CONTROL_ACTIONS = dynamodb('UpdateItem');

/** What the lease renewer does on the control table's `byExecution` index: one Query per shard. */
export const LEASE_RENEWER_EXECUTION_INDEX_ACTIONS = dynamodb('Query');

/**
 * What the lease renewer asks Step Functions: whether the execution that holds a lease still
 * runs. Granted on the executions of the stack's own state machines only.
 */
export const EXECUTION_STATUS_ACTIONS = ['states:DescribeExecution'] as const;

/**
 * What the saga-step function does on the records table: every action and compensation is a
 * record transaction committed with its saga-log entry, which reads the records it touches
 * (`BatchGetItem`) and writes each as a conditional `PutItem` (a delete is a tombstone, a put),
 * or checks an untouched one (`ConditionCheckItem`). No single-item `GetItem` or `UpdateItem`, no
 * `DeleteItem`, `Query` or `Scan`.
 */
export const SAGA_STEP_RECORDS_ACTIONS = dynamodb('BatchGetItem', 'PutItem', 'ConditionCheckItem');

/** What the saga-step function does on the control table: reads namespace settings and leases. */
export const SAGA_STEP_CONTROL_ACTIONS = dynamodb('GetItem');

/**
 * What the saga-step function does on the sagas table (the saga log): reads a step (`GetItem`)
 * and the saga with all of its steps (one `Query`: the step names the execution history shows,
 * the cause of a compensated saga), writes the exactly-once entries (`PutItem`) and step and saga
 * statuses (`UpdateItem`), alone or as parts of a transaction with a record write.
 */
export const SAGA_LOG_STEP_ACTIONS = dynamodb('GetItem', 'PutItem', 'Query', 'UpdateItem');

/**
 * What the API function does on the sagas table: records a new saga (header and steps, in one
 * transaction), marks its execution, and reads it back (`GetItem`, and one `Query` for the saga
 * with all of its steps).
 */
export const SAGA_LOG_API_ACTIONS = dynamodb('GetItem', 'PutItem', 'UpdateItem', 'Query');

/** What the API function does on the sagas table's `byStatus` index: lists sagas newest first. */
export const SAGA_LIST_INDEX_ACTIONS = dynamodb('Query');

/** What the API function may do with Vesta's state machines (and no other): start an execution. */
export const SAGA_START_ACTIONS = ['states:StartExecution'] as const;

/**
 * What the API function may do with the executions of the saga state machines (and no other):
 * redrive a failed one, when a person retries a COMPENSATION_FAILED saga.
 */
export const SAGA_REDRIVE_ACTIONS = ['states:RedriveExecution'] as const;

/**
 * What a Lambda function needs on its own, already existing log group. Granting these on the one
 * log group replaces the `AWSLambdaBasicExecutionRole` managed policy (which allows every log
 * group of the account).
 */
export const LOG_WRITE_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;

/**
 * What active tracing adds to a function's role (the CDK adds it when `tracing` is `ACTIVE`).
 * X-Ray does not support resource-level permissions, so these are the only actions allowed on `*`.
 */
export const XRAY_WRITE_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'] as const;

/** Snapshot export: read the records table a segment at a time (namespace Query, parallel Scan). */
export const SNAPSHOT_EXPORT_RECORDS_ACTIONS = dynamodb('Query', 'Scan');

/**
 * Snapshot export on the control table (`pk = snapshot | snapshot-latest`): read the snapshot,
 * record its cut and each part, complete or fail it, mark the newest complete one (updates: the
 * API or the schedule created the snapshot); open and close its cut (`PutItem` and `DeleteItem`
 * of `snapshot-cut`) and read the pre-images the publisher kept for it (`BatchGetItem`). No `Query`.
 */
export const SNAPSHOT_EXPORT_CONTROL_ACTIONS = dynamodb(
  'GetItem',
  'UpdateItem',
  'PutItem',
  'DeleteItem',
  'BatchGetItem',
);

/**
 * Snapshot restore on the control table: read the restore, its snapshot, each part's checkpoint
 * and the leases of records it finds (to tell a live record of a lease), move a checkpoint with
 * each batch and record the outcome (`UpdateItem`; the API created the restore, so no `PutItem`),
 * and add up the checkpoints (`Query`).
 */
export const SNAPSHOT_RESTORE_CONTROL_ACTIONS = dynamodb('GetItem', 'UpdateItem', 'Query');

/** Snapshot schedule on the control table: record a scheduled snapshot, read the newest-complete mark. */
export const SNAPSHOT_SCHEDULE_CONTROL_ACTIONS = dynamodb('GetItem', 'PutItem');

/**
 * Snapshot restore on the records table: read a batch's records (`BatchGetItem`), then write them
 * with conditional puts in the batch's transaction (a failed condition returns the record, so no
 * `GetItem`).
 */
export const SNAPSHOT_RESTORE_RECORDS_ACTIONS = dynamodb('BatchGetItem', 'PutItem');

/** Snapshot export on `snapshots/*` of the bucket: parts (multipart uploads) and the manifest. */
export const SNAPSHOT_WRITE_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload'] as const;

/** Snapshot restore on `snapshots/*` of the bucket: the manifest and the parts. */
export const SNAPSHOT_READ_ACTIONS = ['s3:GetObject'] as const;

/** Listing the snapshot bucket's objects under a prefix (the API, for an import). */
export const SNAPSHOT_LIST_ACTIONS = ['s3:ListBucket'] as const;

/** Starting snapshot and restore executions (the API; the schedule function, snapshots only). */
export const SNAPSHOT_START_ACTIONS = ['states:StartExecution'] as const;

/**
 * What the change publisher does on the change table: appends as transactions of an `UpdateItem`
 * of the namespace's head and `PutItem`s of the changes and their id items. No read: a stale head
 * comes back from the failed condition.
 */
export const CHANGE_LOG_APPEND_ACTIONS = dynamodb('PutItem', 'UpdateItem');

/**
 * What the change publisher does on the control table for running snapshots: reads the open cuts
 * (one `Query`, at most five a second) and keeps pre-images (a conditional `PutItem` each).
 */
export const SNAPSHOT_CUT_KEEP_ACTIONS = dynamodb('Query', 'PutItem');

/** What the API function does on the change table: one `Query` per look at a namespace's log. */
export const CHANGE_LOG_READ_ACTIONS = dynamodb('Query');

/**
 * What CloudWatch does with the topic's key when an alarm publishes: SNS encrypts each message
 * under a data key that the publisher's principal must be allowed to generate and decrypt.
 */
export const ALARM_TOPIC_KEY_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey*'] as const;

/** What CloudWatch does on the topic: publish alarm state changes. */
export const ALARM_TOPIC_PUBLISH_ACTIONS = ['sns:Publish'] as const;

/**
 * What a background function (change publisher, snapshot export and restore, lease reaper and
 * renewer, field sweeper) does on the dead-letter table: sets an item aside or updates its entry (`UpdateItem`,
 * an upsert), and for a replay reads the entry and removes it once replayed. No Query, no Scan.
 */
export const DEAD_LETTER_WRITE_ACTIONS = dynamodb('GetItem', 'UpdateItem', 'DeleteItem');

/** What the API function does on the dead-letter table: reads an entry, discards one. */
export const DEAD_LETTER_API_ACTIONS = dynamodb('GetItem', 'DeleteItem');

/** What the API function does on the dead-letter table's `bySource` index: lists a source's entries. */
export const DEAD_LETTER_INDEX_ACTIONS = dynamodb('Query');

/** What the API function may do with the background functions (and no other): invoke one to replay an entry. */
export const DEAD_LETTER_REPLAY_ACTIONS = ['lambda:InvokeFunction'] as const;

/**
 * What a caller of the API needs (`VestaService.grantRead`, `grantWrite`, `grantAdmin`), on the
 * execute-api ARNs of the methods and paths its access covers (`src/api/access.ts`).
 */
export const API_INVOKE_ACTIONS = ['execute-api:Invoke'] as const;

/** A list of actions on one table of `TABLE_DEFS`, and lists on some of its indexes, by index name. */
export interface TableGrant {
  readonly table: TableId;
  readonly actions: readonly string[];
  /** @default - none of its indexes */
  readonly indexes?: Readonly<Record<string, readonly string[]>>;
}

/**
 * What a function may do on the tables, by intent: each intent is the action lists above on the
 * table, or the one index, they apply to. `StateTables.grant` grants intents by these names.
 */
export const TABLE_INTENTS = {
  /** API function: item reads and conditional writes on the records table, transactions included (no Scan). */
  recordsReadWrite: [{ table: 'records', actions: RECORDS_READ_WRITE_ACTIONS }],
  /**
   * API function: item reads and writes on the control table (namespace settings, leases, locks),
   * and the lock listing through `locksByNamespace`.
   */
  controlReadWrite: [
    { table: 'control', actions: CONTROL_READ_WRITE_ACTIONS, indexes: { locksByNamespace: LOCK_INDEX_ACTIONS } },
  ],
  /** API function: what the Powertools idempotency layer needs on the idempotency table. */
  idempotencyReadWrite: [{ table: 'idempotency', actions: IDEMPOTENCY_READ_WRITE_ACTIONS }],
  /**
   * Lease reaper: find expired leases on the control table's `byExpiry` index, remove them and
   * what they hold, record its run; expire the records they held.
   */
  leaseReaping: [
    {
      table: 'control',
      actions: LEASE_REAPER_CONTROL_ACTIONS,
      indexes: { byExpiry: LEASE_REAPER_EXPIRY_INDEX_ACTIONS },
    },
    { table: 'records', actions: LEASE_REAPER_RECORDS_ACTIONS },
  ],
  /**
   * Field sweeper: find records with due fields on the records table's `byFieldExpiry` index,
   * rewrite them without those fields or fix their bound; record its run on the control table.
   */
  fieldSweeping: [
    {
      table: 'records',
      actions: FIELD_SWEEPER_RECORDS_ACTIONS,
      indexes: { byFieldExpiry: FIELD_SWEEPER_EXPIRY_INDEX_ACTIONS },
    },
    { table: 'control', actions: FIELD_SWEEPER_CONTROL_ACTIONS },
  ],
  /** Lease renewer: find execution leases on `byExecution` and extend them. */
  leaseRenewal: [
    {
      table: 'control',
      actions: LEASE_RENEWER_CONTROL_ACTIONS,
      indexes: { byExecution: LEASE_RENEWER_EXECUTION_INDEX_ACTIONS },
    },
  ],
  /**
   * Saga-step function: read and conditionally write the records a step touches, read namespace
   * settings and leases on the control table, read and write the saga log.
   */
  sagaStep: [
    { table: 'records', actions: SAGA_STEP_RECORDS_ACTIONS },
    { table: 'control', actions: SAGA_STEP_CONTROL_ACTIONS },
    { table: 'sagas', actions: SAGA_LOG_STEP_ACTIONS },
  ],
  /** API function on the saga log: record new sagas, read them back, list them through `byStatus`. */
  sagaLogApi: [{ table: 'sagas', actions: SAGA_LOG_API_ACTIONS, indexes: { byStatus: SAGA_LIST_INDEX_ACTIONS } }],
  /** Snapshot export function: read the records table by segment, track the snapshot. */
  snapshotExport: [
    { table: 'records', actions: SNAPSHOT_EXPORT_RECORDS_ACTIONS },
    { table: 'control', actions: SNAPSHOT_EXPORT_CONTROL_ACTIONS },
  ],
  /** Snapshot restore function: batches of conditional puts, their checkpoints, the restore's status, leases. */
  snapshotRestore: [
    { table: 'records', actions: SNAPSHOT_RESTORE_RECORDS_ACTIONS },
    { table: 'control', actions: SNAPSHOT_RESTORE_CONTROL_ACTIONS },
  ],
  /** Snapshot schedule function: record a snapshot, read the newest-complete mark. */
  snapshotStore: [{ table: 'control', actions: SNAPSHOT_SCHEDULE_CONTROL_ACTIONS }],
  /**
   * Change publisher of a deployment in several Regions on the records table: every Region's
   * items of a key that a replicated record may have made losers of (`BatchGetItem`).
   */
  regionalLosers: [{ table: 'records', actions: dynamodb('BatchGetItem') }],
  /**
   * Snapshot export of a deployment in several Regions on the records table: a whole-store
   * segment reads every Region's items of the keys it scans (`BatchGetItem`).
   */
  regionalSnapshotExport: [{ table: 'records', actions: dynamodb('BatchGetItem') }],
  /**
   * Field sweeper of a deployment in several Regions on the records table: every Region's item of
   * a key its own item has a due field of (`BatchGetItem`).
   */
  regionalSweeping: [{ table: 'records', actions: dynamodb('BatchGetItem') }],
  /** Change publisher on the change table: append (no read, no delete). */
  changeLogAppend: [{ table: 'changes', actions: CHANGE_LOG_APPEND_ACTIONS }],
  /** Change publisher on the control table: the open snapshot cuts, and the pre-images they need. */
  snapshotCutKeep: [{ table: 'control', actions: SNAPSHOT_CUT_KEEP_ACTIONS }],
  /** API function on the change table: query a namespace's log. */
  changeLogRead: [{ table: 'changes', actions: CHANGE_LOG_READ_ACTIONS }],
  /** A background function: set items aside and replay its own entries (no listing). */
  deadLetterWrite: [{ table: 'deadletters', actions: DEAD_LETTER_WRITE_ACTIONS }],
  /** API function, for the dead-letter routes: read, discard, list through `bySource`. */
  deadLetterOperations: [
    { table: 'deadletters', actions: DEAD_LETTER_API_ACTIONS, indexes: { bySource: DEAD_LETTER_INDEX_ACTIONS } },
  ],
} as const satisfies Record<string, readonly TableGrant[]>;

/** The name of an intent of `TABLE_INTENTS`. */
export type TableIntent = keyof typeof TABLE_INTENTS;
