/**
 * Several Regions (docs/regions.md): the first Region's stack creates the records table with a
 * replica in each other Region; the other Regions' stacks create no records table and use their
 * replica, whose stream ARN a custom resource reads at deploy time. Malformed `regions` values
 * refuse synthesis, and without them the stack is the single-Region stack it always was.
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { TABLE_DEFS } from '../../src/adapters/dynamodb/table-defs';
import { list, roleStatements } from './policies';
import { resourcesOf, synthesize, type Synthesized } from './synth';

const TABLE = 'AWS::DynamoDB::GlobalTable';
const ACCOUNT = '111111111111';
const REGIONS = ['eu-west-1', 'us-east-1'];
const REPLICA_ARN = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:dynamodb:us-east-1:${ACCOUNT}:table/vesta-dev-records`]],
};

const at = (region: string | undefined, context: Record<string, unknown>) =>
  synthesize({ stage: 'dev', env: { account: ACCOUNT, region } }, { context });

function tablesByName(s: Synthesized): Record<string, { Properties?: any }> {
  return Object.fromEntries(Object.values(resourcesOf(s.template, TABLE)).map((t) => [t.Properties.TableName, t]));
}

const replicaRegions = (table: { Properties?: any }) => table.Properties.Replicas.map((r: any) => r.Region).sort();

const functions = (s: Synthesized) => Object.entries(resourcesOf(s.template, 'AWS::Lambda::Function'));

/** The Vesta functions (the ones that carry table names), by logical id. */
const vestaFunctions = (s: Synthesized) =>
  functions(s).filter(([, f]) => f.Properties.Environment?.Variables?.VESTA_RECORDS_TABLE !== undefined);

function expectNoNagFindings(s: Synthesized) {
  const a = Annotations.fromStack(s.stack);
  expect(a.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  expect(a.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
}

describe('the first Region of regions', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = at('eu-west-1', { regions: JSON.stringify(REGIONS) });
  });
  afterAll(() => s.dispose());

  test('the records table, and it only, has a replica in every Region', () => {
    const tables = tablesByName(s);
    expect(Object.keys(tables).sort()).toEqual(TABLE_DEFS.map((d) => `vesta-dev-${d.id}`).sort());
    expect(replicaRegions(tables['vesta-dev-records'])).toEqual(REGIONS);
    for (const def of TABLE_DEFS.filter((d) => d.id !== 'records'))
      expect(replicaRegions(tables[`vesta-dev-${def.id}`])).toEqual(['eu-west-1']);
  });

  test('every replica of the records table has point-in-time recovery and the index', () => {
    for (const replica of tablesByName(s)['vesta-dev-records'].Properties.Replicas) {
      expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(replica.GlobalSecondaryIndexes).toEqual([expect.objectContaining({ IndexName: 'byFieldExpiry' })]);
    }
  });

  test('keeps the logical id of the records table, and needs no custom resource', () => {
    expect(resourcesOf(s.template, TABLE).StateTablesrecords7164819F.Properties.TableName).toBe('vesta-dev-records');
    expect(Object.keys(resourcesOf(s.template, 'Custom::AWS'))).toEqual([]);
  });

  test('every function gets the Regions and its own Region', () => {
    expect(vestaFunctions(s).length).toBe(9);
    for (const [, f] of vestaFunctions(s)) {
      expect(f.Properties.Environment.Variables).toMatchObject({
        VESTA_REGIONS: 'eu-west-1,us-east-1',
        VESTA_REPLICA: 'eu-west-1',
        VESTA_RECORDS_TABLE: { Ref: 'StateTablesrecords7164819F' },
      });
    }
  });

  test('cdk-nag finds nothing', () => expectNoNagFindings(s));
});

