/**
 * Lambda entry of the change publisher (DynamoDB stream of the records table, partial batch
 * responses): appends each committed change to the change log and puts it on the event bus. The
 * API also invokes it with `{"action": "replayDeadLetter", "id"}` to replay one of its dead letters.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { wireChangePublisher } from '../src/api/wiring';
import { type ReplayRequest, type ReplayResponse, answerReplay, isReplayRequest } from '../src/core/dead-letters';
import { type BatchResult, publishBatch, replayPublisherEntry } from '../src/events/publisher';
import type { StreamRecordLike } from '../src/adapters/dynamodb/stream-records';

const logger = new Logger({ serviceName: 'vesta' });
const metrics = new Metrics({ namespace: 'Vesta', serviceName: 'vesta' });
const deps = { ...wireChangePublisher({ logger, metrics }), logger, metrics };

export const handler = async (event: DynamoDBStreamEvent | ReplayRequest): Promise<BatchResult | ReplayResponse> => {
  try {
    if (isReplayRequest(event))
      return await answerReplay(event, {
        store: deps.deadLetters,
        replayers: { publisher: (e) => replayPublisherEntry(e, deps) },
      });
    return await publishBatch(event.Records as StreamRecordLike[], deps);
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
};
