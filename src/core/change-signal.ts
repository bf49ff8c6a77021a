/**
 * Wake-ups for long polls of the change log (the `ChangeSignal` port): the waiters of one process
 * by namespace, and a change log that notifies them after every append that added changes. An
 * adapter carries notifies between threads or processes; without one, long polls only poll.
 */
import type { AppendOutcome, ChangeLog, ChangeSignal, ChangeSubstitute, ChangeWaiter } from './ports';
import type { ChangeDetail } from './changes';

class Waiter implements ChangeWaiter {
  private woken = false;
  private wake?: () => void;

  public constructor(private readonly onClose: (w: Waiter) => void) {}

  public notify(): void {
    this.woken = true;
    this.wake?.();
  }

  public wait(ms: number): Promise<boolean> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(false);
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.woken = false;
        resolve(true);
      };
    });
  }

  public close(): void {
    this.wake?.();
    this.onClose(this);
  }
}

/** The waiters of this process, by namespace. */
export class ChangeWakeups implements ChangeSignal {
  private readonly waiters = new Map<string, Set<Waiter>>();

  public notify(namespaces: readonly string[]): void {
    for (const ns of namespaces) for (const w of this.waiters.get(ns) ?? []) w.notify();
  }

  public waiter(ns: string): ChangeWaiter {
    const w = new Waiter((closed) => {
      const set = this.waiters.get(ns);
      set?.delete(closed);
      if (set?.size === 0) this.waiters.delete(ns);
    });
    let set = this.waiters.get(ns);
    if (!set) {
      set = new Set();
      this.waiters.set(ns, set);
    }
    set.add(w);
    return w;
  }

  /** Waiters now open (tests). */
  public get size(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }
}

/** No signal: a waiter only sleeps (where the reader and the publisher share nothing, as in AWS). */
export const POLLING_ONLY: ChangeSignal = {
  notify() {},
  waiter: () => ({
    wait: (ms) => new Promise((resolve) => setTimeout(() => resolve(false), ms)),
    close() {},
  }),
};

/**
 * `log`, telling `signal` the namespaces it appended changes to, once the append has committed.
 * A notify that fails is dropped (the readers' polls still find the changes).
 */
export function signallingChangeLog(log: ChangeLog, signal: ChangeSignal): ChangeLog {
  return {
    read: (ns, query) => log.read(ns, query),
    async append(changes: readonly ChangeDetail[], substitute?: ChangeSubstitute): Promise<AppendOutcome> {
      const out = await log.append(changes, substitute);
      if (out.appended > 0) {
        const namespaces = new Set<string>();
        for (const c of changes) if (!out.notDone.has(c.id)) namespaces.add(c.namespace);
        try {
          signal.notify([...namespaces]);
        } catch {
          // Only a hint.
        }
      }
      return out;
    },
  };
}
