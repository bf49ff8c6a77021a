/**
 * The event bus of the local stack: every change event goes to the log (one line each, with the
 * same envelope EventBridge would carry) and to in-process listeners. It takes the place of the
 * EventBridge adapter behind the same `EventBus` port; the publisher does not know which it has.
 */
import { type ChangeDetail, EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../core/changes';
import type { EventBus } from '../../core/ports';

export interface LocalBusLog {
  info(message: string, extra: Record<string, unknown>): void;
}

export type ChangeListener = (change: ChangeDetail) => void;

export class LocalEventBus implements EventBus {
  private readonly listeners = new Set<ChangeListener>();

  public constructor(private readonly log?: LocalBusLog) {}

  /** Calls `listener` with every change published from now on; returns the way to stop. */
  public subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  public async publish(changes: readonly ChangeDetail[]): Promise<ReadonlySet<string>> {
    for (const detail of changes) {
      this.log?.info(EVENT_DETAIL_TYPE, { source: EVENT_SOURCE, 'detail-type': EVENT_DETAIL_TYPE, detail });
      for (const l of this.listeners) l(detail);
    }
    return new Set();
  }
}
