/**
 * The change publisher: one batch of records-table stream records in, change-log entries and bus
 * events out. The same function runs in the publisher Lambda (DynamoDB stream event source) and
 * in the local stack's stream poller.
 *
 * Order and failures: changes are appended to the change log first (numbered, each id once), then
 * put on the bus. When something fails, the answer names the first stream record not fully
 * handled (`batchItemFailures`, Lambda's partial batch response): the batch is retried from there,
 * the change log skips what it already has, and the bus gets those events again with the same id.
 * Nothing committed is dropped; what keeps failing ends in the dead-letter queue after the event
 * source's retries.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { ChangeDetail } from '../core/changes';
import { METRIC_NAMES } from '../core/metric-names';
import type { ChangeLog, EventBus } from '../core/ports';
import { type StreamRecordLike, changeFromStreamRecord } from '../adapters/dynamodb/stream-records';

export interface PublisherDeps {
  readonly log: ChangeLog;
  readonly bus: EventBus;
  readonly metrics?: Pick<Metrics, 'addMetric'>;
  readonly logger?: Pick<Logger, 'error' | 'warn'>;
}

/** Lambda's partial batch response for stream sources. */
export interface BatchResult {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

/** Handles one batch in stream order. Never throws: failures are in the result. */
export async function publishBatch(records: readonly StreamRecordLike[], deps: PublisherDeps): Promise<BatchResult> {
  const changes: { index: number; change: ChangeDetail }[] = [];
  records.forEach((r, index) => {
    const change = changeFromStreamRecord(r);
    if (change) changes.push({ index, change });
  });
  if (changes.length === 0) return { batchItemFailures: [] };

  const appended = await deps.log.append(changes.map((c) => c.change));
  if (appended.error !== undefined) deps.logger?.error('change log append failed', { error: String(appended.error), notAppended: appended.notDone.size });
  deps.metrics?.addMetric(METRIC_NAMES.changesLogged, MetricUnit.Count, appended.appended);
  const firstNotLogged = changes.findIndex((c) => appended.notDone.has(c.change.id));
  const logged = firstNotLogged < 0 ? changes : changes.slice(0, firstNotLogged);

  const notPublished = await deps.bus.publish(logged.map((c) => c.change));
  deps.metrics?.addMetric(METRIC_NAMES.eventsPublished, MetricUnit.Count, logged.length - notPublished.size);
  if (notPublished.size > 0) {
    deps.metrics?.addMetric(METRIC_NAMES.eventsFailed, MetricUnit.Count, notPublished.size);
    deps.logger?.warn('events not published; the batch is retried from the first', { notPublished: notPublished.size });
  }
  const firstNotPublished = logged.findIndex((c) => notPublished.has(c.change.id));
  const failedAt = firstNotPublished >= 0 ? logged[firstNotPublished].index : firstNotLogged >= 0 ? changes[firstNotLogged].index : -1;
  if (failedAt < 0) return { batchItemFailures: [] };
  const seq = records[failedAt].dynamodb?.SequenceNumber;
  // Without a sequence number Lambda cannot resume mid-batch: fail the whole batch (replays are skipped).
  return { batchItemFailures: [{ itemIdentifier: seq ?? records[0].dynamodb?.SequenceNumber ?? '' }] };
}
