import { TABLE_DEFS } from '../../src/adapters/dynamodb/table-defs';
import { StateTables } from '../../lib/constructs/state-tables';
import { RETENTION_ENV } from '../../src/core/retention';
import { bareStack, resourcesOf, synthesize, type Synthesized } from './synth';

const TABLE = 'AWS::DynamoDB::GlobalTable';

let dev: Synthesized;
let prod: Synthesized;

beforeAll(() => {
  dev = synthesize({ stage: 'dev' });
  prod = synthesize({ stage: 'prod' });
});
afterAll(() => {
  dev.dispose();
  prod.dispose();
});

function tableNamed(s: Synthesized, name: string) {
  const found = Object.values(resourcesOf(s.template, TABLE)).filter((r) => r.Properties.TableName === name);
  expect(found).toHaveLength(1);
  return found[0];
}

describe('StateTables', () => {
  test('creates one table per table definition, named vesta-<stage>-<id>', () => {
    expect(Object.keys(resourcesOf(dev.template, TABLE))).toHaveLength(TABLE_DEFS.length);
    for (const def of TABLE_DEFS) tableNamed(dev, `vesta-dev-${def.id}`);
  });

  test('every table uses the keys of its definition', () => {
    for (const def of TABLE_DEFS) {
      const keys = tableNamed(dev, `vesta-dev-${def.id}`).Properties.KeySchema;
      const expected = [{ AttributeName: def.partitionKey.name, KeyType: 'HASH' }];
      if (def.sortKey) expected.push({ AttributeName: def.sortKey.name, KeyType: 'RANGE' });
      expect(keys).toEqual(expected);
    }
  });

  test('every table is on-demand, with point-in-time recovery and KMS server-side encryption', () => {
    const tables = Object.values(resourcesOf(dev.template, TABLE));
    expect(tables.length).toBeGreaterThan(0);
    for (const t of tables) {
      expect(t.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(t.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
      for (const replica of t.Properties.Replicas) {
        expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      }
    }
  });

  test('tables expire items by the TTL attribute their definition names; the saga log has one too', () => {
    for (const id of ['records', 'control', 'idempotency', 'sagas'])
      expect(TABLE_DEFS.find((d) => d.id === id)?.ttlAttribute).toBeDefined();
    for (const def of TABLE_DEFS) {
      const spec = tableNamed(dev, `vesta-dev-${def.id}`).Properties.TimeToLiveSpecification;
      if (def.ttlAttribute) expect(spec).toEqual({ AttributeName: def.ttlAttribute, Enabled: true });
      else expect(spec).toBeUndefined();
    }
  });

  test('tables whose definition asks for a stream get NEW_AND_OLD_IMAGES, the others none', () => {
    expect(TABLE_DEFS.find((d) => d.id === 'records')?.stream).toBe(true);
    for (const def of TABLE_DEFS) {
      const spec = tableNamed(dev, `vesta-dev-${def.id}`).Properties.StreamSpecification;
      if (def.stream) expect(spec).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
      else expect(spec).toBeUndefined();
    }
  });

  test('every index of the table definitions exists with its keys and projection, and no other', () => {
    expect(
      TABLE_DEFS.find((d) => d.id === 'control')
        ?.indexes?.map((ix) => ix.name)
        .sort(),
    ).toEqual(['byExecution', 'byExpiry', 'locksByNamespace']);
    expect(TABLE_DEFS.find((d) => d.id === 'sagas')?.indexes?.map((ix) => ix.name)).toEqual(['byStatus']);
    for (const def of TABLE_DEFS) {
      const props = tableNamed(dev, `vesta-dev-${def.id}`).Properties;
      const actual = props.GlobalSecondaryIndexes ?? [];
      expect(actual.map((ix: any) => ix.IndexName).sort()).toEqual((def.indexes ?? []).map((ix) => ix.name).sort());
      for (const ix of def.indexes ?? []) {
        const found = actual.find((a: any) => a.IndexName === ix.name);
        const keys = [{ AttributeName: ix.partitionKey.name, KeyType: 'HASH' }];
        if (ix.sortKey) keys.push({ AttributeName: ix.sortKey.name, KeyType: 'RANGE' });
        expect(found.KeySchema).toEqual(keys);
        expect(found.Projection).toEqual(
          ix.project
            ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...ix.project] }
            : { ProjectionType: 'KEYS_ONLY' },
        );
        for (const key of [ix.partitionKey, ...(ix.sortKey ? [ix.sortKey] : [])]) {
          expect(props.AttributeDefinitions).toContainEqual({ AttributeName: key.name, AttributeType: key.type });
        }
      }
    }
  });

  test('the prod stage retains its tables and turns deletion protection on', () => {
    for (const t of Object.values(resourcesOf(prod.template, TABLE))) {
      expect(t.DeletionPolicy).toBe('Retain');
      expect(t.UpdateReplacePolicy).toBe('Retain');
      for (const replica of t.Properties.Replicas) expect(replica.DeletionProtectionEnabled).toBe(true);
    }
  });

  test('other stages destroy their tables and leave deletion protection off', () => {
    for (const t of Object.values(resourcesOf(dev.template, TABLE))) {
      expect(t.DeletionPolicy).toBe('Delete');
      for (const replica of t.Properties.Replicas) expect(replica.DeletionProtectionEnabled).toBe(false);
    }
  });

  test('an explicit retain overrides the stage default', () => {
    const tables = new StateTables(bareStack(), 'T', { stage: 'dev', tableNamePrefix: 'vesta-dev', retain: true });
    expect(tables.retain).toBe(true);
  });

  test('environment() maps each definition envVar to its table name', () => {
    const env = dev.stack.tables.environment();
    expect(Object.keys(env).sort()).toEqual(
      [...TABLE_DEFS.map((d) => d.envVar), ...Object.values(RETENTION_ENV)].sort(),
    );
    for (const def of TABLE_DEFS) expect(env[def.envVar]).toBe(dev.stack.tables.tables[def.id].tableName);
  });

  test('the saga log and the snapshot and restore records expire by the `ttl` attribute', () => {
    expect(tableNamed(dev, 'vesta-dev-sagas').Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'ttl',
      Enabled: true,
    });
    expect(tableNamed(dev, 'vesta-dev-control').Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'ttl',
      Enabled: true,
    });
  });

  test('retention defaults to 35 days of snapshots, 30 of finished sagas and restores, as environment variables', () => {
    expect(dev.stack.tables.retention).toEqual({ snapshots: 35, sagas: 30, restores: 30 });
    expect(dev.stack.tables.environment()).toMatchObject({
      VESTA_SNAPSHOT_RETENTION_DAYS: '35',
      VESTA_SAGA_RETENTION_DAYS: '30',
      VESTA_RESTORE_RETENTION_DAYS: '30',
    });
  });

  test('retention comes from the props, else context; a bad value fails naming its key', () => {
    const given = new StateTables(bareStack(), 'T', {
      stage: 'dev',
      tableNamePrefix: 'vesta-dev',
      retention: { sagas: 7, restores: 90 },
    });
    expect(given.retention).toEqual({ snapshots: 35, sagas: 7, restores: 90 });
    const stack = bareStack();
    stack.node.setContext('vesta:sagaRetentionDays', '14');
    stack.node.setContext('vesta:restoreRetentionDays', 3);
    expect(new StateTables(stack, 'T', { stage: 'dev', tableNamePrefix: 'vesta-dev' }).retention).toEqual({
      snapshots: 35,
      sagas: 14,
      restores: 3,
    });
    expect(
      () => new StateTables(bareStack(), 'T', { stage: 'dev', tableNamePrefix: 'x', retention: { sagas: 0 } }),
    ).toThrow(/vesta:sagaRetentionDays must be a whole number from 1 to 36500. Received: 0/);
    const bad = bareStack();
    bad.node.setContext('vesta:restoreRetentionDays', 'forever');
    expect(() => new StateTables(bad, 'T', { stage: 'dev', tableNamePrefix: 'x' })).toThrow(/Received: "forever"/);
  });

  test('a malformed stage or prefix is refused with the received value in the message', () => {
    expect(() => new StateTables(bareStack(), 'T', { stage: 'Prod!', tableNamePrefix: 'x' })).toThrow(
      /Received: "Prod!"/,
    );
    expect(() => new StateTables(bareStack(), 'T', { stage: 'dev', tableNamePrefix: 'a b' })).toThrow(
      /Received: "a b"/,
    );
  });
});
