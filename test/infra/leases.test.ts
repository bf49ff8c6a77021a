import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { TABLE_DEFS } from '../../src/adapters/dynamodb/table-defs';
import {
  DEAD_LETTER_WRITE_ACTIONS,
  EXECUTION_STATUS_ACTIONS,
  LEASE_REAPER_CONTROL_ACTIONS,
  LEASE_REAPER_EXPIRY_INDEX_ACTIONS,
  LEASE_REAPER_RECORDS_ACTIONS,
  LEASE_RENEWER_CONTROL_ACTIONS,
  LEASE_RENEWER_EXECUTION_INDEX_ACTIONS,
  LOG_WRITE_ACTIONS,
  XRAY_WRITE_ACTIONS,
} from '../../lib/perms';
import { Leases, REAPER_SCHEDULE_CONTEXT, RENEWER_SCHEDULE_CONTEXT } from '../../lib/constructs/leases';
import { StateTables } from '../../lib/constructs/state-tables';
import { list, logicalIdOf, roleStatements, type Statement } from './policies';
import { bareStack, resourcesOf, synthesize, type Synthesized } from './synth';

let s: Synthesized;

beforeAll(() => {
  s = synthesize({ stage: 'dev' }, { bundle: true });
});
afterAll(() => s.dispose());

type Job = 'reaper' | 'renewer';

const idOf = (c: { node: { defaultChild?: unknown } }) => logicalIdOf(s.stack, c);
const fnOf = (job: Job) => s.stack.leases[job];
const fnResource = (job: Job) => resourcesOf(s.template, 'AWS::Lambda::Function')[idOf(fnOf(job))];

/** Statements of every policy attached to a job's role, inline ones included, and the role. */
const roleOf = (job: Job) => roleStatements(s.template, idOf(fnOf(job).role as any));

/** Every allowed (action, resource) pair, so that merged or split statements compare the same. */
function grants(statements: Statement[]): string[] {
  return statements
    .flatMap((st) => list(st.Action).flatMap((a) => list(st.Resource).map((r) => `${a} on ${JSON.stringify(r)}`)))
    .sort();
}

function expected(actions: readonly string[], resource: unknown): string[] {
  return actions.map((a) => `${a} on ${JSON.stringify(resource)}`);
}

const tableArn = (id: 'records' | 'control' | 'idempotency' | 'sagas' | 'deadletters') => ({
  'Fn::GetAtt': [idOf(s.stack.tables.tables[id]), 'Arn'],
});
const indexArn = (name: string) => s.stack.resolve(s.stack.tables.indexArn('control', name));
/** The stack's state machines: the sagas' and the snapshots'. */
const machines = () => [
  ...Object.values(s.stack.sagas.stateMachines),
  ...Object.values(s.stack.snapshots.stateMachines),
];
/** `arn:<partition>:states:<region>:<account>:execution:<name of the machine>:*`, as the template holds it. */
const executionsOf = (m: { node: { defaultChild?: unknown } }) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':states:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':execution:',
      { 'Fn::GetAtt': [idOf(m), 'Name'] },
      ':*',
    ],
  ],
});

/** Grants other than the function's own log group and X-Ray. */
function dataGrants(job: Job): string[] {
  return grants(
    roleOf(job).statements.filter((st) => !list(st.Action).some((a) => a.startsWith('logs:') || a.startsWith('xray:'))),
  );
}

