/**
 * A change feed for tests: a table set of its own (so its stream holds only the test's writes),
 * the API on it, and the same stream poller and publisher `npm start` runs, with the events the
 * bus received and the batches the publisher was handed kept for assertions.
 */
import { DEFAULT_PRE_IMAGE_WAIT_MS } from '../../src/core/snapshot-cut';
import { randomUUID } from 'node:crypto';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, type _Record } from '@aws-sdk/client-dynamodb-streams';
import { wireChangePublisher } from '../../src/api/wiring';
import { LocalEventBus } from '../../src/adapters/events/local-bus';
import { CHANGES_TABLE, RECORDS_TABLE } from '../../src/adapters/dynamodb/table-defs';
import type { ChangeDetail } from '../../src/core/changes';
import type { Clock } from '../../src/core/ports';
import { publishBatch } from '../../src/events/publisher';
import { ensureTables } from '../../src/local/bootstrap-tables';
import { LOCAL_CREDENTIALS, localClient } from '../../src/local/dynamodb-local';
import { StreamPoller } from '../../src/local/stream-poller';
import { type TestApi, endpoint, testApi } from './harness';

export interface TestFeed {
  readonly api: TestApi;
  readonly env: Record<string, string>;
  readonly poller: StreamPoller;
  /** Every event the bus received, in order. */
  readonly events: ChangeDetail[];
  /** Every batch the publisher was handed. */
  readonly batches: _Record[][];
  readonly publish: (records: readonly _Record[]) => ReturnType<typeof publishBatch>;
  close(): Promise<void>;
}

export async function testFeed(
  opts: { readonly parallelism?: number; readonly clock?: Clock; readonly env?: Record<string, string> } = {},
): Promise<TestFeed> {
  const admin = localClient(endpoint());
  const env: Record<string, string> = {
    ...(await ensureTables(admin, `vesta-chg-${randomUUID().slice(0, 8)}`)),
    VESTA_REPLICA: 'local',
    // The publisher runs here: a snapshot waits for it as long as it would in the stack.
    VESTA_SNAPSHOT_PRE_IMAGE_WAIT_MS: String(DEFAULT_PRE_IMAGE_WAIT_MS),
    ...opts.env,
  };
  const api = testApi({ env, clock: opts.clock });
  const described = await admin.send(new DescribeTableCommand({ TableName: env[RECORDS_TABLE.envVar] }));
  const streams = new DynamoDBStreamsClient({
    endpoint: endpoint(),
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
  const bus = new LocalEventBus();
  const events: ChangeDetail[] = [];
  bus.subscribe((c) => events.push(c));
  const deps = wireChangePublisher({ client: admin, env, bus, clock: opts.clock });
  api.replayParts.publisher = deps;
  const batches: _Record[][] = [];
  const publish = (records: readonly _Record[]) => {
    batches.push([...records]);
    return publishBatch(records, deps);
  };
  const poller = new StreamPoller({
    streams,
    streamArn: described.Table!.LatestStreamArn!,
    publish,
    checkpoint: { client: admin, tableName: env[CHANGES_TABLE.envVar] },
    parallelism: opts.parallelism,
  });
  return {
    api,
    env,
    poller,
    events,
    batches,
    publish,
    async close() {
      await poller.stop();
      streams.destroy();
      admin.destroy();
      api.close();
    },
  };
}
