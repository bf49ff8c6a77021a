/**
 * The change publisher: one batch of records-table stream records in, change-log entries and bus
 * events out. The same function runs in the publisher Lambda (DynamoDB stream event source) and
 * in the local stack's stream poller.
 *
 * One change never holds back the others: a stream record whose item cannot be decoded, or a
 * change the change log refuses for itself, is set aside as a dead letter (source `publisher`,
 * with the stream image, which is what a replay needs) and a placeholder takes its place in the
 * log and on the bus: the same id, key and rev, no fields, `deadLetter` naming the entry. So the
 * namespace's numbering and each key's order hold, and its later changes flow at once.
 *
 * Before that, the pre-images that running snapshots need are kept (`src/core/snapshot-cut.ts`).
 *
 * The log keeps each change whole (with `expires`), and readers of the log leave out what is due
 * when they read; an event goes on the bus as of its publishing (`changeAt` with the service
 * clock): a field already due by then is not in it, as no read would show it.
 *
 * Dependency failures (the change log's store, the bus) are not the changes' fault: the answer
 * names the first stream record not fully handled (`batchItemFailures`, Lambda's partial batch
 * response), the batch is retried from there, the change log skips what it already has, and the
 * bus gets those events again with the same id. Nothing committed is dropped; what keeps failing
 * ends in the dead-letter queue after the event source's retries.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  type ChangeDetail,
  type PlaceholderSource,
  changeAt,
  placeholderChange,
  placeholderOf,
  replayedChange,
} from '../core/changes';
import { type DeadLetter, type DeadLetterItem, type SetAside, errorOf } from '../core/dead-letters';
import { METRIC_NAMES, type MetricEmitter } from '../core/metric-names';
import {
  type AppendOutcome,
  type ChangeDecoder,
  type ChangeLog,
  type Clock,
  type EventBus,
  type PreImageKeeper,
  systemClock,
} from '../core/ports';

/** What the publisher works with; `R` is a stream record as delivered (a DynamoDB stream record). */
export interface PublisherDeps<R = unknown> {
  /** Reads the change a stream record stands for. */
  readonly decoder: ChangeDecoder<R>;
  readonly log: ChangeLog;
  readonly bus: EventBus;
  /** Where changes that cannot be processed are set aside (`deadLetterSink`). */
  readonly setAside: SetAside;
  /** Keeps what running snapshots' cuts need from the batch, before anything else is done with it. */
  readonly preImages?: PreImageKeeper<R>;
  readonly metrics?: MetricEmitter;
  readonly logger?: Pick<Logger, 'error' | 'warn'>;
  /** The service clock: what is due when an event is published. @default systemClock */
  readonly clock?: Clock;
  /**
   * In a deployment of several Regions: the `conflict` changes a replicated record brings about
   * (the losers of its record as joined now, read from the store). Throws when the store cannot be
   * read; the batch is then retried from that record.
   */
  readonly conflicts?: (record: R) => Promise<ChangeDetail[]>;
}

