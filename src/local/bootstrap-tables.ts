/**
 * Creates Vesta's tables in a DynamoDB endpoint (DynamoDB Local, or an existing table set) from
 * the same definitions the CDK stack uses, when they are missing.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { TABLE_DEFS, type TableDef, physicalTableName } from '../adapters/dynamodb/table-defs';

export function createTableInput(prefix: string, def: TableDef): CreateTableCommandInput {
  const keys = [def.partitionKey, ...(def.sortKey ? [def.sortKey] : [])];
  return {
    TableName: physicalTableName(prefix, def),
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
    KeySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
    ...(def.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } } : {}),
  };
}

/** Creates the missing tables and waits until they are active; returns the env var map of their names. */
export async function ensureTables(client: DynamoDBClient, prefix: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const def of TABLE_DEFS) {
    const name = physicalTableName(prefix, def);
    env[def.envVar] = name;
    try {
      await client.send(new DescribeTableCommand({ TableName: name }));
      continue;
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
    }
    try {
      await client.send(new CreateTableCommand(createTableInput(prefix, def)));
    } catch (e) {
      if (!(e instanceof ResourceInUseException)) throw e;
    }
    await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: name });
  }
  return env;
}
