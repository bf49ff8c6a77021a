/**
 * Every IAM role of the stack, with the exact (action, resource) pairs it is allowed, written out
 * here by hand from what each function's code sends (see lib/perms.ts). A new permission, or one
 * on a wider resource, is a visible change of this file; so is a new role.
 *
 * Resources are shown with the stack's constructs named: `{records.Arn}` is the records table,
 * `{records.Arn}/index/byExpiry` an index of it, `{saga.Name}` the saga state machine's name,
 * `{api-logs.Arn}` the API function's log group, `{AWS::Region}` a pseudo parameter.
 */
import { synthesize, resourcesOf, type Synthesized } from './synth';
import { list, logicalIdOf, roleStatements } from './policies';

let s: Synthesized;
let labels: Map<string, string>;

beforeAll(() => {
  s = synthesize({ stage: 'dev' });
  const st = s.stack;
  const named: [string, { node: { defaultChild?: unknown } }][] = [
    ...Object.entries(st.tables.tables),
    ...Object.entries(st.sagas.stateMachines),
    ...Object.entries(st.snapshots.stateMachines),
    ['api', st.api.function],
    ['reaper', st.leases.reaper],
    ['renewer', st.leases.renewer],
    ['sweeper', st.fieldSweeper.function],
    ['saga-step', st.sagas.stepFunction],
    ['export', st.snapshots.exportFunction],
    ['restore-fn', st.snapshots.restoreFunction],
    ['schedule', st.snapshots.scheduleFunction],
    ['publisher', st.changeEvents.publisher],
    ['bucket', st.snapshots.bucket],
    ['bus', st.changeEvents.bus],
  ];
  labels = new Map(named.map(([label, c]) => [logicalIdOf(st, c), label]));
  for (const [label, fn] of named.filter(([, c]) => (c as { logGroup?: unknown }).logGroup)) {
    labels.set(
      logicalIdOf(st, (fn as unknown as { logGroup: { node: { defaultChild?: unknown } } }).logGroup),
      `${label}-logs`,
    );
  }
});
afterAll(() => s.dispose());

