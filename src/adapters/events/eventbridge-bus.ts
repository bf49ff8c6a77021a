/**
 * The event bus in AWS: `PutEvents` to the Vesta bus, `source: "vesta"`,
 * `detail-type: "vesta.StateChanged"`. Entries go in requests of at most 10 entries and 256 KB;
 * a change whose detail alone would pass EventBridge's 256 KB event limit is sent without
 * `fields` and with `fieldsOmitted: true` (a consumer reads the record by key and rev). Entries
 * that fail are sent again up to `MAX_PUT_ATTEMPTS` times; the SDK retries throttled requests.
 */
import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { type ChangeDetail, EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../core/changes';
import { stringifyJson } from '../../core/json';
import type { EventBus } from '../../core/ports';

/** EventBridge limits: entries per request, bytes per request (and per event). */
export const MAX_ENTRIES_PER_PUT = 10;
export const MAX_PUT_BYTES = 256 * 1024;
export const MAX_PUT_ATTEMPTS = 4;
/** Room left for the envelope (source, detail-type, bus name, time) of one entry. */
const ENVELOPE_BYTES = 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The detail as sent: without `fields` when it would not fit in one event. */
export function eventDetail(change: ChangeDetail): string {
  const full = stringifyJson(change);
  if (Buffer.byteLength(full) + ENVELOPE_BYTES <= MAX_PUT_BYTES) return full;
  const { fields: _fields, siblings: _siblings, ...rest } = change;
  return stringifyJson({ ...rest, fieldsOmitted: true });
}

export class EventBridgeBus implements EventBus {
  public constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  public async publish(changes: readonly ChangeDetail[]): Promise<ReadonlySet<string>> {
    const failed = new Set<string>();
    for (const batch of batches(changes)) {
      let pending = batch;
      for (let attempt = 0; attempt < MAX_PUT_ATTEMPTS && pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.random() * 100 * 2 ** attempt);
        try {
          const entries: PutEventsRequestEntry[] = pending.map((c) => ({
            EventBusName: this.busName,
            Source: EVENT_SOURCE,
            DetailType: EVENT_DETAIL_TYPE,
            Detail: eventDetail(c),
          }));
          const out = await this.client.send(new PutEventsCommand({ Entries: entries }));
          pending = pending.filter((_c, i) => out.Entries?.[i]?.ErrorCode !== undefined || out.Entries?.[i]?.EventId === undefined);
        } catch {
          // The whole request failed after the SDK's own retries: try the batch again.
        }
      }
      for (const c of pending) failed.add(c.id);
    }
    return failed;
  }
}

/** Consecutive groups of at most 10 changes and 256 KB. */
function batches(changes: readonly ChangeDetail[]): ChangeDetail[][] {
  const out: ChangeDetail[][] = [];
  let cur: ChangeDetail[] = [];
  let bytes = 0;
  for (const c of changes) {
    const size = Buffer.byteLength(eventDetail(c)) + ENVELOPE_BYTES;
    if (cur.length === MAX_ENTRIES_PER_PUT || (cur.length > 0 && bytes + size > MAX_PUT_BYTES)) {
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
