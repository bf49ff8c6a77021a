/**
 * The snapshots construct: the bucket (encryption, TLS only, public access blocked, retention
 * lifecycle), the three functions and what each may do, the two state machines, the schedule and
 * age-report rules, and the "snapshot too old" alarm, with their context settings.
 */
import { Template } from 'aws-cdk-lib/assertions';
import {
  DEAD_LETTER_WRITE_ACTIONS,
  LOG_WRITE_ACTIONS,
  SNAPSHOT_EXPORT_RECORDS_ACTIONS,
  SNAPSHOT_LIST_ACTIONS,
  SNAPSHOT_READ_ACTIONS,
  SNAPSHOT_RESTORE_RECORDS_ACTIONS,
  SNAPSHOT_START_ACTIONS,
  SNAPSHOT_RESTORE_CONTROL_ACTIONS,
  SNAPSHOT_SCHEDULE_CONTROL_ACTIONS,
  SNAPSHOT_EXPORT_CONTROL_ACTIONS,
  SNAPSHOT_WRITE_ACTIONS,
  XRAY_WRITE_ACTIONS,
} from '../../lib/perms';
import {
  AGE_REPORT_MINUTES,
  NONCURRENT_DAYS,
  SNAPSHOT_FUNCTION_TIMEOUT_SECONDS,
  SNAPSHOT_MAX_AGE_CONTEXT,
  SNAPSHOT_RETENTION_CONTEXT,
  SNAPSHOT_SCHEDULE_CONTEXT,
  SNAPSHOT_SEGMENTS_CONTEXT,
  Snapshots,
  scheduleIntervalSeconds,
} from '../../lib/constructs/snapshots';
import { StateTables } from '../../lib/constructs/state-tables';
import { DEFAULT_SNAPSHOT_SCHEDULE } from '../../src/core/schedule';
import { SNAPSHOT_EXPORT_SUBSTITUTION, SNAPSHOT_RESTORE_SUBSTITUTION } from '../../src/sagas/state-machines';
import { grantPairs, list, logicalIdOf, pairsOf, roleStatements } from './policies';
import { bareStack, resourcesOf, synthesize, type Synthesized } from './synth';

let s: Synthesized;
beforeAll(() => {
  s = synthesize({ stage: 'dev' });
});
afterAll(() => s.dispose());

const idOf = (c: { node: { defaultChild?: unknown } }) => logicalIdOf(s.stack, c);
const snaps = () => s.stack.snapshots;
const bucketId = () => idOf(snaps().bucket);
const bucket = () => resourcesOf(s.template, 'AWS::S3::Bucket')[bucketId()];
const tableArn = (id: 'records' | 'control' | 'deadletters') => ({
  'Fn::GetAtt': [idOf(s.stack.tables.tables[id]), 'Arn'],
});
const objectsArn = () => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId(), 'Arn'] }, '/snapshots/*']] });
const machineRef = (id: 'snapshot' | 'restore') => ({ Ref: idOf(snaps().stateMachines[id]) });

type Fn = 'exportFunction' | 'restoreFunction' | 'scheduleFunction';
const fnResource = (fn: Fn) => resourcesOf(s.template, 'AWS::Lambda::Function')[idOf(snaps()[fn])];
/** What a function's role may do, but for its log group and X-Ray. */
const dataGrants = (fn: Fn) =>
  grantPairs(
    roleStatements(s.template, idOf(snaps()[fn].role as never)).statements.filter(
      (st) => !list(st.Action).some((a) => /^(logs|xray):/.test(a)),
    ),
  );

/** A Snapshots construct in a bare stack with the given context. */
function withContext(context: Record<string, unknown>): { construct: Snapshots; template: Template } {
  const stack = bareStack();
  for (const [k, v] of Object.entries(context)) stack.node.setContext(k, v);
  const tables = new StateTables(stack, 'Tables', { stage: 'dev', tableNamePrefix: 'vesta-dev' });
  const construct = new Snapshots(stack, 'Snapshots', { stage: 'dev', tables });
  return { construct, template: Template.fromStack(stack) };
}