/** A resource of a policy statement, with logical ids replaced by the labels above. */
function render(r: unknown): string {
  if (typeof r === 'string') return r;
  const o = r as Record<string, any>;
  const label = (id: string) => labels.get(id) ?? (/DeadLetters/.test(id) ? 'dead-letters' : id);
  if (o.Ref) return `{${label(o.Ref)}}`;
  if (o['Fn::GetAtt']) return `{${label(o['Fn::GetAtt'][0])}.${o['Fn::GetAtt'][1]}}`;
  if (o['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(render).join(o['Fn::Join'][0]);
  return JSON.stringify(r);
}

/** Every allowed `action resource` pair of a role, sorted; a Deny would show as such. */
function pairsOf(roleId: string): string[] {
  return roleStatements(s.template, roleId)
    .statements.flatMap((st) =>
      list(st.Action).flatMap((a) =>
        list(st.Resource).map((r) => `${st.Effect === 'Allow' ? '' : `${st.Effect} `}${a} ${render(r)}`),
      ),
    )
    .sort();
}

const idOf = (c: { node: { defaultChild?: unknown } }) => logicalIdOf(s.stack, c);
const fnRole = (fn: { role?: unknown }) => idOf(fn.role as never);

const logs = (group: string) => [
  `logs:CreateLogStream arn:{AWS::Partition}:logs:{AWS::Region}:{AWS::AccountId}:log-group:{${group}}`,
  `logs:CreateLogStream {${group}.Arn}`,
  `logs:PutLogEvents arn:{AWS::Partition}:logs:{AWS::Region}:{AWS::AccountId}:log-group:{${group}}`,
  `logs:PutLogEvents {${group}.Arn}`,
];
const XRAY = ['xray:PutTelemetryRecords *', 'xray:PutTraceSegments *'];
/** A background function's dead letters: set an item aside (an upsert), read and remove its own entry on a replay. */
const DEAD_LETTERS = [
  'dynamodb:GetItem {deadletters.Arn}',
  'dynamodb:UpdateItem {deadletters.Arn}',
  'dynamodb:DeleteItem {deadletters.Arn}',
];
/** A state machine's role: invoke its one function, deliver its logs, trace. */
const machineRole = (fn: string) => [
  `lambda:InvokeFunction {${fn}.Arn}`,
  `lambda:InvokeFunction {${fn}.Arn}:*`,
  'logs:CreateLogDelivery *',
  'logs:DeleteLogDelivery *',
  'logs:DescribeLogGroups *',
  'logs:DescribeResourcePolicies *',
  'logs:GetLogDelivery *',
  'logs:ListLogDeliveries *',
  'logs:PutResourcePolicy *',
  'logs:UpdateLogDelivery *',
  'xray:GetSamplingRules *',
  'xray:GetSamplingTargets *',
  ...XRAY,
];

const EXPECTED: Record<string, () => { role: string; pairs: string[] }> = {
  api: () => ({
    role: fnRole(s.stack.api.function),
    pairs: [
      'dynamodb:GetItem {records.Arn}',
      'dynamodb:PutItem {records.Arn}',
      'dynamodb:UpdateItem {records.Arn}',
      'dynamodb:Query {records.Arn}',
      'dynamodb:BatchGetItem {records.Arn}',
      'dynamodb:ConditionCheckItem {records.Arn}',
      's3:ListBucket {bucket.Arn}',
      's3:GetObject {bucket.Arn}/*',
      's3:PutObject {bucket.Arn}/snapshots/*',
      's3:AbortMultipartUpload {bucket.Arn}/snapshots/*',
      'dynamodb:GetItem {control.Arn}',
      'dynamodb:PutItem {control.Arn}',
      'dynamodb:UpdateItem {control.Arn}',
      'dynamodb:DeleteItem {control.Arn}',
      'dynamodb:Query {control.Arn}',
      'dynamodb:BatchGetItem {control.Arn}',
      'dynamodb:ConditionCheckItem {control.Arn}',
      'dynamodb:Query {control.Arn}/index/locksByNamespace',
      'dynamodb:GetItem {idempotency.Arn}',
      'dynamodb:PutItem {idempotency.Arn}',
      'dynamodb:UpdateItem {idempotency.Arn}',
      'dynamodb:DeleteItem {idempotency.Arn}',
      'dynamodb:GetItem {sagas.Arn}',
      'dynamodb:PutItem {sagas.Arn}',
      'dynamodb:UpdateItem {sagas.Arn}',
      'dynamodb:Query {sagas.Arn}',
      'dynamodb:Query {sagas.Arn}/index/byStatus',
      'dynamodb:Query {changes.Arn}',
      'dynamodb:GetItem {deadletters.Arn}',
      'dynamodb:DeleteItem {deadletters.Arn}',
      'dynamodb:Query {deadletters.Arn}/index/bySource',
      ...['publisher', 'export', 'restore-fn', 'reaper', 'renewer', 'sweeper'].map(
        (fn) => `lambda:InvokeFunction {${fn}.Arn}`,
      ),
      'states:StartExecution {saga}',
      'states:StartExecution {transfer}',
      'states:StartExecution {snapshot}',
      'states:StartExecution {restore}',
      // A person's retry of a COMPENSATION_FAILED saga redrives its execution.
      ...['saga', 'transfer'].map(
        (m) =>
          `states:RedriveExecution arn:{AWS::Partition}:states:{AWS::Region}:{AWS::AccountId}:execution:{${m}.Name}:*`,
      ),
      ...logs('api-logs'),
      ...XRAY,
    ],
  }),
  reaper: () => ({
    role: fnRole(s.stack.leases.reaper),
    pairs: [
      'dynamodb:PutItem {control.Arn}',
      'dynamodb:UpdateItem {control.Arn}',
      'dynamodb:DeleteItem {control.Arn}',
      'dynamodb:Query {control.Arn}',
      'dynamodb:Query {control.Arn}/index/byExpiry',
      'dynamodb:UpdateItem {records.Arn}',
      ...DEAD_LETTERS,
      ...logs('reaper-logs'),
      ...XRAY,
    ],
  }),
  renewer: () => ({
    role: fnRole(s.stack.leases.renewer),
    pairs: [
      'dynamodb:UpdateItem {control.Arn}',
      'dynamodb:Query {control.Arn}/index/byExecution',
      ...['saga', 'transfer', 'snapshot', 'restore'].map(
        (m) =>
          `states:DescribeExecution arn:{AWS::Partition}:states:{AWS::Region}:{AWS::AccountId}:execution:{${m}.Name}:*`,
      ),
      ...DEAD_LETTERS,
      ...logs('renewer-logs'),
      ...XRAY,
    ],
  }),
  sweeper: () => ({
    role: fnRole(s.stack.fieldSweeper.function),
    pairs: [
      'dynamodb:GetItem {records.Arn}',
      'dynamodb:PutItem {records.Arn}',
      'dynamodb:UpdateItem {records.Arn}',
      'dynamodb:Query {records.Arn}/index/byFieldExpiry',
      'dynamodb:PutItem {control.Arn}',
      ...DEAD_LETTERS,
      ...logs('sweeper-logs'),
      ...XRAY,
    ],
  }),
  'saga-step': () => ({
    role: fnRole(s.stack.sagas.stepFunction),
    pairs: [
      'dynamodb:BatchGetItem {records.Arn}',
      'dynamodb:PutItem {records.Arn}',
      'dynamodb:ConditionCheckItem {records.Arn}',
      'dynamodb:GetItem {control.Arn}',
      'dynamodb:GetItem {sagas.Arn}',
      'dynamodb:PutItem {sagas.Arn}',
      'dynamodb:Query {sagas.Arn}',
      'dynamodb:UpdateItem {sagas.Arn}',
      ...logs('saga-step-logs'),
      ...XRAY,
    ],
  }),
  export: () => ({
    role: fnRole(s.stack.snapshots.exportFunction),
    pairs: [
      'dynamodb:Query {records.Arn}',
      'dynamodb:Scan {records.Arn}',
      'dynamodb:GetItem {control.Arn}',
      'dynamodb:UpdateItem {control.Arn}',
      'dynamodb:PutItem {control.Arn}',
      'dynamodb:DeleteItem {control.Arn}',
      'dynamodb:BatchGetItem {control.Arn}',
      's3:PutObject {bucket.Arn}/snapshots/*',
      's3:AbortMultipartUpload {bucket.Arn}/snapshots/*',
      ...DEAD_LETTERS,
      ...logs('export-logs'),
      ...XRAY,
    ],
  }),
  restore: () => ({
    role: fnRole(s.stack.snapshots.restoreFunction),
    pairs: [
      'dynamodb:BatchGetItem {records.Arn}',
      'dynamodb:PutItem {records.Arn}',
      'dynamodb:GetItem {control.Arn}',
      'dynamodb:UpdateItem {control.Arn}',
      'dynamodb:Query {control.Arn}',
      's3:GetObject {bucket.Arn}/snapshots/*',
      ...DEAD_LETTERS,
      ...logs('restore-fn-logs'),
      ...XRAY,
    ],
  }),
  schedule: () => ({
    role: fnRole(s.stack.snapshots.scheduleFunction),
    pairs: [
      'dynamodb:GetItem {control.Arn}',
      'dynamodb:PutItem {control.Arn}',
      'states:StartExecution {snapshot}',
      ...logs('schedule-logs'),
      ...XRAY,
    ],
  }),
  publisher: () => ({
    role: fnRole(s.stack.changeEvents.publisher),
    pairs: [
      'dynamodb:DescribeStream {records.StreamArn}',
      'dynamodb:GetRecords {records.StreamArn}',
      'dynamodb:GetShardIterator {records.StreamArn}',
      'dynamodb:ListStreams {records.StreamArn}',
      'dynamodb:PutItem {changes.Arn}',
      'dynamodb:UpdateItem {changes.Arn}',
      'dynamodb:Query {control.Arn}',
      'dynamodb:PutItem {control.Arn}',
      'events:PutEvents {bus.Arn}',
      'sqs:GetQueueAttributes {dead-letters.Arn}',
      'sqs:GetQueueUrl {dead-letters.Arn}',
      'sqs:SendMessage {dead-letters.Arn}',
      ...DEAD_LETTERS,
      ...logs('publisher-logs'),
      ...XRAY,
    ],
  }),
  'saga machine': () => ({
    role: idOf(s.stack.sagas.stateMachines.saga.role as never),
    pairs: machineRole('saga-step'),
  }),
  'transfer machine': () => ({
    role: idOf(s.stack.sagas.stateMachines.transfer.role as never),
    pairs: machineRole('saga-step'),
  }),
  'snapshot machine': () => ({
    role: idOf(s.stack.snapshots.stateMachines.snapshot.role as never),
    pairs: machineRole('export'),
  }),
  'restore machine': () => ({
    role: idOf(s.stack.snapshots.stateMachines.restore.role as never),
    pairs: machineRole('restore-fn'),
  }),
};

test.each(Object.keys(EXPECTED))('the %s role is allowed exactly its list', (name) => {
  const { role, pairs } = EXPECTED[name]();
  expect(pairsOf(role)).toEqual([...pairs].sort());
});

test('every role of the stack is listed above, and no other', () => {
  expect(Object.keys(resourcesOf(s.template, 'AWS::IAM::Role')).sort()).toEqual(
    Object.values(EXPECTED)
      .map((e) => e().role)
      .sort(),
  );
});

test('how much each role may do: distinct actions, and (action, resource) pairs', () => {
  const counts = Object.fromEntries(
    Object.entries(EXPECTED).map(([name, e]) => {
      const pairs = pairsOf(e().role);
      return [name, { actions: new Set(pairs.map((p) => p.split(' ')[0])).size, pairs: pairs.length }];
    }),
  );
  expect(counts).toEqual({
    api: { actions: 18, pairs: 49 },
    reaper: { actions: 9, pairs: 15 },
    renewer: { actions: 9, pairs: 15 },
    sweeper: { actions: 9, pairs: 14 },
    'saga-step': { actions: 10, pairs: 14 },
    export: { actions: 13, pairs: 18 },
    restore: { actions: 11, pairs: 15 },
    schedule: { actions: 7, pairs: 9 },
    publisher: { actions: 17, pairs: 21 },
    'saga machine': { actions: 13, pairs: 14 },
    'transfer machine': { actions: 13, pairs: 14 },
    'snapshot machine': { actions: 13, pairs: 14 },
    'restore machine': { actions: 13, pairs: 14 },
  });
});