describe('another Region of regions', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = at('us-east-1', { 'vesta:regions': 'eu-west-1, us-east-1' });
  });
  afterAll(() => s.dispose());

  test('creates no records table, and its other tables stay in its Region', () => {
    const tables = tablesByName(s);
    expect(Object.keys(tables).sort()).toEqual(
      TABLE_DEFS.filter((d) => d.id !== 'records')
        .map((d) => `vesta-dev-${d.id}`)
        .sort(),
    );
    for (const t of Object.values(tables)) expect(replicaRegions(t)).toEqual(['us-east-1']);
  });

  test('functions name the replica in their environment and get the Regions', () => {
    expect(vestaFunctions(s).length).toBe(9);
    for (const [, f] of vestaFunctions(s)) {
      expect(f.Properties.Environment.Variables).toMatchObject({
        VESTA_RECORDS_TABLE: 'vesta-dev-records',
        VESTA_REGIONS: 'eu-west-1,us-east-1',
        VESTA_REPLICA: 'us-east-1',
      });
    }
  });

  test("the API function's records grants name the replica in this Region", () => {
    const [[, api]] = functions(s).filter(([id]) => id.startsWith('ApiFunction'));
    const statements = roleStatements(s.template, api.Properties.Role['Fn::GetAtt'][0]).statements;
    const resources = statements.flatMap((st) => list(st.Resource));
    expect(resources).toContainEqual(REPLICA_ARN);
    expect(JSON.stringify(resources)).not.toContain('StateTablesrecords');
  });

  test("the change publisher may read every Region's items of a key (BatchGetItem on the replica), to publish losers", () => {
    const [[, publisher]] = functions(s).filter(([id]) => id.includes('Publisher'));
    const statements = roleStatements(s.template, publisher.Properties.Role['Fn::GetAtt'][0]).statements;
    const batchGets = statements.filter((st) => list(st.Action).includes('dynamodb:BatchGetItem'));
    expect(batchGets.flatMap((st) => list(st.Resource))).toContainEqual(REPLICA_ARN);
  });

  test("the snapshot export may read every Region's items of a key (BatchGetItem on the replica), to export each record once", () => {
    const [[, exporter]] = functions(s).filter(([id]) => id.startsWith('SnapshotsExportFunction'));
    const statements = roleStatements(s.template, exporter.Properties.Role['Fn::GetAtt'][0]).statements;
    const batchGets = statements.filter((st) => list(st.Action).includes('dynamodb:BatchGetItem'));
    expect(batchGets.flatMap((st) => list(st.Resource))).toContainEqual(REPLICA_ARN);
  });

  test("the field sweeper may read every Region's items of a key (BatchGetItem on the replica), to sweep its own", () => {
    const [[, sweeper]] = functions(s).filter(([id]) => id.includes('FieldSweeper'));
    const statements = roleStatements(s.template, sweeper.Properties.Role['Fn::GetAtt'][0]).statements;
    const batchGets = statements.filter((st) => list(st.Action).includes('dynamodb:BatchGetItem'));
    expect(batchGets.flatMap((st) => list(st.Resource))).toContainEqual(REPLICA_ARN);
  });

  test("the change publisher reads the replica's stream, found by DescribeTable on the replica alone", () => {
    const [[crId, custom]] = Object.entries(resourcesOf(s.template, 'Custom::AWS'));
    expect(JSON.parse(custom.Properties.Create)).toMatchObject({
      service: 'DynamoDB',
      action: 'describeTable',
      parameters: { TableName: 'vesta-dev-records' },
    });
    const streamArn = { 'Fn::GetAtt': [crId, 'Table.LatestStreamArn'] };
    const mappings = Object.values(resourcesOf(s.template, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings.map((m) => m.Properties.EventSourceArn)).toEqual([streamArn]);

    const policies = Object.values(resourcesOf(s.template, 'AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('dynamodb:DescribeTable'),
    );
    expect(policies.map((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      [{ Action: 'dynamodb:DescribeTable', Effect: 'Allow', Resource: REPLICA_ARN }],
    ]);
  });

  test('cdk-nag finds nothing', () => expectNoNagFindings(s));
});

describe('malformed regions refuse synthesis with a message that echoes them', () => {
  const BAD: unknown[] = [['eu-west-1', 'eu-west-1'], ['nowhere'], [], '__proto__'];

  test.each(BAD.map((v) => [v]))('context regions %j', (value) => {
    expect(() => at('eu-west-1', { regions: value })).toThrow(
      `context regions must be a JSON array or a comma-separated list of distinct Region names`,
    );
    expect(() => at('eu-west-1', { regions: value })).toThrow(`Received: ${JSON.stringify(value)}`);
  });

  test.each(BAD.filter((v) => Array.isArray(v)).map((v) => [v]))('context regions %j written as JSON text', (value) => {
    const text = JSON.stringify(value);
    expect(() => at('eu-west-1', { regions: text })).toThrow(`Received: ${JSON.stringify(text)}`);
  });

  test.each(BAD.filter((v) => Array.isArray(v)).map((v) => [v]))('the regions prop %j', (value) => {
    expect(() =>
      synthesize({ stage: 'dev', env: { account: ACCOUNT, region: 'eu-west-1' }, regions: value as string[] }),
    ).toThrow(`regions must be a JSON array or a comma-separated list of distinct Region names`);
  });

  test('names the Region listed twice and the name that is not a Region', () => {
    expect(() => at('eu-west-1', { regions: ['eu-west-1', 'eu-west-1'] })).toThrow('it lists eu-west-1 twice');
    expect(() => at('eu-west-1', { 'vesta:regions': 'eu-west-1,nowhere' })).toThrow('context vesta:regions must be');
    expect(() => at('eu-west-1', { regions: '["nowhere"]' })).toThrow('"nowhere" is not a Region name');
  });

  test('several Regions need a concrete stack Region, and it must be listed', () => {
    expect(() => synthesize({ stage: 'dev' }, { context: { regions: REGIONS } })).toThrow(
      'lists several Regions, so the stack needs a concrete Region',
    );
    expect(() => at('ap-south-1', { regions: REGIONS })).toThrow("must list the stack's Region ap-south-1");
  });
});

describe('one Region', () => {
  test('without regions every table has its one replica in the stack Region, and no VESTA_REGIONS', () => {
    const s = synthesize({ stage: 'dev' });
    try {
      // Nor may the change publisher read records: it has no losers to look for.
      const [[, publisher]] = functions(s).filter(([id]) => id.includes('Publisher'));
      const statements = roleStatements(s.template, publisher.Properties.Role['Fn::GetAtt'][0]).statements;
      expect(statements.flatMap((st) => list(st.Action))).not.toContain('dynamodb:BatchGetItem');
      // Nor the field sweeper: it reads one item per record.
      const [[, sweeper]] = functions(s).filter(([id]) => id.includes('FieldSweeper'));
      const swept = roleStatements(s.template, sweeper.Properties.Role['Fn::GetAtt'][0]).statements;
      expect(swept.flatMap((st) => list(st.Action))).not.toContain('dynamodb:BatchGetItem');
      for (const t of Object.values(resourcesOf(s.template, TABLE)))
        expect(t.Properties.Replicas.map((r: any) => r.Region)).toEqual([{ Ref: 'AWS::Region' }]);
      for (const [, f] of vestaFunctions(s)) expect(f.Properties.Environment.Variables.VESTA_REGIONS).toBeUndefined();
    } finally {
      s.dispose();
    }
  });

  test('a one-Region list changes nothing but VESTA_REGIONS', () => {
    const without = at('eu-west-1', {});
    const one = at('eu-west-1', { regions: 'eu-west-1' });
    try {
      const stripped = one.template.toJSON();
      for (const r of Object.values<any>(stripped.Resources)) {
        if (r.Type !== 'AWS::Lambda::Function' || !r.Properties.Environment) continue;
        expect(r.Properties.Environment.Variables.VESTA_REGIONS).toBe('eu-west-1');
        delete r.Properties.Environment.Variables.VESTA_REGIONS;
      }
      expect(stripped).toEqual(without.template.toJSON());
    } finally {
      without.dispose();
      one.dispose();
    }
  });
});
