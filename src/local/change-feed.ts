/**
 * The local change feed: DynamoDB Local's stream of the records table, read by `StreamPoller`,
 * handed to the same publisher the Lambda runs, into the change log and the local event bus (whose
 * events the local log counts, and shows one by one at `DEBUG`). Only the bus adapter and the
 * stream reader differ from AWS.
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { wireChangePublisher } from '../api/wiring';
import { LocalEventBus, type LocalBusLog } from '../adapters/events/local-bus';
import { CHANGES_TABLE, RECORDS_TABLE } from '../adapters/dynamodb/table-defs';
import { type PublisherDeps, publishBatch } from '../events/publisher';
import { LOCAL_CREDENTIALS } from './dynamodb-local';
import { StreamPoller } from './stream-poller';
import { DYNAMODB_CLIENT_DEFAULTS } from '../adapters/dynamodb/client-config';
import type { ChangeDetail } from '../core/changes';
import { type LocalLog, SILENT_LOG } from './log';
import type { ChangeSignal } from '../core/ports';
import { BroadcastChangeSignal } from './change-signal';

/** Key groups published at once, as the CDK event source's ParallelizationFactor. */
export const LOCAL_STREAM_PARALLELISM = 1;

export interface ChangeFeedOptions {
  readonly client: DynamoDBClient;
  readonly endpoint: string;
  /** The endpoint is a real DynamoDB: use the default credential chain. */
  readonly external: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger?: Logger;
  /**
   * The local log: each event at `DEBUG`, at `INFO` one line a minute (`summaryMs`) counting the
   * changes published, by namespace; a change set aside as a dead letter at once, as a warning.
   * @default nothing is logged
   */
  readonly log?: LocalLog;
  /** How often the summary line is written (when there were changes). @default 60000 */
  readonly summaryMs?: number;
  readonly metrics?: Metrics;
  /** @default LOCAL_STREAM_PARALLELISM */
  readonly parallelism?: number;
  /** Told of each append to the change log. @default a `BroadcastChangeSignal` of the change table, closed on stop */
  readonly changeSignal?: ChangeSignal;
}

export interface ChangeFeed {
  readonly bus: LocalEventBus;
  /** What the publisher runs on, for replaying its dead letters in process. */
  readonly publisher: Pick<PublisherDeps, 'decoder' | 'log' | 'bus'>;
  readonly poller: StreamPoller;
  stop(): Promise<void>;
}

/** Starts reading the stream in the background. Throws when the records table has no stream. */
export async function startChangeFeed(opts: ChangeFeedOptions): Promise<ChangeFeed> {
  const recordsTable = opts.env[RECORDS_TABLE.envVar]!;
  const described = await opts.client.send(new DescribeTableCommand({ TableName: recordsTable }));
  const streamArn = described.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${recordsTable} has no stream; change events need one`);
  const streams = new DynamoDBStreamsClient({
    endpoint: opts.endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    ...DYNAMODB_CLIENT_DEFAULTS,
    ...(opts.external ? {} : { credentials: LOCAL_CREDENTIALS }),
  });
  const ownSignal = opts.changeSignal ? undefined : new BroadcastChangeSignal(opts.env[CHANGES_TABLE.envVar]!);
  const { bus, deps, summary } = changePublisher({ ...opts, changeSignal: opts.changeSignal ?? ownSignal });
  let failures = 0;
  const poller = new StreamPoller({
    streams,
    streamArn,
    publish: async (records) => {
      try {
        return await publishBatch(records, deps);
      } finally {
        if (opts.metrics?.hasStoredMetrics()) opts.metrics.publishStoredMetrics();
      }
    },
    checkpoint: { client: opts.client, tableName: opts.env[CHANGES_TABLE.envVar]! },
    parallelism: opts.parallelism ?? LOCAL_STREAM_PARALLELISM,
    // One line when reading starts failing (DynamoDB down, say) and one when it works again,
    // not one every half second in between.
    onError: (e) => {
      if (failures++ === 0)
        (opts.log ?? SILENT_LOG).warn('change feed: reading the stream failed; retrying until it works', {
          error: String(e),
        });
    },
    onRecovered: () => {
      (opts.log ?? SILENT_LOG).warn('change feed: reading the stream again', { failedPolls: failures });
      failures = 0;
    },
  });
  poller.start();
  return {
    bus,
    publisher: deps,
    poller,
    stop: async () => {
      await poller.stop();
      streams.destroy();
      summary.stop();
      ownSignal?.close();
    },
  };
}

/**
 * The publisher's parts without the stream reader: the change log, the local bus and its summary
 * in the log. The stack's API side builds one of its own to replay the publisher's dead letters.
 */
export function changePublisher(
  opts: Pick<ChangeFeedOptions, 'client' | 'env' | 'logger' | 'log' | 'summaryMs' | 'metrics' | 'changeSignal'>,
): { bus: LocalEventBus; deps: PublisherDeps & Pick<ChangeFeedOptions, 'logger' | 'metrics'>; summary: ChangeSummary } {
  const summary = new ChangeSummary(opts.log ?? SILENT_LOG, opts.summaryMs ?? 60000);
  const bus = new LocalEventBus(summary);
  const deps = {
    ...wireChangePublisher({
      client: opts.client,
      env: opts.env,
      bus,
      logger: opts.logger,
      metrics: opts.metrics,
      changeSignal: opts.changeSignal,
    }),
    logger: opts.logger,
    metrics: opts.metrics,
  };
  return { bus, deps, summary };
}

/**
 * What the local bus logs: every event at `DEBUG` (with the envelope EventBridge would carry), a
 * placeholder of a change set aside as a dead letter at once as a warning, and every
 * `intervalMs` one `INFO` line counting the changes published since the last, by namespace
 * (nothing when there were none, and what is left when the feed stops).
 */
export class ChangeSummary implements LocalBusLog {
  private count = 0;
  private readonly byNamespace = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private since = Date.now();

  public constructor(
    private readonly log: LocalLog,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  public info(message: string, extra: Record<string, unknown>): void {
    const detail = extra.detail as ChangeDetail;
    this.count++;
    this.byNamespace.set(detail.namespace, (this.byNamespace.get(detail.namespace) ?? 0) + 1);
    if (detail.deadLetter)
      this.log.warn('change feed: a change was set aside as a dead letter; a placeholder was published', {
        namespace: detail.namespace,
        key: detail.key,
        rev: detail.rev,
        deadLetter: detail.deadLetter,
      });
    if (this.log.enabled('DEBUG')) this.log.debug(message, extra);
  }

  public stop(): void {
    clearInterval(this.timer);
    this.flush();
  }

  private flush(): void {
    const seconds = Math.round((Date.now() - this.since) / 1000);
    this.since = Date.now();
    if (this.count === 0) return;
    const namespaces = [...this.byNamespace].map(([ns, n]) => `${ns} ${n}`).join(', ');
    this.log.info(`change feed: ${this.count} change${this.count === 1 ? '' : 's'} published in ${seconds} s`, {
      namespaces,
    });
    this.count = 0;
    this.byNamespace.clear();
  }
}