/** Lambda's partial batch response for stream sources. */
export interface BatchResult {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

/** What identifies a stream record's change in its dead-letter entry. */
function itemOf<R>(r: R, p: PlaceholderSource, decoder: ChangeDecoder<R>): DeadLetterItem {
  return { namespace: p.namespace, key: p.key, rev: p.rev, sequenceNumber: decoder.position(r) ?? null };
}

/** The changes of a batch in stream order; one that cannot be decoded is set aside and replaced. */
async function decodeAll<R>(
  records: readonly R[],
  deps: PublisherDeps<R>,
): Promise<{ changes: { index: number; change: ChangeDetail }[]; stoppedAt: number }> {
  const changes: { index: number; change: ChangeDetail }[] = [];
  for (const [index, r] of records.entries()) {
    let change: ChangeDetail | undefined;
    let more: ChangeDetail[] = [];
    try {
      change = deps.decoder.change(r);
      more = deps.decoder.more?.(r) ?? [];
    } catch (e) {
      // Decoding is deterministic: trying again gives the same error, so it is tried once.
      const p = deps.decoder.placeholder(r);
      try {
        const entry = await deps.setAside({
          source: 'publisher',
          item: itemOf(r, p, deps.decoder),
          error: errorOf(e),
          attempts: 1,
          payload: deps.decoder.payload(r),
        });
        change = placeholderChange(p, entry.id);
      } catch (e2) {
        deps.logger?.error('a change could not be set aside; the batch is retried from it', {
          error: String(e2),
          cause: String(e),
        });
        return { changes, stoppedAt: index };
      }
    }
    if (deps.conflicts) {
      try {
        more = [...more, ...(await deps.conflicts(r))];
      } catch (e) {
        deps.logger?.error('the losers of a replicated record could not be read; the batch is retried from it', {
          error: String(e),
        });
        return { changes, stoppedAt: index };
      }
    }
    if (change) changes.push({ index, change });
    // Two writes of a batch may name the same loser (its id from the loser alone): once is enough.
    for (const c of more) if (!changes.some((x) => x.change.id === c.id)) changes.push({ index, change: c });
  }
  return { changes, stoppedAt: -1 };
}

/** Handles one batch in stream order. Never throws: failures are in the result. */
export async function publishBatch<R>(records: readonly R[], deps: PublisherDeps<R>): Promise<BatchResult> {
  if (deps.preImages && records.length > 0) {
    try {
      await deps.preImages.keep(records);
    } catch (e) {
      // A snapshot would miss these pre-images: nothing of the batch is handled, it is retried whole.
      deps.logger?.error('snapshot pre-images not kept; the batch is retried', { error: String(e) });
      return { batchItemFailures: [{ itemIdentifier: deps.decoder.position(records[0]) ?? '' }] };
    }
  }
  const { changes, stoppedAt } = await decodeAll(records, deps);
  const byId = new Map(changes.map((c) => [c.change.id, c]));
  // A change the log refuses for itself: set aside, its placeholder appended (and published) instead.
  const substitute = async (change: ChangeDetail, error: unknown): Promise<ChangeDetail> => {
    const at = byId.get(change.id)!;
    const r = records[at.index];
    const item = {
      namespace: change.namespace,
      key: change.key,
      rev: change.rev,
      sequenceNumber: deps.decoder.position(r) ?? null,
    };
    const entry = await deps.setAside({
      source: 'publisher',
      item,
      error: errorOf(error),
      attempts: 1,
      payload: deps.decoder.payload(r),
    });
    at.change = placeholderOf(change, entry.id);
    return at.change;
  };

  const appended: AppendOutcome =
    changes.length > 0
      ? await deps.log.append(
          changes.map((c) => c.change),
          substitute,
        )
      : { appended: 0, duplicates: 0, notDone: new Set<string>() };
  if (appended.error !== undefined)
    deps.logger?.error('change log append failed', {
      error: String(appended.error),
      notAppended: appended.notDone.size,
    });
  deps.metrics?.addMetric(METRIC_NAMES.changesLogged, MetricUnit.Count, appended.appended);
  const firstNotLogged = changes.findIndex((c) => appended.notDone.has(c.change.id));
  const logged = firstNotLogged < 0 ? changes : changes.slice(0, firstNotLogged);

  const nowMs = (deps.clock ?? systemClock).now().getTime();
  const notPublished =
    logged.length > 0 ? await deps.bus.publish(logged.map((c) => changeAt(c.change, nowMs))) : new Set<string>();
  deps.metrics?.addMetric(METRIC_NAMES.eventsPublished, MetricUnit.Count, logged.length - notPublished.size);
  if (notPublished.size > 0) {
    deps.metrics?.addMetric(METRIC_NAMES.eventsFailed, MetricUnit.Count, notPublished.size);
    deps.logger?.warn('events not published; the batch is retried from the first', { notPublished: notPublished.size });
  }
  const firstNotPublished = logged.findIndex((c) => notPublished.has(c.change.id));
  const failedAt =
    firstNotPublished >= 0
      ? logged[firstNotPublished].index
      : firstNotLogged >= 0
        ? changes[firstNotLogged].index
        : stoppedAt;
  if (failedAt < 0) return { batchItemFailures: [] };
  const seq = deps.decoder.position(records[failedAt]);
  // Without a sequence number Lambda cannot resume mid-batch: fail the whole batch (replays are skipped).
  return { batchItemFailures: [{ itemIdentifier: seq ?? deps.decoder.position(records[0]) ?? '' }] };
}

/**
 * Replays a publisher dead letter: decodes the kept stream image again and, when it now decodes,
 * appends the change to the log and puts it on the bus as `replayedChange` (an id of its own,
 * `replayOf` the placeholder), followed by the `conflict` changes the write named (several
 * Regions), with their own ids: one the log already holds is not appended again. Throws the
 * decoding error when it still fails, and an error when the log or the bus does not take the
 * changes (the entry is then kept; a replay again appends only what is missing).
 */
export async function replayPublisherEntry(
  entry: DeadLetter,
  deps: Pick<PublisherDeps, 'decoder' | 'log' | 'bus' | 'clock'>,
): Promise<void> {
  if (entry.payloadOmitted)
    throw new Error(
      'the stream image was too big to keep with the entry; this change cannot be replayed, only discarded',
    );
  const change = deps.decoder.fromPayload(entry.payload);
  if (!change) throw new Error('the kept stream image is not a committed change; discard the entry');
  const changes = [replayedChange(change), ...(deps.decoder.moreFromPayload?.(entry.payload) ?? [])];
  const out = await deps.log.append(changes);
  if (out.notDone.size > 0) throw out.error ?? new Error('the change log did not take the change');
  const nowMs = (deps.clock ?? systemClock).now().getTime();
  const failed = await deps.bus.publish(changes.map((c) => changeAt(c, nowMs)));
  if (failed.size > 0) throw new Error('the event bus did not take the change after retries');
}
