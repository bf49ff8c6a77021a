/**
 * The field sweeper's construct: its function, schedule, grants (through `fieldSweeping` and
 * `deadLetterWrite` only) and lag alarm.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import {
  FIELD_SWEEPER_CONTROL_ACTIONS,
  FIELD_SWEEPER_EXPIRY_INDEX_ACTIONS,
  FIELD_SWEEPER_RECORDS_ACTIONS,
} from '../../lib/perms';
import {
  FieldSweeperJob,
  SWEEPER_LAG_THRESHOLD_SECONDS,
  SWEEPER_SCHEDULE_CONTEXT,
} from '../../lib/constructs/field-sweeper';
import { StateTables } from '../../lib/constructs/state-tables';
import { bareStack, resourcesOf } from './synth';

function build(stack: Stack = bareStack(), schedule?: events.Schedule) {
  const tables = new StateTables(stack, 'T', { stage: 'dev', tableNamePrefix: 'vesta-dev' });
  const job = new FieldSweeperJob(stack, 'S', { stage: 'dev', tables, schedule });
  return { stack, job, template: Template.fromStack(stack) };
}
const scheduleOf = (stack: Stack, job: FieldSweeperJob) =>
  stack.resolve((job.rule.node.defaultChild as any).scheduleExpression);

test('runs every minute, one at a time, with a 5 minute timeout', () => {
  const { stack, job, template } = build();
  expect(scheduleOf(stack, job)).toBe('rate(1 minute)');
  const fn = resourcesOf(template, 'AWS::Lambda::Function')[
    stack.getLogicalId(job.function.node.defaultChild as never)
  ];
  expect(fn.Properties).toMatchObject({ ReservedConcurrentExecutions: 1, Timeout: 300, Runtime: 'nodejs24.x' });
});

test('props, then CDK context, override the schedule; a malformed context value is refused', () => {
  const { stack, job } = build(bareStack(), events.Schedule.rate(Duration.minutes(5)));
  expect(scheduleOf(stack, job)).toBe('rate(5 minutes)');
  const withContext = (value: unknown) =>
    build(new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [], [SWEEPER_SCHEDULE_CONTEXT]: value } }), 'C'));
  const ctx = withContext('rate(2 minutes)');
  expect(scheduleOf(ctx.stack, ctx.job)).toBe('rate(2 minutes)');
  expect(() => withContext('every minute')).toThrow(/Received: "every minute"/);
});

test('the lag alarm watches FieldSweeperLagSeconds over 300 s, three minutes in a row', () => {
  const { template } = build();
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    MetricName: 'FieldSweeperLagSeconds',
    Namespace: 'Vesta',
    Statistic: 'Maximum',
    Period: 60,
    Threshold: SWEEPER_LAG_THRESHOLD_SECONDS,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 3,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
  });
  expect(SWEEPER_LAG_THRESHOLD_SECONDS).toBe(300);
});

test('the action lists are the documented ones', () => {
  expect([...FIELD_SWEEPER_RECORDS_ACTIONS].sort()).toEqual(
    ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'].sort(),
  );
  expect(FIELD_SWEEPER_EXPIRY_INDEX_ACTIONS).toEqual(['dynamodb:Query']);
  expect(FIELD_SWEEPER_CONTROL_ACTIONS).toEqual(['dynamodb:PutItem']);
});