describe.each<[Job, string, number]>([
  ['reaper', 'lease-reaper', 300],
  ['renewer', 'lease-renewer', 60],
])('Leases: the %s function', (job, _entry, timeout) => {
  test(`runs nodejs24.x on arm64 with active tracing, 256 to 512 MB and a ${timeout} s timeout`, () => {
    const p = fnResource(job).Properties;
    expect(p).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Timeout: timeout,
      Handler: 'index.handler',
    });
    expect(p.MemorySize).toBeGreaterThanOrEqual(256);
    expect(p.MemorySize).toBeLessThanOrEqual(512);
  });

  test('gets every table name, the replica and the Powertools settings from its environment', () => {
    const vars = fnResource(job).Properties.Environment.Variables;
    for (const def of TABLE_DEFS) expect(vars[def.envVar]).toEqual({ Ref: idOf(s.stack.tables.tables[def.id]) });
    expect(vars).toMatchObject({
      VESTA_REPLICA: { Ref: 'AWS::Region' },
      POWERTOOLS_SERVICE_NAME: 'vesta',
      POWERTOOLS_METRICS_NAMESPACE: 'Vesta',
    });
  });

  test('logs to its own log group with a retention', () => {
    const groupId = fnResource(job).Properties.LoggingConfig.LogGroup.Ref;
    expect(groupId).toBe(idOf(fnOf(job).logGroup as any));
    expect(resourcesOf(s.template, 'AWS::Logs::LogGroup')[groupId].Properties.RetentionInDays).toBeGreaterThan(0);
    const logs = roleOf(job).statements.filter((st) => list(st.Action).some((a) => a.startsWith('logs:')));
    expect([...new Set(logs.flatMap((st) => list(st.Action)))].sort()).toEqual([...LOG_WRITE_ACTIONS].sort());
    for (const r of logs.flatMap((st) => list(st.Resource))) expect(JSON.stringify(r)).toContain(groupId);
  });

  test('runs every minute on an EventBridge rule that may invoke it, without retries', () => {
    const fnArn = { 'Fn::GetAtt': [idOf(fnOf(job)), 'Arn'] };
    const rules = Object.entries(resourcesOf(s.template, 'AWS::Events::Rule')).filter(([, r]) =>
      r.Properties.Targets.some((t: any) => JSON.stringify(t.Arn) === JSON.stringify(fnArn)),
    );
    expect(rules).toHaveLength(1);
    const [ruleId, rule] = rules[0];
    expect(rule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: fnArn,
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: idOf(fnOf(job)) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  test('has no wildcard action, no Scan, no managed policy; only X-Ray is allowed on every resource', () => {
    const { role, statements } = roleOf(job);
    for (const st of statements) {
      expect(st.Effect).toBe('Allow');
      for (const action of list(st.Action)) {
        expect(action).not.toContain('*');
        expect(action).not.toMatch(/^dynamodb:(Scan|PartiQL|BatchWriteItem)/);
      }
    }
    const onAll = statements.filter((st) => list(st.Resource).includes('*'));
    expect(onAll.flatMap((st) => list(st.Action)).sort()).toEqual([...XRAY_WRITE_ACTIONS].sort());
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
  });

  test('bundles Powertools Metrics and leaves only the AWS SDK and Node built-ins external', () => {
    const key: string = fnResource(job).Properties.Code.S3Key;
    const code = readFileSync(join(s.outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.js'), 'utf8');
    const required = new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
    expect([...required].filter((r) => !r.startsWith('@aws-sdk/') && !r.startsWith('node:'))).toEqual([]);
    expect(code).toContain('publishStoredMetrics');
    expect(code).toContain(job === 'reaper' ? 'LeaseReaperLagSeconds' : 'LeasesRenewed');
  });
});

describe('Leases: permissions (least privilege)', () => {
  test('the reaper gets exactly its control, byExpiry, records and dead-letter action lists, nothing on idempotency', () => {
    expect(dataGrants('reaper')).toEqual(
      [
        ...expected(LEASE_REAPER_CONTROL_ACTIONS, tableArn('control')),
        ...expected(LEASE_REAPER_EXPIRY_INDEX_ACTIONS, indexArn('byExpiry')),
        ...expected(LEASE_REAPER_RECORDS_ACTIONS, tableArn('records')),
        ...expected(DEAD_LETTER_WRITE_ACTIONS, tableArn('deadletters')),
      ].sort(),
    );
    expect(JSON.stringify(roleOf('reaper').statements)).not.toContain(idOf(s.stack.tables.tables.idempotency));
    expect(JSON.stringify(roleOf('reaper').statements)).not.toContain(idOf(s.stack.tables.tables.sagas));
  });

  test("the renewer gets exactly UpdateItem on control, Query on byExecution, DescribeExecution on the executions of the stack's own state machines, and its dead-letter actions", () => {
    expect(machines()).toHaveLength(4);
    expect(dataGrants('renewer')).toEqual(
      [
        ...expected(LEASE_RENEWER_CONTROL_ACTIONS, tableArn('control')),
        ...expected(LEASE_RENEWER_EXECUTION_INDEX_ACTIONS, indexArn('byExecution')),
        ...machines().flatMap((m) => expected(EXECUTION_STATUS_ACTIONS, executionsOf(m))),
        ...expected(DEAD_LETTER_WRITE_ACTIONS, tableArn('deadletters')),
      ].sort(),
    );
    expect(JSON.stringify(roleOf('renewer').statements)).not.toMatch(/:execution:\*"/);
  });

  test('without state machines the renewer may describe no execution at all', () => {
    const stack = bareStack();
    const tables = new StateTables(stack, 'T', { stage: 'dev', tableNamePrefix: 'vesta-dev' });
    new Leases(stack, 'L', { stage: 'dev', tables, stateMachines: [] });
    expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toContain('states:DescribeExecution');
  });

  test('the action lists are the documented ones', () => {
    expect([...LEASE_REAPER_CONTROL_ACTIONS].sort()).toEqual(
      ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'].sort(),
    );
    expect(LEASE_REAPER_EXPIRY_INDEX_ACTIONS).toEqual(['dynamodb:Query']);
    expect(LEASE_REAPER_RECORDS_ACTIONS).toEqual(['dynamodb:UpdateItem']);
    expect(LEASE_RENEWER_CONTROL_ACTIONS).toEqual(['dynamodb:UpdateItem']);
    expect(LEASE_RENEWER_EXECUTION_INDEX_ACTIONS).toEqual(['dynamodb:Query']);
    expect(EXECUTION_STATUS_ACTIONS).toEqual(['states:DescribeExecution']);
  });

  test('index ARNs name one index of the control table', () => {
    expect(indexArn('byExpiry')).toEqual({ 'Fn::Join': ['', [tableArn('control'), '/index/byExpiry']] });
    expect(() => s.stack.tables.indexArn('control', 'byNothing')).toThrow(/Received: "byNothing"/);
  });

  test('the wildcard on execution names is suppressed for cdk-nag on its own policy, with the reason', () => {
    const policies = Object.values(resourcesOf(s.template, 'AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('states:DescribeExecution'),
    );
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.PolicyDocument.Statement).toHaveLength(1);
    const sup = policies[0].Metadata.cdk_nag.rules_to_suppress;
    expect(sup).toEqual([
      expect.objectContaining({ id: 'AwsSolutions-IAM5', reason: expect.stringMatching(/own state machines/) }),
    ]);
  });
});

describe('Leases: alarms', () => {
  const alarm = (a: { node: { defaultChild?: unknown } }) =>
    resourcesOf(s.template, 'AWS::CloudWatch::Alarm')[idOf(a)].Properties;

  test.each<[Job, 'reaperErrors' | 'renewerErrors']>([
    ['reaper', 'reaperErrors'],
    ['renewer', 'renewerErrors'],
  ])('the %s alarms on one or more errors in 5 minutes', (job, prop) => {
    expect(alarm(s.stack.leases.alarms[prop])).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: idOf(fnOf(job)) } }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  test('the reaper lag alarms when its maximum exceeds 300 s for 3 periods of 1 minute', () => {
    expect(alarm(s.stack.leases.alarms.reaperLag)).toMatchObject({
      Namespace: 'Vesta',
      MetricName: 'LeaseReaperLagSeconds',
      Dimensions: [{ Name: 'service', Value: 'vesta' }],
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test('the construct has exactly these three alarms; their only action is the alarm topic, added by Monitoring', () => {
    const leases = s.stack.leases;
    const mine = Object.values(leases.alarms).map(idOf).sort();
    const all = resourcesOf(s.template, 'AWS::CloudWatch::Alarm');
    expect(
      Object.keys(all)
        .filter((logicalId) => logicalId.startsWith('Leases'))
        .sort(),
    ).toEqual(mine);
    const topic = { Ref: idOf(s.stack.monitoring.topic) };
    for (const id of mine) expect(all[id].Properties.AlarmActions).toEqual([topic]);
  });
});

describe('Leases: schedules', () => {
  const scheduleOf = (stack: Stack, leases: Leases, job: Job) =>
    stack.resolve(
      (leases[job === 'reaper' ? 'reaperRule' : 'renewerRule'].node.defaultChild as any).scheduleExpression,
    );

  test('props override the default schedules', () => {
    const stack = bareStack();
    const tables = new StateTables(stack, 'T', { stage: 'dev', tableNamePrefix: 'vesta-dev' });
    const leases = new Leases(stack, 'L', {
      stage: 'dev',
      tables,
      stateMachines: [],
      reaperSchedule: events.Schedule.rate(Duration.minutes(5)),
      renewerSchedule: events.Schedule.expression('rate(2 minutes)'),
    });
    expect(scheduleOf(stack, leases, 'reaper')).toBe('rate(5 minutes)');
    expect(scheduleOf(stack, leases, 'renewer')).toBe('rate(2 minutes)');
  });

  test('CDK context overrides the defaults; a malformed value is refused with the value echoed', () => {
    const withContext = (context: Record<string, unknown>) => {
      const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } }), 'Ctx');
      const tables = new StateTables(stack, 'T', { stage: 'dev', tableNamePrefix: 'vesta-dev' });
      return { stack, leases: new Leases(stack, 'L', { stage: 'dev', tables, stateMachines: [] }) };
    };
    const { stack, leases } = withContext({
      [REAPER_SCHEDULE_CONTEXT]: 'rate(10 minutes)',
      [RENEWER_SCHEDULE_CONTEXT]: 'cron(0/2 * * * ? *)',
    });
    expect(scheduleOf(stack, leases, 'reaper')).toBe('rate(10 minutes)');
    expect(scheduleOf(stack, leases, 'renewer')).toBe('cron(0/2 * * * ? *)');
    expect(() => withContext({ [REAPER_SCHEDULE_CONTEXT]: 'every minute' })).toThrow(/Received: "every minute"/);
  });

  test('the reaper runs one at a time', () => {
    expect(fnResource('reaper').Properties.ReservedConcurrentExecutions).toBe(1);
  });
});
