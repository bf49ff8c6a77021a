import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { METRIC_DIMENSIONS, METRIC_NAMES } from '../../src/core/metric-names';
import { ALARM_EMAILS_CONTEXT, Monitoring } from '../../lib/constructs/monitoring';
import { VestaStack } from '../../lib/stacks/vesta-stack';
import { logicalIdOf } from './policies';
import { bareStack, resourcesOf, synthesize, type Synthesized } from './synth';

let s: Synthesized;

beforeAll(() => {
  s = synthesize({ stage: 'dev' });
});
afterAll(() => s.dispose());

const idOf = (c: { node: { defaultChild?: unknown } }) => logicalIdOf(s.stack, c);
const topicRef = () => ({ Ref: idOf(s.stack.monitoring.topic) });
const alarmsOf = (template: Template) => resourcesOf(template, 'AWS::CloudWatch::Alarm');

/** The functions the stack runs, by a name for the test titles. */
const functions = () => ({
  api: s.stack.api.function,
  reaper: s.stack.leases.reaper,
  renewer: s.stack.leases.renewer,
  fieldSweeper: s.stack.fieldSweeper.function,
  sagaStep: s.stack.sagas.stepFunction,
  snapshotExport: s.stack.snapshots.exportFunction,
  snapshotRestore: s.stack.snapshots.restoreFunction,
  snapshotSchedule: s.stack.snapshots.scheduleFunction,
});

type Widget = { type: string; properties: { markdown?: string; alarms?: string[]; metrics?: unknown[][] } };

/** A token of the dashboard body as plain text: `{Ref:Id}`, `{GetAtt:Id.Attr}`. */
function tokenText(part: any): string {
  if (typeof part === 'string') return part;
  if (part.Ref) return `{Ref:${part.Ref}}`;
  if (part['Fn::GetAtt']) return `{GetAtt:${part['Fn::GetAtt'].join('.')}}`;
  throw new Error(`unexpected token in the dashboard body: ${JSON.stringify(part)}`);
}

/** The widgets of the (one) dashboard of a template, tokens written as plain text. */
function widgetsOf(template: Template): Widget[] {
  const [dashboard] = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard'));
  const body = dashboard.Properties.DashboardBody;
  return JSON.parse(typeof body === 'string' ? body : body['Fn::Join'][1].map(tokenText).join('')).widgets;
}

const headingsOf = (template: Template) =>
  widgetsOf(template).flatMap((w) => (w.type === 'text' ? [w.properties.markdown] : []));
const alarmWidgetOf = (template: Template) =>
  widgetsOf(template)
    .filter((w) => w.type === 'alarm')
    .flatMap((w) => w.properties.alarms ?? []);

/** Every line of every graph: `[namespace, metric name, ...dimensions]`, or `[expression]`. */
function graphLines(template: Template): string[][] {
  return widgetsOf(template)
    .flatMap((w) => (w.type === 'metric' ? (w.properties.metrics ?? []) : []))
    .map((line) =>
      line.flatMap((x) =>
        typeof x === 'string' ? [x] : typeof x === 'object' && x && 'expression' in x ? [String(x.expression)] : [],
      ),
    );
}

/** A whole Vesta stack synthesized with extra context (bundling skipped). */
function stackWithContext(context: Record<string, unknown>): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  return Template.fromStack(new VestaStack(app, 'Vesta-dev', { stage: 'dev' }));
}

