/**
 * The local change feed: DynamoDB Local's stream of the records table, read by `StreamPoller`,
 * handed to the same publisher the Lambda runs, into the change log and the local event bus (which
 * logs every event). Only the bus adapter and the stream reader differ from AWS.
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { wireChangePublisher } from '../api/wiring';
import { LocalEventBus, type LocalBusLog } from '../adapters/events/local-bus';
import { CHANGES_TABLE, RECORDS_TABLE } from '../adapters/dynamodb/table-defs';
import { type PublisherDeps, publishBatch } from '../events/publisher';
import { LOCAL_CREDENTIALS } from './dynamodb-local';
import { StreamPoller } from './stream-poller';
import { DYNAMODB_CLIENT_DEFAULTS } from '../adapters/dynamodb/client-config';

/** Key groups published at once, as the CDK event source's ParallelizationFactor. */
export const LOCAL_STREAM_PARALLELISM = 1;

export interface ChangeFeedOptions {
  readonly client: DynamoDBClient;
  readonly endpoint: string;
  /** The endpoint is a real DynamoDB: use the default credential chain. */
  readonly external: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger?: Logger;
  /** Where each event is logged. @default a logger at `VESTA_EVENTS_LOG_LEVEL` (INFO): events show even when the rest logs only warnings */
  readonly eventLogger?: LocalBusLog;
  readonly metrics?: Metrics;
  /** @default LOCAL_STREAM_PARALLELISM */
  readonly parallelism?: number;
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
  const eventLogger =
    opts.eventLogger ??
    new Logger({ serviceName: 'vesta', logLevel: (process.env.VESTA_EVENTS_LOG_LEVEL ?? 'INFO') as 'INFO' });
  const bus = new LocalEventBus(eventLogger);
  const deps = {
    ...wireChangePublisher({ client: opts.client, env: opts.env, bus, logger: opts.logger, metrics: opts.metrics }),
    logger: opts.logger,
    metrics: opts.metrics,
  };
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
        opts.logger?.warn('change feed: reading the stream failed; retrying until it works', { error: String(e) });
    },
    onRecovered: () => {
      opts.logger?.warn('change feed: reading the stream again', { failedPolls: failures });
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
    },
  };
}
