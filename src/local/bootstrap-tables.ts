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
  UpdateTableCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { TABLE_DEFS, type TableDef, physicalTableName } from '../adapters/dynamodb/table-defs';

export function createTableInput(prefix: string, def: TableDef): CreateTableCommandInput {
  const keys = [def.partitionKey, ...(def.sortKey ? [def.sortKey] : [])];
  const schema = (ks: typeof keys) =>
    ks.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? ('HASH' as const) : ('RANGE' as const) }));
  const all = [...keys, ...(def.indexes ?? []).flatMap((ix) => [ix.partitionKey, ...(ix.sortKey ? [ix.sortKey] : [])])];
  const attributes = [...new Map(all.map((k) => [k.name, k])).values()];
  return {
    TableName: physicalTableName(prefix, def),
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: attributes.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
    KeySchema: schema(keys),
    ...(def.indexes?.length
      ? {
          GlobalSecondaryIndexes: def.indexes.map((ix) => ({
            IndexName: ix.name,
            KeySchema: schema([ix.partitionKey, ...(ix.sortKey ? [ix.sortKey] : [])]),
            Projection: ix.project
              ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...ix.project] }
              : { ProjectionType: 'KEYS_ONLY' as const },
          })),
        }
      : {}),
    ...(def.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } } : {}),
  };
}

/** Adds indexes a newer version defines to a table an older version created (data kept in .vesta/). */
async function addMissingIndexes(
  client: DynamoDBClient,
  prefix: string,
  def: TableDef,
  existing: Set<string>,
): Promise<void> {
  const input = createTableInput(prefix, def);
  for (const ix of input.GlobalSecondaryIndexes ?? []) {
    if (existing.has(ix.IndexName!)) continue;
    await client.send(
      new UpdateTableCommand({
        TableName: input.TableName,
        AttributeDefinitions: input.AttributeDefinitions,
        GlobalSecondaryIndexUpdates: [{ Create: ix }],
      }),
    );
  }
}

/** Creates the missing tables and waits until they are active; returns the env var map of their names. */
export async function ensureTables(client: DynamoDBClient, prefix: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const def of TABLE_DEFS) {
    const name = physicalTableName(prefix, def);
    env[def.envVar] = name;
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
      await addMissingIndexes(
        client,
        prefix,
        def,
        new Set((Table?.GlobalSecondaryIndexes ?? []).map((ix) => ix.IndexName ?? '')),
      );
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
