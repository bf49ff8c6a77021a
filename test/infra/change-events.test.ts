/**
 * The change events construct: the bus and its archive, the publisher on the records table's
 * stream (partial batch responses, bisect, bounded retries, dead-letter queue), what the publisher
 * may do, the change table, and the alarms on the dead-letter queue, iterator age and failures.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { CHANGE_LOG_APPEND_ACTIONS, DEAD_LETTER_WRITE_ACTIONS, SNAPSHOT_CUT_KEEP_ACTIONS } from '../../lib/perms';
import {
  ITERATOR_AGE_THRESHOLD,
  PUBLISHER_BATCH_SIZE,
  PUBLISHER_PARALLELIZATION,
  PUBLISHER_RETRY_ATTEMPTS,
} from '../../lib/constructs/change-events';
import { BATCH_SIZE } from '../../src/local/stream-poller';
import { LOCAL_STREAM_PARALLELISM } from '../../src/local/change-feed';
import { list, logicalIdOf, roleStatements } from './policies';
import { resourcesOf, synthesize, type Synthesized } from './synth';

let s: Synthesized;
beforeAll(() => {
  s = synthesize({ stage: 'dev' });
});
afterAll(() => s.dispose());

const idOf = (c: { node: { defaultChild?: unknown } }) => logicalIdOf(s.stack, c);
const ev = () => s.stack.changeEvents;

test('the bus is vesta-<stage> and archives every vesta event', () => {
  s.template.hasResourceProperties('AWS::Events::EventBus', { Name: 'vesta-dev' });
  s.template.hasResourceProperties('AWS::Events::Archive', {
    SourceArn: { 'Fn::GetAtt': [idOf(ev().bus), 'Arn'] },
    EventPattern: { source: ['vesta'] },
    RetentionDays: 7,
  });
  s.template.hasOutput('EventBusName', { Value: { Ref: idOf(ev().bus) } });
});

test('the publisher reads the records stream in order with partial batch responses, bisect, bounded retries and a dead-letter queue', () => {
  s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    EventSourceArn: { 'Fn::GetAtt': [idOf(s.stack.tables.tables.records), 'StreamArn'] },
    FunctionName: { Ref: idOf(ev().publisher) },
    StartingPosition: 'TRIM_HORIZON',
    BatchSize: PUBLISHER_BATCH_SIZE,
    ParallelizationFactor: PUBLISHER_PARALLELIZATION,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    BisectBatchOnFunctionError: true,
    MaximumRetryAttempts: PUBLISHER_RETRY_ATTEMPTS,
    DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [idOf(ev().deadLetterQueue), 'Arn'] } } },
  });
  // The local stack reads its stream the same way.
  expect(BATCH_SIZE).toBe(PUBLISHER_BATCH_SIZE);
  expect(LOCAL_STREAM_PARALLELISM).toBe(PUBLISHER_PARALLELIZATION);
  s.template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ VESTA_EVENT_BUS: { Ref: idOf(ev().bus) } }) },
  });
});

test('the dead-letter queue is encrypted, TLS only, and keeps messages 14 days', () => {
  s.template.hasResourceProperties('AWS::SQS::Queue', {
    SqsManagedSseEnabled: true,
    MessageRetentionPeriod: 14 * 24 * 3600,
  });
  s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]),
    },
  });
});

test('the publisher may append to the change table, set changes aside as dead letters, read the stream, put events on its bus and send to its queue: nothing else', () => {
  const { statements } = roleStatements(s.template, idOf(ev().publisher.role as any));
  const changes = { 'Fn::GetAtt': [idOf(s.stack.tables.tables.changes), 'Arn'] };
  const byResource = (r: unknown) =>
    statements
      .filter((st) => list(st.Resource).some((x) => JSON.stringify(x) === JSON.stringify(r)))
      .flatMap((st) => list(st.Action));
  expect(byResource(changes).sort()).toEqual([...CHANGE_LOG_APPEND_ACTIONS].sort());
  const deadLetters = byResource({ 'Fn::GetAtt': [idOf(s.stack.tables.tables.deadletters), 'Arn'] });
  expect(deadLetters.sort()).toEqual([...DEAD_LETTER_WRITE_ACTIONS].sort());
  expect(byResource({ 'Fn::GetAtt': [idOf(ev().bus), 'Arn'] })).toEqual(['events:PutEvents']);
  expect(byResource({ 'Fn::GetAtt': [idOf(s.stack.tables.tables.records), 'StreamArn'] }).sort()).toEqual(
    ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'].sort(),
  );
  const dynamo = statements.flatMap((st) => list(st.Action)).filter((a) => a.startsWith('dynamodb:'));
  // No item read or write of the records table; on the control table only the snapshot cuts' items.
  expect([...new Set(dynamo)].sort()).toEqual(
    [
      ...new Set([
        ...CHANGE_LOG_APPEND_ACTIONS,
        ...SNAPSHOT_CUT_KEEP_ACTIONS,
        ...DEAD_LETTER_WRITE_ACTIONS,
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:ListStreams',
      ]),
    ].sort(),
  );
  const other = [
    ...new Set(statements.flatMap((st) => list(st.Action)).filter((a) => !/^(dynamodb|logs|xray):/.test(a))),
  ].sort();
  expect(other).toEqual(['events:PutEvents', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
});

test('the change table keeps changes with TTL clean-up and has no stream of its own', () => {
  s.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
    TableName: 'vesta-dev-changes',
    TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    StreamSpecification: Match.absent(),
  });
});

test('alarms: anything in the dead-letter queue, iterator age, publisher errors and events not put on the bus', () => {
  const alarms = Object.values(resourcesOf(s.template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  const named = (metric: string) => alarms.filter((a) => a.MetricName === metric);
  expect(named('ApproximateNumberOfMessagesVisible')).toEqual([
    expect.objectContaining({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(ev().deadLetterQueue), 'QueueName'] } }],
    }),
  ]);
  expect(named('IteratorAge')).toEqual([
    expect.objectContaining({
      Threshold: ITERATOR_AGE_THRESHOLD.toMilliseconds(),
      Statistic: 'Maximum',
      EvaluationPeriods: 3,
    }),
  ]);
  expect(named('EventsFailed')).toHaveLength(1);
  expect(Object.keys(ev().alarms)).toHaveLength(4);
});
