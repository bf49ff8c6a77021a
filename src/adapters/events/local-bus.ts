/**
 * The event bus of the local stack: every change event goes to the log (one line each, with the
 * same envelope EventBridge would carry) and to in-process listeners. It takes the place of the
 * EventBridge adapter behind the same `EventBus` port; the publisher does not know which it has.
 *
 * It holds to EventBridge's size limit the way EventBridge counts it (`entry.ts`): a change is
 * shaped into the entry the EventBridge adapter would send (without `fields` and with
 * `fieldsOmitted: true` when the whole detail would not fit), listeners get that detail as sent,
 * and an entry that still is not under 256 KB is refused, as `PutEvents` would refuse it.
 */
import { type ChangeDetail, EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../core/changes';
import { parseJson } from '../../core/json';
import type { EventBus } from '../../core/ports';
import { MAX_ENTRY_BYTES, entryOf, entrySize } from './entry';

export interface LocalBusLog {
  info(message: string, extra: Record<string, unknown>): void;
}

export type ChangeListener = (change: ChangeDetail) => void;

export class LocalEventBus implements EventBus {
  private readonly listeners = new Set<ChangeListener>();

  public constructor(private readonly log?: LocalBusLog) {}

  /** Calls `listener` with every change published from now on (as sent); returns the way to stop. */
  public subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves to the ids of changes whose entry is too big for EventBridge; never throws. */
  public async publish(changes: readonly ChangeDetail[]): Promise<ReadonlySet<string>> {
    const refused = new Set<string>();
    for (const change of changes) {
      const entry = entryOf(change);
      if (entrySize(entry) >= MAX_ENTRY_BYTES) {
        refused.add(change.id);
        continue;
      }
      const detail = parseJson(entry.Detail!, Infinity) as ChangeDetail;
      this.log?.info(EVENT_DETAIL_TYPE, { source: EVENT_SOURCE, 'detail-type': EVENT_DETAIL_TYPE, detail });
      for (const l of this.listeners) {
        try {
          l(detail);
        } catch {
          // A listener's failure is its own; the event was published.
        }
      }
    }
    return refused;
  }
}
