/**
 * An EventBridge stand-in (there is no local EventBridge): a `PutEvents` client that holds to the
 * service's documented limits and keeps what it accepted. A request of more than 10 entries, or
 * whose entries together are not smaller than 256 KB, is refused whole with a
 * `ValidationException`, as `PutEvents` refuses it. Sizes are counted as the EventBridge user
 * guide counts them ("Calculating PutEvents event entry size"), written out here rather than taken
 * from the adapter under test.
 */
import type { EventBridgeClient, PutEventsCommand, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';

const LIMIT_BYTES = 256 * 1024;
const LIMIT_ENTRIES = 10;

function sizeOf(e: PutEventsRequestEntry): number {
  const bytes = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));
  let size = e.Time !== undefined ? 14 : 0;
  size += bytes(e.Source) + bytes(e.DetailType) + bytes(e.Detail);
  for (const r of e.Resources ?? []) size += bytes(r);
  return size;
}

export class FakeEventBridge {
  /** Every entry accepted, in the order accepted. */
  public readonly accepted: PutEventsRequestEntry[] = [];
  private next = 1;

  public readonly client = {
    send: async (cmd: PutEventsCommand) => {
      const entries = cmd.input.Entries ?? [];
      const total = entries.reduce((n, e) => n + sizeOf(e), 0);
      if (entries.length > LIMIT_ENTRIES || total >= LIMIT_BYTES) {
        throw Object.assign(new Error('Total size of the entries in the request is over the limit.'), {
          name: 'ValidationException',
          $metadata: { httpStatusCode: 400 },
        });
      }
      this.accepted.push(...entries);
      return { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: `event-${this.next++}` })) };
    },
  } as unknown as EventBridgeClient;
}