describe('the bucket', () => {
  test('is encrypted, versioned, owner-enforced, with every public access blocked', () => {
    expect(bucket().Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  test('denies every request that is not over TLS', () => {
    const policies = Object.values(resourcesOf(s.template, 'AWS::S3::BucketPolicy')).filter(
      (p) => p.Properties.Bucket.Ref === bucketId(),
    );
    expect(policies).toHaveLength(1);
    const deny = policies[0].Properties.PolicyDocument.Statement.find((st: { Effect: string }) => st.Effect === 'Deny');
    expect(deny).toMatchObject({
      Action: 's3:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      Principal: { AWS: '*' },
    });
  });

  test('expires snapshots after 35 days by default, noncurrent versions after a week, incomplete uploads after a day', () => {
    expect(bucket().Properties.LifecycleConfiguration.Rules).toEqual([
      {
        Id: 'snapshot-retention',
        Prefix: 'snapshots/',
        Status: 'Enabled',
        ExpirationInDays: 35,
        NoncurrentVersionExpiration: { NoncurrentDays: NONCURRENT_DAYS },
        ExpiredObjectDeleteMarker: false,
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
    ]);
  });

  test('retention comes from context; a bad value fails the synth naming the key', () => {
    const { template } = withContext({ [SNAPSHOT_RETENTION_CONTEXT]: '90' });
    expect(
      Object.values(resourcesOf(template, 'AWS::S3::Bucket'))[0].Properties.LifecycleConfiguration.Rules[0]
        .ExpirationInDays,
    ).toBe(90);
    expect(() => withContext({ [SNAPSHOT_RETENTION_CONTEXT]: 0 })).toThrow(
      /vesta:snapshotRetentionDays must be a whole number from 1/,
    );
    expect(() => withContext({ [SNAPSHOT_RETENTION_CONTEXT]: 'forever' })).toThrow(/Received: "forever"/);
  });

  test('the records expire with the objects: every function and the API get the same days', () => {
    const { template } = withContext({ [SNAPSHOT_RETENTION_CONTEXT]: '90' });
    for (const fn of Object.values(resourcesOf(template, 'AWS::Lambda::Function')))
      expect(fn.Properties.Environment.Variables.VESTA_SNAPSHOT_RETENTION_DAYS).toBe('90');
    for (const fn of ['exportFunction', 'restoreFunction', 'scheduleFunction'] as const)
      expect(fnResource(fn).Properties.Environment.Variables.VESTA_SNAPSHOT_RETENTION_DAYS).toBe('35');
    expect(snaps().environment().VESTA_SNAPSHOT_RETENTION_DAYS).toBe('35');
  });

  test('the prop of the service sets the lifecycle rule and the functions alike', () => {
    const short = synthesize({
      stage: 'dev',
      snapshotRetentionDays: 10,
      sagaLogRetentionDays: 5,
      restoreRetentionDays: 2,
    });
    try {
      const b = resourcesOf(short.template, 'AWS::S3::Bucket')[logicalIdOf(short.stack, short.stack.snapshots.bucket)];
      expect(b.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays).toBe(10);
      const fns = Object.values(resourcesOf(short.template, 'AWS::Lambda::Function')).filter(
        (f) => f.Properties.Environment?.Variables?.VESTA_RECORDS_TABLE !== undefined,
      );
      expect(fns.length).toBeGreaterThanOrEqual(8);
      for (const f of fns)
        expect(f.Properties.Environment.Variables).toMatchObject({
          VESTA_SNAPSHOT_RETENTION_DAYS: '10',
          VESTA_SAGA_RETENTION_DAYS: '5',
          VESTA_RESTORE_RETENTION_DAYS: '2',
        });
    } finally {
      short.dispose();
    }
  });

  test('is destroyed with a dev stack and kept with prod', () => {
    expect(bucket().DeletionPolicy).toBe('Delete');
    const prod = synthesize({ stage: 'prod' });
    try {
      const b = resourcesOf(prod.template, 'AWS::S3::Bucket')[logicalIdOf(prod.stack, prod.stack.snapshots.bucket)];
      expect(b.DeletionPolicy).toBe('Retain');
    } finally {
      prod.dispose();
    }
  });
});

describe('the functions', () => {
  test.each<[Fn, string, number, number]>([
    ['exportFunction', 'snapshot export', 512, SNAPSHOT_FUNCTION_TIMEOUT_SECONDS],
    ['restoreFunction', 'snapshot restore', 512, SNAPSHOT_FUNCTION_TIMEOUT_SECONDS],
    ['scheduleFunction', 'snapshot schedule', 256, 60],
  ])('%s: %s, %i MB, %i s, knows the bucket and the segments', (fn, what, memory, timeout) => {
    const p = fnResource(fn).Properties;
    expect(p).toMatchObject({
      Description: `Vesta ${what}`,
      MemorySize: memory,
      Timeout: timeout,
      TracingConfig: { Mode: 'Active' },
    });
    expect(p.Environment.Variables).toMatchObject({
      VESTA_SNAPSHOT_BUCKET: { Ref: bucketId() },
      VESTA_SNAPSHOT_SEGMENTS: '8',
    });
  });

  test('export and restore stop before their Tasks time out (900 s)', () => {
    expect(SNAPSHOT_FUNCTION_TIMEOUT_SECONDS).toBeLessThan(900);
  });

  test('export may read the records table by segment, track snapshots, and write snapshots/* only', () => {
    expect(dataGrants('exportFunction')).toEqual(
      [
        ...pairsOf(SNAPSHOT_EXPORT_RECORDS_ACTIONS, tableArn('records')),
        ...pairsOf(SNAPSHOT_EXPORT_CONTROL_ACTIONS, tableArn('control')),
        ...pairsOf(DEAD_LETTER_WRITE_ACTIONS, tableArn('deadletters')),
        ...pairsOf(SNAPSHOT_WRITE_ACTIONS, objectsArn()),
      ].sort(),
    );
  });

  test('restore may put records (no Scan, no delete), track restores, and read snapshots/* only', () => {
    expect(dataGrants('restoreFunction')).toEqual(
      [
        ...pairsOf(SNAPSHOT_RESTORE_RECORDS_ACTIONS, tableArn('records')),
        ...pairsOf(SNAPSHOT_RESTORE_CONTROL_ACTIONS, tableArn('control')),
        ...pairsOf(DEAD_LETTER_WRITE_ACTIONS, tableArn('deadletters')),
        ...pairsOf(SNAPSHOT_READ_ACTIONS, objectsArn()),
      ].sort(),
    );
  });

  test('schedule may record snapshots and start the snapshot machine, nothing else (no bucket, no records)', () => {
    expect(dataGrants('scheduleFunction')).toEqual(
      [
        ...pairsOf(SNAPSHOT_SCHEDULE_CONTROL_ACTIONS, tableArn('control')),
        ...pairsOf(SNAPSHOT_START_ACTIONS, machineRef('snapshot')),
      ].sort(),
    );
    expect(fnResource('scheduleFunction').Properties.Environment.Variables.VESTA_SNAPSHOT_STATE_MACHINE_ARN).toEqual(
      machineRef('snapshot'),
    );
  });

  test('the action lists are the ones the code uses: restore may not create control items, export only its cut, schedule may not update them', () => {
    expect([...SNAPSHOT_EXPORT_CONTROL_ACTIONS].sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect([...SNAPSHOT_RESTORE_CONTROL_ACTIONS].sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect([...SNAPSHOT_SCHEDULE_CONTROL_ACTIONS].sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect([...SNAPSHOT_RESTORE_RECORDS_ACTIONS].sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:PutItem']);
    expect([...SNAPSHOT_WRITE_ACTIONS].sort()).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
    expect([...SNAPSHOT_READ_ACTIONS]).toEqual(['s3:GetObject']);
  });

  test('no function may do anything on every resource but X-Ray', () => {
    for (const fn of ['exportFunction', 'restoreFunction', 'scheduleFunction'] as const) {
      const { statements } = roleStatements(s.template, idOf(snaps()[fn].role as never));
      const onAll = statements.filter((st) => list(st.Resource).includes('*'));
      expect(onAll.flatMap((st) => list(st.Action)).sort()).toEqual([...XRAY_WRITE_ACTIONS].sort());
      expect(
        statements
          .filter((st) => list(st.Action).some((a) => a.startsWith('logs:')))
          .flatMap((st) => list(st.Action))
          .sort(),
      ).toEqual([...LOG_WRITE_ACTIONS].sort());
    }
  });
});

describe('the state machines', () => {
  const definition = (id: 'snapshot' | 'restore') => {
    const p = resourcesOf(s.template, 'AWS::StepFunctions::StateMachine')[machineRef(id).Ref].Properties;
    return { p, text: JSON.stringify(p.DefinitionString), subs: p.DefinitionSubstitutions };
  };

  test.each<['snapshot' | 'restore', string, Fn]>([
    ['snapshot', SNAPSHOT_EXPORT_SUBSTITUTION, 'exportFunction'],
    ['restore', SNAPSHOT_RESTORE_SUBSTITUTION, 'restoreFunction'],
  ])(
    '%s: named, Standard, traced, logging ALL events without execution data; its one placeholder is its own function',
    (id, placeholder, fn) => {
      const { p, subs } = definition(id);
      expect(p).toMatchObject({
        StateMachineName: `vesta-dev-${id}`,
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      });
      expect(subs).toEqual({ [placeholder]: { 'Fn::GetAtt': [idOf(snaps()[fn]), 'Arn'] } });
    },
  );

  test.each<['snapshot' | 'restore', Fn, Fn]>([
    ['snapshot', 'exportFunction', 'restoreFunction'],
    ['restore', 'restoreFunction', 'exportFunction'],
  ])("%s's role may invoke its function and not the other one", (id, own, other) => {
    const role = snaps().stateMachines[id].role;
    const pairs = grantPairs(
      roleStatements(s.template, idOf(role as never)).statements.filter((st) =>
        list(st.Action).includes('lambda:InvokeFunction'),
      ),
    );
    const text = pairs.join('\n');
    expect(text).toContain(idOf(snaps()[own]));
    expect(text).not.toContain(idOf(snaps()[other]));
    expect(text).not.toContain(idOf(snaps().scheduleFunction));
  });
});

describe('the schedule and the age alarm', () => {
  const rules = (template: Template) =>
    Object.values(resourcesOf(template, 'AWS::Events::Rule')).map((r) => r.Properties);
  const alarmOf = (template: Template) =>
    Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).find(
      (a) => a.Properties.MetricName === 'LatestSnapshotAgeSeconds',
    )!.Properties;

  test('by default a whole-store snapshot daily (the schedule the local stack runs too) and an age report every 15 minutes, both to the schedule function', () => {
    expect(DEFAULT_SNAPSHOT_SCHEDULE).toBe('rate(1 day)');
    const mine = rules(s.template).filter((r) => JSON.stringify(r.Targets).includes(idOf(snaps().scheduleFunction)));
    expect(mine.map((r) => [r.ScheduleExpression, JSON.parse(r.Targets[0].Input)]).sort()).toEqual(
      [
        [DEFAULT_SNAPSHOT_SCHEDULE, { action: 'scheduledStart' }],
        [`rate(${AGE_REPORT_MINUTES} minutes)`, { action: 'reportAge' }],
      ].sort(),
    );
  });

  test('the alarm fires above twice the interval (two days), also when no age is reported', () => {
    expect(alarmOf(s.template)).toMatchObject({
      Namespace: 'Vesta',
      Dimensions: [{ Name: 'service', Value: 'vesta' }],
      Statistic: 'Maximum',
      Period: AGE_REPORT_MINUTES * 60,
      EvaluationPeriods: 1,
      Threshold: 172_800,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  test('schedule, segments and limit come from context', () => {
    const six = withContext({ [SNAPSHOT_SCHEDULE_CONTEXT]: 'rate(6 hours)', [SNAPSHOT_SEGMENTS_CONTEXT]: 16 });
    expect(rules(six.template).map((r) => r.ScheduleExpression)).toContain('rate(6 hours)');
    expect(alarmOf(six.template).Threshold).toBe(43_200);
    expect(six.construct.environment().VESTA_SNAPSHOT_SEGMENTS).toBe('16');
    const cron = withContext({ [SNAPSHOT_SCHEDULE_CONTEXT]: 'cron(0 3 ? * MON-FRI *)' });
    expect(alarmOf(cron.template).Threshold).toBe(2 * 86_400);
    const cronWithLimit = withContext({
      [SNAPSHOT_SCHEDULE_CONTEXT]: 'cron(0 3 ? * MON-FRI *)',
      [SNAPSHOT_MAX_AGE_CONTEXT]: 4 * 86_400,
    });
    expect(alarmOf(cronWithLimit.template).Threshold).toBe(4 * 86_400);
  });

  test('a malformed schedule or segment count fails the synth with the value', () => {
    expect(() => withContext({ [SNAPSHOT_SCHEDULE_CONTEXT]: 'daily' })).toThrow(/Received: "daily"/);
    expect(() => withContext({ [SNAPSHOT_SCHEDULE_CONTEXT]: 'rate(0 days)' })).toThrow(/rate\(<n>/);
    expect(() => scheduleIntervalSeconds('rate(1 days)')).toThrow(/Received: "rate\(1 days\)"/);
    expect(() => scheduleIntervalSeconds('rate(2 day)')).toThrow(/Received: "rate\(2 day\)"/);
    expect(() => withContext({ [SNAPSHOT_SEGMENTS_CONTEXT]: 65 })).toThrow(
      /vesta:snapshotSegments must be a whole number from 1 to 64/,
    );
    expect(withContext({ [SNAPSHOT_SCHEDULE_CONTEXT]: 'rate(5 minutes)' }).construct.maxAgeSeconds).toBe(900);
    expect(scheduleIntervalSeconds('rate(1 minute)')).toBe(60);
    expect(scheduleIntervalSeconds('rate(3 hours)')).toBe(10_800);
    expect(scheduleIntervalSeconds('cron(0 3 * * ? *)')).toBeUndefined();
  });
});

describe('the API function', () => {
  test('knows both snapshot machines, the segments and the bucket, may start them and import from the bucket', () => {
    const vars = resourcesOf(s.template, 'AWS::Lambda::Function')[idOf(s.stack.api.function)].Properties.Environment
      .Variables;
    expect(vars).toMatchObject({
      VESTA_SNAPSHOT_STATE_MACHINE_ARN: machineRef('snapshot'),
      VESTA_RESTORE_STATE_MACHINE_ARN: machineRef('restore'),
      VESTA_SNAPSHOT_SEGMENTS: '8',
    });
    expect(vars.VESTA_SNAPSHOT_BUCKET).toEqual({ Ref: idOf(snaps().bucket) });
    const pairs = grantPairs(roleStatements(s.template, idOf(s.stack.api.function.role as never)).statements);
    expect(pairs).toEqual(
      expect.arrayContaining([
        ...pairsOf(SNAPSHOT_START_ACTIONS, machineRef('snapshot')),
        ...pairsOf(SNAPSHOT_START_ACTIONS, machineRef('restore')),
      ]),
    );
    // An import lists and reads the bucket, and writes only under snapshots/.
    expect(pairs.filter((p) => p.startsWith('s3:')).sort()).toEqual(
      [
        ...pairsOf(SNAPSHOT_LIST_ACTIONS, { 'Fn::GetAtt': [idOf(snaps().bucket), 'Arn'] }),
        ...pairsOf(SNAPSHOT_READ_ACTIONS, {
          'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf(snaps().bucket), 'Arn'] }, '/*']],
        }),
        ...pairsOf(SNAPSHOT_WRITE_ACTIONS, {
          'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf(snaps().bucket), 'Arn'] }, '/snapshots/*']],
        }),
      ].sort(),
    );
  });

  test('the stack outputs the bucket name', () => {
    expect(s.template.toJSON().Outputs.SnapshotBucketName.Value).toEqual({ Ref: bucketId() });
  });
});

test('a construct with an unknown stage is refused', () => {
  const stack = bareStack();
  const tables = new StateTables(stack, 'Tables', { stage: 'dev', tableNamePrefix: 'vesta-dev' });
  expect(() => new Snapshots(stack, 'S', { stage: 'Not A Stage!', tables })).toThrow();
});
