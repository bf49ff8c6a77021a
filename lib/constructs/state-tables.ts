/**
 * The DynamoDB tables of Vesta, built from the one list of table definitions that the local stack
 * also reads, so the data model is written down once.
 */
import { Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  TABLE_DEFS,
  physicalTableName,
  type AttributeType,
  type IndexDef,
  type KeyAttribute,
  type TableDef,
} from '../../src/adapters/dynamodb/table-defs';
import {
  CHANGE_LOG_APPEND_ACTIONS,
  CHANGE_LOG_READ_ACTIONS,
  CONTROL_READ_WRITE_ACTIONS,
  DEAD_LETTER_API_ACTIONS,
  DEAD_LETTER_INDEX_ACTIONS,
  DEAD_LETTER_WRITE_ACTIONS,
  IDEMPOTENCY_READ_WRITE_ACTIONS,
  LEASE_REAPER_CONTROL_ACTIONS,
  LEASE_REAPER_EXPIRY_INDEX_ACTIONS,
  LEASE_REAPER_RECORDS_ACTIONS,
  LEASE_RENEWER_CONTROL_ACTIONS,
  LEASE_RENEWER_EXECUTION_INDEX_ACTIONS,
  RECORDS_READ_WRITE_ACTIONS,
  SAGA_LOG_API_ACTIONS,
  SAGA_LOG_STEP_ACTIONS,
  SAGA_STEP_CONTROL_ACTIONS,
  SAGA_STEP_RECORDS_ACTIONS,
  SNAPSHOT_EXPORT_RECORDS_ACTIONS,
  SNAPSHOT_RESTORE_CONTROL_ACTIONS,
  SNAPSHOT_RESTORE_RECORDS_ACTIONS,
  SNAPSHOT_SCHEDULE_CONTROL_ACTIONS,
  SNAPSHOT_EXPORT_CONTROL_ACTIONS,
} from '../perms';
import { removalPolicyOf, retainsByDefault, validateStage } from '../stage';

export type TableId = TableDef['id'];

export interface StateTablesProps {
  /** Deployment stage; decides the default of `retain`. */
  readonly stage: string;
  /**
   * Prefix of the physical table names (`<prefix>-<id>`, e.g. `vesta-dev-records`). Letters,
   * digits, `_`, `-` and `.`; at most 200 characters.
   */
  readonly tableNamePrefix: string;
  /**
   * Keep the tables when they leave the stack, and turn deletion protection on.
   * @default true for the `prod` stage, false for every other stage
   */
  readonly retain?: boolean;
}

const ATTRIBUTE_TYPES: Readonly<Record<AttributeType, dynamodb.AttributeType>> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

const PREFIX_PATTERN = /^[a-zA-Z0-9_.-]{1,200}$/;

function attribute(key: KeyAttribute): dynamodb.Attribute {
  return { name: key.name, type: ATTRIBUTE_TYPES[key.type] };
}

/** A global secondary index: INCLUDE with the listed attributes, or KEYS_ONLY when none are. */
function globalIndex(def: IndexDef): dynamodb.GlobalSecondaryIndexPropsV2 {
  const include = (def.project?.length ?? 0) > 0;
  return {
    indexName: def.name,
    partitionKey: attribute(def.partitionKey),
    sortKey: def.sortKey && attribute(def.sortKey),
    projectionType: include ? dynamodb.ProjectionType.INCLUDE : dynamodb.ProjectionType.KEYS_ONLY,
    nonKeyAttributes: include ? [...def.project!] : undefined,
  };
}

/**
 * One `TableV2` per table definition: on-demand, point-in-time recovery, server-side encryption,
 * TTL clean-up and, where the definition asks for them, a NEW_AND_OLD_IMAGES stream and global
 * secondary indexes. Grants name the table (and an index) they apply to: never `index/*`.
 */
export class StateTables extends Construct {
  /** The tables by their definition id. */
  readonly tables: Readonly<Record<TableId, dynamodb.TableV2>>;
  /** Whether the tables are retained and deletion-protected. */
  readonly retain: boolean;

  /** Throws an `Error` when `stage` or `tableNamePrefix` is malformed; the message echoes it. */
  constructor(scope: Construct, id: string, props: StateTablesProps) {
    super(scope, id);
    validateStage(props.stage);
    if (!Token.isUnresolved(props.tableNamePrefix) && !PREFIX_PATTERN.test(props.tableNamePrefix)) {
      throw new Error(
        `tableNamePrefix must be 1 to 200 letters, digits, '_', '-' or '.'. Received: ${JSON.stringify(props.tableNamePrefix)}`,
      );
    }
    this.retain = props.retain ?? retainsByDefault(props.stage);

    const tables: Partial<Record<TableId, dynamodb.TableV2>> = {};
    for (const def of TABLE_DEFS) {
      tables[def.id] = new dynamodb.TableV2(this, def.id, {
        tableName: physicalTableName(props.tableNamePrefix, def),
        partitionKey: attribute(def.partitionKey),
        sortKey: def.sortKey && attribute(def.sortKey),
        billing: dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        // The AWS-managed key (aws/dynamodb) rather than the default AWS-owned one: its use shows
        // in CloudTrail and it needs no key policy. A customer-managed key would only add KMS
        // cost and grants to keep right, and nothing here needs key-level access control yet.
        encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
        timeToLiveAttribute: def.ttlAttribute,
        dynamoStream: def.stream ? dynamodb.StreamViewType.NEW_AND_OLD_IMAGES : undefined,
        globalSecondaryIndexes: def.indexes?.map(globalIndex),
        removalPolicy: removalPolicyOf(this.retain),
        deletionProtection: this.retain,
      });
    }
    this.tables = tables as Record<TableId, dynamodb.TableV2>;
  }

