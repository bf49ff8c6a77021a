/**
 * `VestaService` as a team's own CDK app uses it: with no props in a stack of its own, with
 * grants of read, write and admin access on the API's execute-api ARNs, and inside the root app's
 * stack with the logical IDs its stateful resources always had.
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { permissions } from '../../src/api/access';
import { ROUTES } from '../../src/api/routes';
import { VestaService } from '../../lib/vesta-service';
import { resourcesOf, synthesize, type Synthesized } from './synth';

const noBundling = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

describe('the root app stack', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({ stage: 'dev' });
  });
  afterAll(() => s.dispose());

  // The logical IDs of every stateful resource as the stack made them before it was built from
  // VestaService: a changed ID would make CloudFormation replace (and lose) the resource.
  test.each([
    [
      'AWS::DynamoDB::GlobalTable',
      [
        'StateTableschangesF6F9D903',
        'StateTablescontrol41981187',
        'StateTablesdeadletters7EA1DC1E',
        'StateTablesidempotencyFD275114',
        'StateTablesrecords7164819F',
        'StateTablessagasCB3A0D2B',
      ],
    ],
    ['AWS::S3::Bucket', ['SnapshotsBucket4B2233F7']],
    ['AWS::KMS::Key', ['MonitoringAlarmTopicKey22E4A359']],
    ['AWS::SNS::Topic', ['MonitoringAlarmTopic40534090']],
    ['AWS::Events::EventBus', ['ChangeEventsBusC56CFA50']],
    ['AWS::Events::Archive', ['ChangeEventsBusArchiveABDBF870']],
    ['AWS::SQS::Queue', ['ChangeEventsDeadLetters822407E2']],
    [
      'AWS::Logs::LogGroup',
      [
        'ApiAccessLogs50B185DB',
        'ApiFunctionLogs4B382957',
        'ChangeEventsPublisherLogs1677B868',
        'FieldSweeperFunctionLogsBAA75FFE',
        'LeasesReaperLogs3B2973EC',
        'LeasesRenewerLogs0699E016',
        'SagasSagaLogs03422C00',
        'SagasStepFunctionLogs88A23C28',
        'SagasTransferLogs79D3C4A9',
        'SnapshotsExportFunctionLogs7B3ED8EC',
        'SnapshotsRestoreFunctionLogsFE6D82DB',
        'SnapshotsRestoreLogsA40C4031',
        'SnapshotsScheduleFunctionLogsAE4919D3',
        'SnapshotsSnapshotLogs6AE8360D',
      ],
    ],
  ])('%s keeps its logical IDs', (type, ids) => {
    expect(Object.keys(resourcesOf(s.template, type)).sort()).toEqual(ids);
  });

  test('the stack is a VestaService and its outputs', () => {
    expect(s.stack.service).toBeInstanceOf(VestaService);
    expect(s.stack.api).toBe(s.stack.service.api);
    expect(Object.keys(s.template.findOutputs('*')).sort()).toEqual([
      'AlarmTopicArn',
      'ApiUrl',
      'EventBusName',
      'SnapshotBucketName',
    ]);
  });
});

describe('new VestaService(this, "State") with no props', () => {
  let stack: Stack;
  let template: Template;
  beforeAll(() => {
    stack = new Stack(noBundling(), 'Mine');
    new VestaService(stack, 'State');
    template = Template.fromStack(stack);
  });

  test('is the whole service of stage dev, named like it', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 6);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 4);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.resourceCountIs('AWS::Events::Rule', 5);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', { TableName: 'vesta-dev-records' });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { Name: 'vesta-dev' });
  });

  test('every alarm is routed to the alarm topic', () => {
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(10);
    for (const a of alarms) expect(a.Properties.AlarmActions).toHaveLength(1);
  });

  test('removalPolicy RETAIN keeps the data of a dev stage; a policy other than RETAIN or DESTROY is refused', () => {
    const kept = new Stack(noBundling(), 'Kept');
    new VestaService(kept, 'State', { removalPolicy: RemovalPolicy.RETAIN });
    const tables = Object.values(resourcesOf(Template.fromStack(kept), 'AWS::DynamoDB::GlobalTable'));
    expect(tables.map((t) => t.DeletionPolicy)).toEqual(tables.map(() => 'Retain'));
    expect(tables.map((t) => t.Properties.Replicas[0].DeletionProtectionEnabled)).toEqual(tables.map(() => true));
    expect(Object.values(resourcesOf(template, 'AWS::DynamoDB::GlobalTable'))[0].DeletionPolicy).toBe('Delete');
    expect(
      () => new VestaService(new Stack(noBundling(), 'Snap'), 'State', { removalPolicy: RemovalPolicy.SNAPSHOT }),
    ).toThrow(/removalPolicy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY. Received: snapshot/);
  });

  test('alarmTopic: every alarm notifies your topic, the emails are subscribed to it, no topic or key of its own', () => {
    const mine = new Stack(noBundling(), 'OwnTopic');
    const topic = new sns.Topic(mine, 'Pager');
    new VestaService(mine, 'State', { alarmTopic: topic, alarmEmails: ['ops@example.com'] });
    const t = Template.fromStack(mine);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.resourceCountIs('AWS::KMS::Key', 0);
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    const ref = { Ref: mine.getLogicalId(topic.node.defaultChild as sns.CfnTopic) };
    const alarms = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(10);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([ref]);
  });

  test('a malformed stage is refused, naming it', () => {
    expect(() => new VestaService(new Stack(noBundling(), 'Bad'), 'State', { stage: 'Prod!' })).toThrow(/"Prod!"/);
  });
});

describe('grants', () => {
  let stack: Stack;
  let service: VestaService;
  beforeAll(() => {
    stack = new Stack(noBundling(), 'Grants', { env: { account: '123456789012', region: 'eu-west-1' } });
    service = new VestaService(stack, 'State', { stage: 'prod' });
  });

  /** The execute-api ARNs of the statements a grant added to a new role, as plain strings. */
  function grantedArns(grant: (role: iam.IGrantable) => iam.Grant): string[] {
    const role = new iam.Role(stack, `Role${stack.node.children.length}`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const g = grant(role);
    expect(g.success).toBe(true);
    const policy = stack.resolve((role.node.tryFindChild('DefaultPolicy') as iam.Policy).document);
    const statements: { Action: string; Effect: string; Resource: unknown[] | unknown }[] = policy.Statement;
    expect(statements.map((st) => [st.Action, st.Effect])).toEqual([['execute-api:Invoke', 'Allow']]);
    const resources = [statements[0].Resource].flat();
    // Each ARN is a Join of literals and the API's id: arn:aws:execute-api:eu-west-1:123456789012:<api>/prod/<METHOD><path>
    return resources.map((r) => {
      const parts = (r as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      const text = parts.map((p) => (typeof p === 'string' ? p : '<api>')).join('');
      return text.slice(text.indexOf(':execute-api:') + 1);
    });
  }

  const arn = (method: string, path: string) => `execute-api:eu-west-1:123456789012:<api>/prod/${method}${path}`;

  test('grantRead of one namespace: GET on its paths and the health check, nothing else', () => {
    const arns = grantedArns((r) => service.grantRead(r, { namespace: 'orders' }));
    expect(arns.sort()).toEqual(
      [
        arn('GET', '/v1/health'),
        arn('GET', '/v1/ns/orders'),
        arn('GET', '/v1/ns/orders/keys'),
        arn('GET', '/v1/ns/orders/keys/*'),
        arn('GET', '/v1/ns/orders/changes'),
        arn('GET', '/v1/ns/orders/locks'),
      ].sort(),
    );
  });

  test('grantWrite of one namespace: its writes, txn, locks and leases; no sagas, no settings, no other namespace', () => {
    const arns = grantedArns((r) => service.grantWrite(r, { namespace: 'orders' }));
    const paths = arns.map((a) => a.slice(a.indexOf('/prod/') + 6));
    expect(paths).toEqual(
      expect.arrayContaining([
        'PUT/v1/ns/orders/keys/*',
        'PATCH/v1/ns/orders/keys/*',
        'DELETE/v1/ns/orders/keys/*',
        'POST/v1/ns/orders/txn',
        'POST/v1/ns/orders/locks/*',
        'POST/v1/leases',
        'POST/v1/leases/*/keepalive',
      ]),
    );
    for (const p of paths) expect(p).toMatch(/^(GET|PUT|PATCH|DELETE|POST)\/v1\/(ns\/orders(\/|$)|leases|health)/);
    expect(paths).not.toContain('PUT/v1/ns/orders');
    expect(paths.some((p) => p.includes('sagas'))).toBe(false);
  });

  test('grantAdmin without a namespace: every route of the table, every namespace', () => {
    const paths = grantedArns((r) => service.grantAdmin(r)).map((a) => a.slice(a.indexOf('/prod/') + 6));
    expect(paths).toHaveLength(new Set(ROUTES.map((r) => `${r.method} ${r.resource}`)).size);
    expect(paths).toEqual(expect.arrayContaining(['PUT/v1/ns/*', 'POST/v1/sagas', 'POST/v1/snapshots/*/restore']));
  });

  test.each(['', 'Orders', 'a/b', '*', '..', '../x', '__proto__', 'a b', 'x%2F..'])(
    'a namespace that is not a namespace name (%j) is refused, and nothing is granted',
    (namespace) => {
      const role = new iam.Role(stack, `Refused${stack.node.children.length}`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      });
      expect(() => service.grantWrite(role, { namespace })).toThrow(JSON.stringify(namespace));
      expect(role.node.tryFindChild('DefaultPolicy')).toBeUndefined();
    },
  );
});

describe('permissions (the route table decides)', () => {
  test('each level covers the one below it', () => {
    const ids = (p: { method: string; path: string }[]) => p.map((x) => `${x.method} ${x.path}`);
    for (const ns of ['orders', undefined]) {
      const read = ids(permissions('read', ns));
      const write = ids(permissions('write', ns));
      const admin = ids(permissions('admin', ns));
      expect(write).toEqual(expect.arrayContaining(read));
      expect(admin).toEqual(expect.arrayContaining(write));
      expect(read.every((x) => x.startsWith('GET '))).toBe(true);
    }
  });

  test('a namespaced grant names no other namespace and no route that spans namespaces', () => {
    for (const level of ['read', 'write', 'admin'] as const) {
      for (const p of permissions(level, 'a1')) {
        expect(p.path).toMatch(/^\/v1\/(ns\/a1(\/.*)?|leases(\/.*)?|health)$/);
      }
    }
  });
});
