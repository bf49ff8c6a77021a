/**
 * Lambda entry of the change publisher (DynamoDB stream of the records table, partial batch
 * responses): appends each committed change to the change log and puts it on the event bus.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { wireChangePublisher } from '../src/api/wiring';
import { type BatchResult, publishBatch } from '../src/events/publisher';
import type { StreamRecordLike } from '../src/adapters/dynamodb/stream-records';

const logger = new Logger({ serviceName: 'vesta' });
const metrics = new Metrics({ namespace: 'Vesta', serviceName: 'vesta' });
const deps = { ...wireChangePublisher(), logger, metrics };

export const handler = async (event: DynamoDBStreamEvent): Promise<BatchResult> => {
  try {
    return await publishBatch(event.Records as StreamRecordLike[], deps);
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
};
