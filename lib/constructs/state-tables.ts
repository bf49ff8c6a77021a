/**
 * The DynamoDB tables of Vesta, built from the one list of table definitions that the local stack
 * also reads, so the data model is written down once.
 */
import { RemovalPolicy, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  TABLE_DEFS,
  physicalTableName,
  type AttributeType,
  type KeyAttribute,
  type TableDef,
} from '../../src/adapters/dynamodb/table-defs';
import { CONTROL_READ_WRITE_ACTIONS, IDEMPOTENCY_READ_WRITE_ACTIONS, RECORDS_READ_WRITE_ACTIONS } from '../perms';
import { retainsByDefault, validateStage } from '../stage';

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

/**
 * One `TableV2` per table definition: on-demand, point-in-time recovery, server-side encryption,
 * TTL clean-up and, where the definition asks for one, a NEW_AND_OLD_IMAGES stream.
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
        removalPolicy: this.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        deletionProtection: this.retain,
      });
    }
    this.tables = tables as Record<TableId, dynamodb.TableV2>;
  }

  /** Item reads and conditional writes on the records table, transactions included (no Scan). */
  grantRecordsReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.tables.records.grant(grantee, ...RECORDS_READ_WRITE_ACTIONS);
  }

  /** Item reads and writes on the control table (namespace settings, control items). */
  grantControlReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.tables.control.grant(grantee, ...CONTROL_READ_WRITE_ACTIONS);
  }

  /** What the Powertools idempotency layer needs on the idempotency table. */
  grantIdempotencyReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.tables.idempotency.grant(grantee, ...IDEMPOTENCY_READ_WRITE_ACTIONS);
  }

  /** Environment variables that carry each table's physical name: `{ [def.envVar]: tableName }`. */
  environment(): Record<string, string> {
    return Object.fromEntries(TABLE_DEFS.map((def) => [def.envVar, this.tables[def.id].tableName]));
  }
}
