/**
 * The local stack's `ChangeSignal`: the publisher runs in the background worker thread and the
 * long polls on the API's, so a notify is handed to this thread's waiters and posted on a
 * `BroadcastChannel` (one per change table), which every other thread's instance hands to its
 * own. A message lost on the way only costs the reader its poll interval.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { ChangeWakeups } from '../core/change-signal';
import type { ChangeSignal, ChangeWaiter } from '../core/ports';

export class BroadcastChangeSignal implements ChangeSignal {
  private readonly local = new ChangeWakeups();
  private readonly channel: BroadcastChannel;

  /** `scope`: what the channel is named after (the change table), so stacks on other tables are not woken. */
  public constructor(scope: string) {
    this.channel = new BroadcastChannel(`vesta-changes:${scope}`);
    this.channel.onmessage = (m) => {
      const data = (m as { data?: unknown }).data;
      if (Array.isArray(data)) this.local.notify(data.filter((ns): ns is string => typeof ns === 'string'));
    };
    // Waiting long polls keep the process alive, not the channel.
    this.channel.unref();
  }

  public notify(namespaces: readonly string[]): void {
    if (namespaces.length === 0) return;
    this.local.notify(namespaces);
    this.channel.postMessage(namespaces);
  }

  public waiter(ns: string): ChangeWaiter {
    return this.local.waiter(ns);
  }

  public close(): void {
    this.channel.close();
  }
}