  /** Item reads and conditional writes on the records table, transactions included (no Scan). */
  grantRecordsReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, 'records', RECORDS_READ_WRITE_ACTIONS);
  }

  /** Item reads and writes on the control table (namespace settings, leases, locks); no index. */
  grantControlReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, 'control', CONTROL_READ_WRITE_ACTIONS);
  }

  /** What the Powertools idempotency layer needs on the idempotency table. */
  grantIdempotencyReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, 'idempotency', IDEMPOTENCY_READ_WRITE_ACTIONS);
  }

  /**
   * What the lease reaper needs: find expired leases on the control table's `byExpiry` index,
   * remove them and what they hold, record its run; expire the records they held.
   */
  grantLeaseReaping(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, 'control', LEASE_REAPER_CONTROL_ACTIONS)
      .combine(this.grantOnIndex(grantee, 'control', 'byExpiry', LEASE_REAPER_EXPIRY_INDEX_ACTIONS))
      .combine(this.grantOnTable(grantee, 'records', LEASE_REAPER_RECORDS_ACTIONS));
  }

  /** What the lease renewer needs: find execution leases on `byExecution` and extend them. */
  grantLeaseRenewal(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, 'control', LEASE_RENEWER_CONTROL_ACTIONS).combine(
      this.grantOnIndex(grantee, 'control', 'byExecution', LEASE_RENEWER_EXECUTION_INDEX_ACTIONS),
    );
  }

  /**
   * What the saga-step function needs: read and conditionally write the records a step touches,
   * read namespace settings and leases on the control table, read and write the saga log.
   */
  grantSagaStep(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, 'records', SAGA_STEP_RECORDS_ACTIONS)
      .combine(this.grantOnTable(grantee, 'control', SAGA_STEP_CONTROL_ACTIONS))
      .combine(this.grantOnTable(grantee, 'sagas', SAGA_LOG_STEP_ACTIONS));
  }

  /** What the API function needs on the saga log: record new sagas, read them back (no index). */
  grantSagaLogApi(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, 'sagas', SAGA_LOG_API_ACTIONS);
  }

  /** What the snapshot export function needs: read the records table by segment, track the snapshot. */
  grantSnapshotExport(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, 'records', SNAPSHOT_EXPORT_RECORDS_ACTIONS).combine(this.grantOnTable(grantee, 'control', SNAPSHOT_EXPORT_CONTROL_ACTIONS));
  }

  /** What the snapshot restore function needs: batches of conditional puts, their checkpoints, the restore's status, leases. */
  grantSnapshotRestore(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, 'records', SNAPSHOT_RESTORE_RECORDS_ACTIONS).combine(this.grantOnTable(grantee, 'control', SNAPSHOT_RESTORE_CONTROL_ACTIONS));
  }

  /** What the snapshot schedule function needs: record a snapshot, read the newest-complete mark. */
  grantSnapshotStore(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, 'control', SNAPSHOT_SCHEDULE_CONTROL_ACTIONS);
  }

  /** What the change publisher needs on the change table: append (no read, no delete). */
  grantChangeLogAppend(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, 'changes', CHANGE_LOG_APPEND_ACTIONS);
  }

  /** What the API function needs on the change table: query a namespace's log. */
  grantChangeLogRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, 'changes', CHANGE_LOG_READ_ACTIONS);
  }

  /** What a background function needs to set items aside and replay its own entries (no listing). */
  grantDeadLetterWrite(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, 'deadletters', DEAD_LETTER_WRITE_ACTIONS);
  }

  /** What the API function needs for the dead-letter routes: read, discard, list through `bySource`. */
  grantDeadLetterOperations(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, 'deadletters', DEAD_LETTER_API_ACTIONS).combine(
      this.grantOnIndex(grantee, 'deadletters', 'bySource', DEAD_LETTER_INDEX_ACTIONS),
    );
  }

  /** ARN of an index of a table. Throws an `Error` when the table definition has no such index. */
  indexArn(table: TableId, indexName: string): string {
    const def = TABLE_DEFS.find((d) => d.id === table);
    if (!def?.indexes?.some((ix) => ix.name === indexName)) {
      throw new Error(`the ${table} table defines no index of that name. Received: ${JSON.stringify(indexName)}`);
    }
    return `${this.tables[table].tableArn}/index/${indexName}`;
  }

  // TableV2.grant() adds `<table>/index/*` as soon as a table has an index; these grants name the
  // table or the one index an intent needs instead.
  private grantOnTable(grantee: iam.IGrantable, table: TableId, actions: readonly string[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [this.tables[table].tableArn] });
  }

  private grantOnIndex(grantee: iam.IGrantable, table: TableId, indexName: string, actions: readonly string[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [this.indexArn(table, indexName)] });
  }

  /** Environment variables that carry each table's physical name: `{ [def.envVar]: tableName }`. */
  environment(): Record<string, string> {
    return Object.fromEntries(TABLE_DEFS.map((def) => [def.envVar, this.tables[def.id].tableName]));
  }
}
