/**
 * Change events: the Vesta event bus and the change publisher, a Lambda function on the records
 * table's stream that appends every committed change to the change log (the changes endpoint)
 * and puts it on the bus as `vesta.StateChanged`.
 *
 * Why a Lambda and not EventBridge Pipes: each change must also be appended to the change log,
 * numbered without gaps and once per id, which a pipe cannot do; and one function keeps the same
 * code path as the local stack, which reads DynamoDB Local's stream with it.
 *
 * Delivery: batches of up to 100 stream records, partial batch responses (a batch is retried from
 * the first record not handled; replays are skipped by the log and carry the same event id),
 * `bisectBatchOnError`, a bounded number of retries, and then the batch's description goes to a
 * dead-letter queue. Alarms: anything in the dead-letter queue, stream iterator age (events
 * falling behind), the function's errors, and events that could not be put on the bus.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../src/core/changes';
import { METRIC_NAMES } from '../../src/core/metric-names';
import { createVestaFunction, vestaMetric } from './function-defaults';
import { vestaAlarm } from './monitoring/alarms';
import { MONITORING_PERIOD, functionMetrics } from './monitoring/metrics';
import { StageConstruct, type StageProps } from './stage-construct';
import type { StateTables } from './state-tables';

/** Stream records per invocation (the local stream poller uses the same). */
export const PUBLISHER_BATCH_SIZE = 100;
/**
 * Batches per shard handled at once (Lambda keeps each key's records in order). 1: batches of one
 * shard share namespaces, and appends to one namespace take turns on its head, so a second batch
 * at once halved throughput in `BENCH_ONLY=changes npm run bench` (more cancelled transactions).
 */
export const PUBLISHER_PARALLELIZATION = 1;
/** Retries of a failing batch before it goes to the dead-letter queue. */
export const PUBLISHER_RETRY_ATTEMPTS = 10;
/** The iterator-age alarm fires when the oldest unpublished change is older than this. */
export const ITERATOR_AGE_THRESHOLD = Duration.minutes(5);

export interface ChangeEventsProps extends StageProps {
  /** Deployment stage; names the bus `vesta-<stage>` and decides the default of `retainLogs`. */
  readonly stage: string;
  /** The records table (its stream) and the change table. */
  readonly tables: StateTables;
  /**
   * How long the bus archive keeps events, for replays to consumers that missed some.
   * @default Duration.days(7)
   */
  readonly archiveRetention?: Duration;
}

export class ChangeEvents extends StageConstruct {
  /** The bus every `vesta.StateChanged` event is put on. */
  readonly bus: events.EventBus;
  /** The stream consumer. */
  readonly publisher: lambda.Function;
  /** Where descriptions of batches that kept failing go (then replay them from the stream or a snapshot). */
  readonly deadLetterQueue: sqs.Queue;
  /**
   * Every alarm of this construct, by name: `deadLetters`, something is in the dead-letter queue
   * (changes were not published); `iteratorAge`, the stream's oldest unpublished record is older than
   * `ITERATOR_AGE_THRESHOLD`; `publisherErrors`, the publisher failed (threw) at least once in 5
   * minutes; `eventsFailed`, events could not be put on the bus after retries (the batch is retried).
   */
  readonly alarms: Readonly<
    Record<'deadLetters' | 'iteratorAge' | 'publisherErrors' | 'eventsFailed', cloudwatch.Alarm>
  >;

  /** Throws an `Error` when `stage` is malformed; the message echoes it. */
  constructor(scope: Construct, id: string, props: ChangeEventsProps) {
    super(scope, id, props);

    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: `vesta-${props.stage}`,
      description: 'Vesta change events (vesta.StateChanged)',
    });
    this.bus.archive('Archive', {
      description: 'Vesta change events, kept for replays',
      eventPattern: { source: [EVENT_SOURCE] },
      retention: props.archiveRetention ?? Duration.days(7),
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: this.log.logRemovalPolicy,
    });
    NagSuppressions.addResourceSuppressions(this.deadLetterQueue, [
      {
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself the dead-letter destination of the change publisher; it needs none of its own.',
      },
    ]);

    this.publisher = createVestaFunction(this, 'Publisher', {
      ...this.log,
      entry: 'change-publisher.ts',
      description: 'Vesta change publisher',
      tables: props.tables,
      memorySize: 512,
      timeout: Duration.minutes(1),
      environment: { VESTA_EVENT_BUS: this.bus.eventBusName },
    }).function;
    props.tables.grant(this.publisher, 'changeLogAppend', 'snapshotCutKeep', 'deadLetterWrite');
    // Several Regions: a replicated record's losers are read before they are published.
    if ((props.tables.regions?.regions.length ?? 1) > 1) props.tables.grant(this.publisher, 'regionalLosers');
    this.bus.grantPutEventsTo(this.publisher);
    this.publisher.addEventSource(
      new DynamoEventSource(props.tables.tables.records, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: PUBLISHER_BATCH_SIZE,
        maxBatchingWindow: Duration.seconds(1),
        parallelizationFactor: PUBLISHER_PARALLELIZATION,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: PUBLISHER_RETRY_ATTEMPTS,
        onFailure: new SqsDlq(this.deadLetterQueue),
      }),
    );

    const deadLetters = vestaAlarm(this, 'DeadLetterAlarm', {
      description:
        'Vesta change events: stream batches that kept failing are in the dead-letter queue; their changes are in the tables but were not published',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
    });
    const iteratorAge = vestaAlarm(this, 'IteratorAgeAlarm', {
      description: `Vesta change events: the oldest unpublished change is older than ${ITERATOR_AGE_THRESHOLD.toSeconds()} s, 3 minutes in a row (the stream keeps records 24 hours)`,
      metric: this.publisher.metric('IteratorAge', { period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: ITERATOR_AGE_THRESHOLD.toMilliseconds(),
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    const publisherErrors = vestaAlarm(this, 'PublisherErrorsAlarm', {
      description: 'Vesta change publisher: at least one failed invocation in 5 minutes',
      metric: functionMetrics(this.publisher).errors,
    });
    const eventsFailed = vestaAlarm(this, 'EventsFailedAlarm', {
      description:
        'Vesta change events: events could not be put on the bus after retries in 5 minutes (their batches are retried)',
      metric: vestaMetric(METRIC_NAMES.eventsFailed, 'Sum', MONITORING_PERIOD),
    });
    this.alarms = { deadLetters, iteratorAge, publisherErrors, eventsFailed };
  }

  /** Dashboard widgets: how far behind the publisher is, and what it could not publish. */
  widgets(): cloudwatch.IWidget[] {
    const period = Duration.minutes(5);
    return [
      new cloudwatch.GraphWidget({
        title: 'Stream iterator age (ms, max)',
        left: [this.publisher.metric('IteratorAge', { period, statistic: 'Maximum', label: 'IteratorAge' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Changes logged, events published and failed',
        left: [METRIC_NAMES.changesLogged, METRIC_NAMES.eventsPublished, METRIC_NAMES.eventsFailed].map((name) =>
          vestaMetric(name, 'Sum', period).with({ label: name }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue (messages)',
        left: [
          this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: 'Maximum',
            label: 'visible',
          }),
        ],
        width: 8,
      }),
    ];
  }
}
