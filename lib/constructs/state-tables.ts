/**
 * The DynamoDB tables of Vesta, built from the one list of table definitions that the local stack
 * also reads, so the data model is written down once. Deployed to several Regions
 * (docs/regions.md), the records table is global: the first Region's stack creates it with a
 * replica in each other Region, and the other Regions' stacks use their replica by its name.
 */
import { Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  TABLE_DEFS,
  physicalTableName,
  type AttributeType,
  type IndexDef,
  type KeyAttribute,
  type TableDef,
} from '../../src/adapters/dynamodb/table-defs';
import { TABLE_INTENTS, type TableGrant, type TableIntent } from '../perms';
import { removalPolicyOf, retainsByDefault, validateStage } from '../stage';
import type { RetentionDays } from '../../src/core/retention';
import { type DeploymentRegions, resolveRegions } from './regions';
import { resolveRetention, retentionEnvironment } from './retention';

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
  /**
   * Days finished history is kept, each counted from its end (snapshots: from their start): the
   * functions set the items' `ttl` from these, and treat an item past it as gone.
   * @default - each from its context key (`vesta:snapshotRetentionDays`, `vesta:sagaRetentionDays`, `vesta:restoreRetentionDays`), else 35, 30 and 30 days
   */
  readonly retention?: Partial<RetentionDays>;
  /**
   * The Regions of the deployment, the first one first: in the first Region the records table
   * gets a replica in each other Region; in another Region the stack creates no records table and
   * uses that Region's replica. The other tables are the stack's own in every Region.
   * @default - the `regions` context value, else `vesta:regions`, else one Region (the stack's)
   */
  readonly regions?: readonly string[];
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
  /**
   * The tables by their definition id. In a Region other than the deployment's first, `records`
   * is that Region's replica of the first Region's table, not a table of this stack.
   */
  readonly tables: Readonly<Record<TableId, dynamodb.ITableV2>>;
  /** The deployment's Regions; `undefined` when none are set (one Region, the stack's own). */
  readonly regions?: DeploymentRegions;
  /** Whether the tables are retained and deletion-protected. */
  readonly retain: boolean;
  /** Days snapshots, finished sagas' logs and finished restores' records are kept. */
  readonly retention: RetentionDays;

  /**
   * Throws an `Error` when `stage`, `tableNamePrefix` or `regions` is malformed, or `regions`
   * does not fit the stack's Region (`resolveRegions`); the message echoes the value.
   */
  constructor(scope: Construct, id: string, props: StateTablesProps) {
    super(scope, id);
    validateStage(props.stage);
    if (!Token.isUnresolved(props.tableNamePrefix) && !PREFIX_PATTERN.test(props.tableNamePrefix)) {
      throw new Error(
        `tableNamePrefix must be 1 to 200 letters, digits, '_', '-' or '.'. Received: ${JSON.stringify(props.tableNamePrefix)}`,
      );
    }
    this.retain = props.retain ?? retainsByDefault(props.stage);
    this.retention = resolveRetention(this, props.retention);
    this.regions = resolveRegions(this, props.regions);
    const here = Stack.of(this).region;

    const tables: Partial<Record<TableId, dynamodb.ITableV2>> = {};
    for (const def of TABLE_DEFS) {
      const global = def.id === 'records' && this.regions !== undefined;
      if (global && !this.regions!.isPrimary) {
        tables[def.id] = this.replicaOf(physicalTableName(props.tableNamePrefix, def), def);
        continue;
      }
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
        // The stack's own Region is always a replica; the deployment's other Regions join it.
        replicas: global ? this.regions!.regions.filter((r) => r !== here).map((region) => ({ region })) : undefined,
      });
    }
    this.tables = tables as Record<TableId, dynamodb.ITableV2>;
  }

  /**
   * The replica in this stack's Region of a global table the first Region's stack created. Its
   * stream ARN carries the time the stream was enabled, which only DynamoDB knows: a custom
   * resource reads it at deploy time with `DescribeTable` on that one table.
   */
  private replicaOf(tableName: string, def: TableDef): dynamodb.ITableV2 {
    const tableArn = Stack.of(this).formatArn({ service: 'dynamodb', resource: 'table', resourceName: tableName });
    const describe: cr.AwsSdkCall = {
      service: 'DynamoDB',
      action: 'describeTable',
      parameters: { TableName: tableName },
      physicalResourceId: cr.PhysicalResourceId.fromResponse('Table.LatestStreamArn'),
      outputPaths: ['Table.LatestStreamArn'],
    };
    const stream = new cr.AwsCustomResource(this, `${def.id}ReplicaStream`, {
      onCreate: describe,
      onUpdate: describe,
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['dynamodb:DescribeTable'], resources: [tableArn] }),
      ]),
      installLatestAwsSdk: false,
    });
    // The function behind every AwsCustomResource of the stack, one per stack, made by CDK.
    const provider = Stack.of(this).node.findChild(
      `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`,
    );
    NagSuppressions.addResourceSuppressions(
      provider,
      [
        {
          id: 'AwsSolutions-IAM4',
          reason:
            'The role of the AwsCustomResource provider that CDK makes uses AWSLambdaBasicExecutionRole for its own logs; its only other permission is DescribeTable on the records replica.',
          appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
        },
      ],
      true,
    );
    return dynamodb.TableV2.fromTableAttributes(this, def.id, {
      tableArn,
      tableStreamArn: stream.getResponseField('Table.LatestStreamArn'),
      globalIndexes: def.indexes?.map((ix) => ix.name),
    });
  }

  /**
   * Grants `grantee` each intent of `TABLE_INTENTS` (`lib/perms.ts`) given: every action list of
   * the intent on the table, or the one index, it names. Throws an `Error` when an intent names an
   * index its table does not define.
   */
  grant(grantee: iam.IGrantable, intent: TableIntent, ...more: TableIntent[]): iam.Grant {
    const grants = [intent, ...more]
      .flatMap((i): readonly TableGrant[] => TABLE_INTENTS[i])
      .flatMap((g) => [
        // TableV2.grant() adds `<table>/index/*` as soon as a table has an index; these name the
        // table and each index an intent needs instead.
        { actions: g.actions, arn: this.tables[g.table].tableArn },
        ...Object.entries(g.indexes ?? {}).map(([name, actions]) => ({ actions, arn: this.indexArn(g.table, name) })),
      ])
      .map(({ actions, arn }) => iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [arn] }));
    return grants.reduce((all, g) => all.combine(g));
  }

  /** ARN of an index of a table. Throws an `Error` when the table definition has no such index. */
  indexArn(table: TableId, indexName: string): string {
    const def = TABLE_DEFS.find((d) => d.id === table);
    if (!def?.indexes?.some((ix) => ix.name === indexName)) {
      throw new Error(`the ${table} table defines no index of that name. Received: ${JSON.stringify(indexName)}`);
    }
    return `${this.tables[table].tableArn}/index/${indexName}`;
  }

  /**
   * Environment variables that carry each table's physical name (`{ [def.envVar]: tableName }`)
   * and the retentions (`VESTA_SNAPSHOT_RETENTION_DAYS`, `VESTA_SAGA_RETENTION_DAYS`,
   * `VESTA_RESTORE_RETENTION_DAYS`), and with Regions set, the deployment's Regions
   * (`VESTA_REGIONS`, comma-separated, the first one first).
   */
  environment(): Record<string, string> {
    return {
      ...Object.fromEntries(TABLE_DEFS.map((def) => [def.envVar, this.tables[def.id].tableName])),
      ...retentionEnvironment(this.retention),
      ...(this.regions && { VESTA_REGIONS: this.regions.regions.join(',') }),
    };
  }
}
