/**
 * A Region's change publisher on its own stream of the global-tables stand-in, as the stack runs
 * it: the same poller and publisher as `npm start`, reading that Region's records-table stream
 * (its own writes and the replicated ones) and keeping its checkpoints in its changes table.
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CHANGES_TABLE, RECORDS_TABLE } from '../../../src/adapters/dynamodb/table-defs';
import { type PublisherDeps, publishBatch } from '../../../src/events/publisher';
import type { StreamRecordLike } from '../../../src/adapters/dynamodb/stream-records';
import { LOCAL_CREDENTIALS } from '../../../src/local/dynamodb-local';
import { StreamPoller } from '../../../src/local/stream-poller';
import type { Replicator } from './replicator';

export interface RegionPublisher {
  readonly poller: StreamPoller;
  /** Stops the poller and closes its stream client. */
  stop(): Promise<void>;
}

/** Starts `deps` (from `wireChangePublisher`) on Region `id`'s stream. Throws when the table cannot be described. */
export async function publisherIn(
  rep: Replicator,
  id: string,
  deps: PublisherDeps<StreamRecordLike>,
): Promise<RegionPublisher> {
  const { client, endpoint } = rep.region(id);
  const table = await client.send(new DescribeTableCommand({ TableName: rep.tables[RECORDS_TABLE.envVar] }));
  const streams = new DynamoDBStreamsClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  const poller = new StreamPoller({
    streams,
    streamArn: table.Table!.LatestStreamArn!,
    publish: (records) => publishBatch(records, deps),
    checkpoint: { client, tableName: rep.tables[CHANGES_TABLE.envVar] },
  });
  poller.start();
  return {
    poller,
    async stop() {
      await poller.stop();
      streams.destroy();
    },
  };
}