describe('the alarm topic', () => {
  test('is encrypted with a customer key that rotates and that CloudWatch may use', () => {
    const topic = resourcesOf(s.template, 'AWS::SNS::Topic')[idOf(s.stack.monitoring.topic)];
    const keyId = idOf(s.stack.monitoring.topicKey!);
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    const key = resourcesOf(s.template, 'AWS::KMS::Key')[keyId];
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      }),
    );
  });

  test('refuses publishing without TLS and lets CloudWatch publish for alarms of this account', () => {
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topicRef()],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Principal: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': Match.anyValue() },
            },
          }),
        ]),
      },
    });
  });

  test('keeps its key when it leaves the stack on prod only, unless told otherwise', () => {
    const policy = (stage: string, retainKey?: boolean) => {
      const stack = bareStack();
      const monitoring = new Monitoring(stack, 'Monitoring', { stage, retainKey });
      return resourcesOf(Template.fromStack(stack), 'AWS::KMS::Key')[logicalIdOf(stack, monitoring.topicKey!)]
        .DeletionPolicy;
    };
    expect([policy('prod'), policy('dev'), policy('dev', true)]).toEqual(['Retain', 'Delete', 'Retain']);
  });

  test('is the AlarmTopicArn output of the stack', () => {
    s.template.hasOutput('AlarmTopicArn', { Value: topicRef() });
  });

  test('has no subscription when vesta:alarmEmails is not set', () => {
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test('subscribes each address of vesta:alarmEmails, blanks and duplicates dropped', () => {
    const template = stackWithContext({
      [ALARM_EMAILS_CONTEXT]: ' ops@example.com, oncall@example.org,,ops@example.com ',
    });
    const subscriptions = Object.values(resourcesOf(template, 'AWS::SNS::Subscription')).map((r) => r.Properties);
    expect(subscriptions.map((p) => [p.Protocol, p.Endpoint])).toEqual([
      ['email', 'ops@example.com'],
      ['email', 'oncall@example.org'],
    ]);
    const [topicId] = Object.keys(resourcesOf(template, 'AWS::SNS::Topic'));
    for (const p of subscriptions) expect(p.TopicArn).toEqual({ Ref: topicId });
  });

  test('takes the alarmEmails prop over the context value', () => {
    const stack = new Stack(new App({ context: { [ALARM_EMAILS_CONTEXT]: 'context@example.com' } }), 'Bare');
    new Monitoring(stack, 'Monitoring', { stage: 'dev', alarmEmails: ['prop@example.com'] });
    const subscriptions = Object.values(resourcesOf(Template.fromStack(stack), 'AWS::SNS::Subscription'));
    expect(subscriptions.map((r) => r.Properties.Endpoint)).toEqual(['prop@example.com']);
  });

  test.each(['not-an-email', 'ops@localhost', 'ops @example.com', 'a@b@example.com', `${'a'.repeat(250)}@example.com`])(
    'rejects the address %j and echoes it',
    (email) => {
      expect(
        () => new Monitoring(bareStack(), 'Monitoring', { stage: 'dev', alarmEmails: ['ops@example.com', email] }),
      ).toThrow(`Received: ${JSON.stringify(email)}`);
    },
  );

  test('rejects a malformed address in the context value', () => {
    expect(() => stackWithContext({ [ALARM_EMAILS_CONTEXT]: 'ops@example.com,oops' })).toThrow('Received: "oops"');
  });

  test('rejects a context value that is not a list of addresses', () => {
    expect(() => stackWithContext({ [ALARM_EMAILS_CONTEXT]: 42 })).toThrow(
      `context ${ALARM_EMAILS_CONTEXT} must be a comma-separated list of email addresses. Received: 42`,
    );
  });
});

