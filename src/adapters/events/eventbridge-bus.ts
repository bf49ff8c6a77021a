/**
 * The event bus in AWS: `PutEvents` to the Vesta bus, `source: "vesta"`,
 * `detail-type: "vesta.StateChanged"`. Entries go in requests of at most 10 entries and under
 * 256 KB, counted as EventBridge counts them (`entry.ts`); a change whose entry would not be under
 * 256 KB is sent without `fields` and with `fieldsOmitted: true` (a consumer reads the record by
 * key and rev). Entries that fail are sent again up to `MAX_PUT_ATTEMPTS` times; the SDK retries
 * throttled requests.
 */
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { backoffMs, sleep } from '../../core/backoff';
import type { ChangeDetail } from '../../core/changes';
import { MAX_ENTRY_BYTES, entryOf, entrySize } from './entry';
import type { EventBus } from '../../core/ports';
import { type ClientSource, clientOf, eventBridgeSdk } from '../lazy-sdk';

/** EventBridge limits: entries per request, bytes per request (and per entry; requests stay under it). */
export const MAX_ENTRIES_PER_PUT = 10;
export const MAX_PUT_BYTES = MAX_ENTRY_BYTES;
export const MAX_PUT_ATTEMPTS = 4;
/** Backoff before PutEvents is tried again with the entries it did not take. */
export const PUT_BACKOFF = { baseMs: 100 } as const;

/** The detail as sent: without `fields` when it would not fit in one entry. */
export function eventDetail(change: ChangeDetail): string {
  return entryOf(change).Detail!;
}

export class EventBridgeBus implements EventBus {
  private readonly client: () => EventBridgeClient;

  /** @param client the client, or how to make it at the first publish (the EventBridge SDK is loaded then) */
  public constructor(
    client: ClientSource<EventBridgeClient>,
    private readonly busName: string,
  ) {
    this.client = clientOf(client);
  }

  public async publish(changes: readonly ChangeDetail[]): Promise<ReadonlySet<string>> {
    const { PutEventsCommand } = eventBridgeSdk();
    const failed = new Set<string>();
    for (const batch of batches(changes)) {
      let pending = batch;
      for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS && pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(backoffMs(attempt, PUT_BACKOFF));
        try {
          const entries: PutEventsRequestEntry[] = pending.map(
            (c) => ({ ...entryOf(c), EventBusName: this.busName }) as PutEventsRequestEntry,
          );
          const out = await this.client().send(new PutEventsCommand({ Entries: entries }));
          pending = pending.filter(
            (_c, i) => out.Entries?.[i]?.ErrorCode !== undefined || out.Entries?.[i]?.EventId === undefined,
          );
        } catch {
          // The whole request failed after the SDK's own retries: try the batch again.
        }
      }
      for (const c of pending) failed.add(c.id);
    }
    return failed;
  }
}

/** Consecutive groups of at most 10 changes whose entries add up to less than 256 KB. */
function batches(changes: readonly ChangeDetail[]): ChangeDetail[][] {
  const out: ChangeDetail[][] = [];
  let cur: ChangeDetail[] = [];
  let bytes = 0;
  for (const c of changes) {
    const size = entrySize(entryOf(c));
    if (cur.length === MAX_ENTRIES_PER_PUT || (cur.length > 0 && bytes + size >= MAX_PUT_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(c);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