describe('alarm routing', () => {
  test('every alarm of the stack notifies the topic on ALARM and on OK', () => {
    const alarms = alarmsOf(s.template);
    expect(Object.keys(alarms).length).toBeGreaterThanOrEqual(30);
    for (const [id, alarm] of Object.entries(alarms)) {
      expect({ id, actions: alarm.Properties.AlarmActions }).toEqual({ id, actions: [topicRef()] });
      expect({ id, actions: alarm.Properties.OKActions }).toEqual({ id, actions: [topicRef()] });
    }
  });

  test('the alarms of the capabilities are routed', () => {
    const { leases, fieldSweeper, sagas, snapshots, changeEvents } = s.stack;
    const handedIn = [leases, fieldSweeper, sagas, snapshots, changeEvents].flatMap((c) => Object.values(c.alarms));
    // reaper errors and lag, renewer errors; sweeper errors and lag; compensation, step errors, two
    // machines; snapshot age, function errors, two machines; four of the change events.
    expect(handedIn).toHaveLength(3 + 2 + 4 + 4 + 4);
    expect(s.stack.monitoring.alarms).toEqual(expect.arrayContaining(handedIn));
  });

  test('addAlarms routes an alarm added after construction, once however often it is added', () => {
    const stack = bareStack();
    const monitoring = new Monitoring(stack, 'Monitoring', { stage: 'dev' });
    const alarm = new cloudwatch.Alarm(stack, 'Later', {
      metric: new cloudwatch.Metric({ namespace: 'Vesta', metricName: 'EventsFailed' }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    monitoring.addAlarms(alarm);
    monitoring.addAlarms(alarm);
    const template = Template.fromStack(stack);
    const topic = { Ref: logicalIdOf(stack, monitoring.topic) };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'EventsFailed',
      AlarmActions: [topic],
      OKActions: [topic],
    });
    expect(alarmWidgetOf(template)).toContain(`{GetAtt:${logicalIdOf(stack, alarm)}.Arn}`);
  });

  test('addAlarms refuses an imported alarm, which cannot be given actions', () => {
    const stack = bareStack();
    const monitoring = new Monitoring(stack, 'Monitoring', { stage: 'dev' });
    const imported = cloudwatch.Alarm.fromAlarmArn(
      stack,
      'Imported',
      'arn:aws:cloudwatch:us-east-1:123456789012:alarm:elsewhere',
    );
    expect(() => monitoring.addAlarms(imported)).toThrow('Received: Bare/Imported');
  });
});

describe('the alarms of the Monitoring construct', () => {
  const notBreachingCount = {
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    EvaluationPeriods: 1,
    TreatMissingData: 'notBreaching',
  };

  test('the API alarm fires on one 5XX answer in 5 minutes', () => {
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Dimensions: [{ Name: 'ApiName', Value: 'vesta-dev' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ...notBreachingCount,
    });
  });

  test.each([0, 1.5, -1])('refuses an API 5XX threshold of %p', (threshold) => {
    expect(
      () => new Monitoring(bareStack(), 'Monitoring', { stage: 'dev', apiServerErrorsThreshold: threshold }),
    ).toThrow(`Received: ${threshold}`);
  });

  test.each([
    'api',
    'reaper',
    'renewer',
    'fieldSweeper',
    'sagaStep',
    'snapshotExport',
    'snapshotRestore',
    'snapshotSchedule',
  ] as const)('the %s function has an errors alarm and a throttles alarm', (name) => {
    const fnRef = { Ref: idOf(functions()[name]) };
    for (const metricName of ['Errors', 'Throttles']) {
      const metric = {
        Namespace: 'AWS/Lambda',
        MetricName: metricName,
        Dimensions: [{ Name: 'FunctionName', Value: fnRef }],
      };
      // The saga step's refused steps are failed invocations on purpose: its errors alarm leaves them out.
      const refusals = name === 'sagaStep' && metricName === 'Errors';
      const found = s.template.findResources('AWS::CloudWatch::Alarm', {
        Properties: {
          ...(refusals
            ? {
                Metrics: Match.arrayWith([
                  Match.objectLike({ Expression: 'failures - FILL(expected, 0)' }),
                  Match.objectLike({ Id: 'failures', MetricStat: { Metric: metric, Period: 300, Stat: 'Sum' } }),
                  Match.objectLike({
                    Id: 'expected',
                    MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'SagaStepsRefused' }) }),
                  }),
                ]),
              }
            : { ...metric, Statistic: 'Sum', Period: 300 }),
          Threshold: 1,
          ...notBreachingCount,
        },
      });
      expect(Object.keys(found).filter((id) => id.startsWith('Monitoring'))).toHaveLength(1);
    }
  });

  test.each(['publisher', 'snapshot', 'restore', 'reaper', 'renewer', 'sweeper'])(
    'the %s path has an alarm on one dead letter in 5 minutes, routed to the topic',
    (source) => {
      const found = s.template.findResources('AWS::CloudWatch::Alarm', {
        Properties: {
          Namespace: 'Vesta',
          MetricName: METRIC_NAMES.deadLetters,
          Dimensions: [
            { Name: 'service', Value: 'vesta' },
            { Name: 'source', Value: source },
          ],
          Statistic: 'Sum',
          Period: 300,
          Threshold: 1,
          ...notBreachingCount,
        },
      });
      expect(Object.keys(found)).toHaveLength(1);
      const [alarm] = Object.values(found);
      expect(alarm.Properties.AlarmActions).toEqual([topicRef()]);
      expect(alarm.Properties.AlarmDescription).toContain(`vesta dead-letter ls --source ${source}`);
      expect(METRIC_DIMENSIONS[METRIC_NAMES.deadLetters]).toBe('source');
    },
  );

  test('each table has an alarm on its read plus write throttle events', () => {
    const tables = Object.values(s.stack.tables.tables);
    expect(tables.length).toBeGreaterThanOrEqual(4);
    for (const table of tables) {
      const dims = [{ Name: 'TableName', Value: { Ref: idOf(table) } }];
      const throttleMetric = (name: string) =>
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: { Namespace: 'AWS/DynamoDB', MetricName: name, Dimensions: dims },
            Stat: 'Sum',
            Period: 300,
          }),
        });
      const found = s.template.findResources('AWS::CloudWatch::Alarm', {
        Properties: {
          Metrics: Match.arrayWith([throttleMetric('ReadThrottleEvents'), throttleMetric('WriteThrottleEvents')]),
          Threshold: 1,
          ...notBreachingCount,
        },
      });
      expect(Object.keys(found)).toHaveLength(1);
    }
  });

  test('addFunctions gives a function added later its alarms and its own dashboard row', () => {
    const stack = bareStack();
    const monitoring = new Monitoring(stack, 'Monitoring', { stage: 'dev' });
    const fn = new lambda.Function(stack, 'Later', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
    monitoring.addFunctions(fn, fn);
    monitoring.addFunctions(fn);
    const template = Template.fromStack(stack);
    const ref = { Ref: logicalIdOf(stack, fn) };
    for (const metricName of ['Errors', 'Throttles']) {
      template.resourcePropertiesCountIs(
        'AWS::CloudWatch::Alarm',
        { MetricName: metricName, Dimensions: [{ Name: 'FunctionName', Value: ref }] },
        1,
      );
    }
    expect(headingsOf(template)).toContain('## Lambda: Later');
  });
});

describe('the dashboard', () => {
  test('is named vesta-<stage>', () => {
    s.template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'vesta-dev' });
  });

  test('has the API, Lambda, DynamoDB, Step Functions, Vesta and Change events rows in that order', () => {
    expect(headingsOf(s.template)).toEqual([
      '## API',
      '## Lambda',
      '## DynamoDB',
      '## Step Functions',
      '## Vesta',
      '## Change events',
    ]);
  });

  test('graphs every Vesta metric name, and those with a second dimension by a SEARCH over it', () => {
    const lines = graphLines(s.template);
    const searches = lines.filter((l) => l.length === 1).map(([expression]) => expression);
    for (const [name, dimension] of Object.entries(METRIC_DIMENSIONS)) {
      expect(searches).toContain(
        `SEARCH('{Vesta,${dimension},service} MetricName="${name}" service="vesta"', 'Sum', 300)`,
      );
    }
    const plain = lines.filter((l) => l[0] === 'Vesta').map((l) => l[1]);
    for (const name of Object.values(METRIC_NAMES).filter((n) => !(n in METRIC_DIMENSIONS)))
      expect(plain).toContain(name);
    for (const line of lines.filter((l) => l[0] === 'Vesta')) expect(line.slice(2)).toEqual(['service', 'vesta']);
  });

  test('graphs executions started, succeeded and failed of every state machine', () => {
    const lines = graphLines(s.template).filter((l) => l[0] === 'AWS/States');
    const machines = [...Object.values(s.stack.sagas.stateMachines), ...Object.values(s.stack.snapshots.stateMachines)];
    for (const machine of machines) {
      for (const metric of ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed']) {
        expect(lines).toContainEqual(['AWS/States', metric, 'StateMachineArn', `{Ref:${idOf(machine)}}`]);
      }
    }
  });

  test('graphs invocations, errors, throttles and p99 duration of every function', () => {
    const lines = graphLines(s.template).filter((l) => l[0] === 'AWS/Lambda');
    for (const fn of Object.values(functions())) {
      for (const metric of ['Invocations', 'Errors', 'Throttles', 'Duration']) {
        expect(lines).toContainEqual(['AWS/Lambda', metric, 'FunctionName', `{Ref:${idOf(fn)}}`]);
      }
    }
  });

  test('lists every alarm of the stack in its alarm widget', () => {
    const listed = alarmWidgetOf(s.template);
    const ids = Object.keys(alarmsOf(s.template));
    expect(listed.sort()).toEqual(ids.map((id) => `{GetAtt:${id}.Arn}`).sort());
  });

  test('addSection appends a titled row and refuses an empty one', () => {
    const stack = bareStack();
    const monitoring = new Monitoring(stack, 'Monitoring', { stage: 'dev' });
    monitoring.addSection('Events', [new cloudwatch.TextWidget({ markdown: 'change events', width: 24 })]);
    const widgets = widgetsOf(Template.fromStack(stack));
    expect(widgets.slice(-2).map((w) => w.properties.markdown)).toEqual(['## Events', 'change events']);
    expect(() => monitoring.addSection('Empty', [])).toThrow('Received none for "Empty"');
  });
});
