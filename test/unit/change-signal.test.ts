/**
 * The change signal: a long poll of the changes endpoint reads again at once when the namespace's
 * log grew, and never depends on the signal for what it returns.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { CHANGES_POLL_MS, changesHandlers } from '../../src/api/changes-handlers';
import { ApiRequest, type HttpResult } from '../../src/api/http';
import { ChangeWakeups, POLLING_ONLY, signallingChangeLog } from '../../src/core/change-signal';
import type { ChangeDetail } from '../../src/core/changes';
import type { AppendOutcome, ChangeLog, ChangePage, ChangeQuery, ChangeSignal } from '../../src/core/ports';
import { BroadcastChangeSignal } from '../../src/local/change-signal';

const change = (namespace: string, n: number): ChangeDetail =>
  ({
    id: `${namespace}-${n}`,
    namespace,
    key: `k/${n % 3}`,
    rev: n,
    vv: {},
    change: 'put',
    fields: {},
  }) as ChangeDetail;

/** A change log in memory that counts its reads; `onRead` runs after a read took what it returns. */
class MemoryLog implements ChangeLog {
  public readonly byNs = new Map<string, ChangeDetail[]>();
  public reads = 0;
  public onRead?: () => void;

  public async append(changes: readonly ChangeDetail[]): Promise<AppendOutcome> {
    let appended = 0;
    let duplicates = 0;
    for (const c of changes) {
      const list = this.byNs.get(c.namespace) ?? [];
      if (list.some((x) => x.id === c.id)) duplicates++;
      else {
        list.push(c);
        appended++;
      }
      this.byNs.set(c.namespace, list);
    }
    return { appended, duplicates, notDone: new Set() };
  }

  public async read(ns: string, q: ChangeQuery): Promise<ChangePage> {
    this.reads++;
    const list = this.byNs.get(ns) ?? [];
    const after = q.after ?? 0;
    const items = list.slice(after, after + q.limit);
    const page = { items, seq: after + items.length };
    this.onRead?.();
    return page;
  }
}

const request = (ns: string, query: Record<string, string>) =>
  new ApiRequest({
    httpMethod: 'GET',
    pathParameters: { ns },
    queryStringParameters: query,
    headers: {},
  } as unknown as APIGatewayProxyEvent);

type Page = { items: ChangeDetail[]; cursor: string };
const bodyOf = (r: HttpResult) => JSON.parse(r.body!) as Page;

/** Settles pending promise callbacks without moving (fake) time. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('a long poll with the signal', () => {
  afterEach(() => jest.useRealTimers());

  test('wakes at the notify of its namespace, before any poll interval passed: two reads', async () => {
    jest.useFakeTimers();
    const log = new MemoryLog();
    const signal = new ChangeWakeups();
    const writer = signallingChangeLog(log, signal);
    const { listChanges } = changesHandlers({ changes: log, changeSignal: signal });
    let answer: HttpResult | undefined;
    void listChanges(request('ns1', { wait: '20' })).then((r) => {
      answer = r;
    });
    await settle();
    expect(log.reads).toBe(1);
    // Another namespace's append does not wake it.
    await writer.append([change('ns2', 1)]);
    await settle();
    expect(answer).toBeUndefined();
    expect(log.reads).toBe(1);
    await writer.append([change('ns1', 1)]);
    await settle();
    // No timer moved: only the signal can have woken it.
    expect(answer && bodyOf(answer).items.map((c) => c.id)).toEqual(['ns1-1']);
    expect(log.reads).toBe(2);
    expect(signal.size).toBe(0);
  });

  test('a notify between the read and the wait is not missed', async () => {
    jest.useFakeTimers();
    const log = new MemoryLog();
    const signal = new ChangeWakeups();
    const writer = signallingChangeLog(log, signal);
    // The first read answers empty, and the change is appended (and notified) right after it.
    log.onRead = () => {
      log.onRead = undefined;
      void writer.append([change('ns1', 1)]);
    };
    const { listChanges } = changesHandlers({ changes: log, changeSignal: signal });
    let answer: HttpResult | undefined;
    void listChanges(request('ns1', { wait: '20' })).then((r) => {
      answer = r;
    });
    await settle();
    expect(answer && bodyOf(answer).items.map((c) => c.id)).toEqual(['ns1-1']);
  });

  test('a lost notify still delivers the change at the next poll', async () => {
    jest.useFakeTimers();
    const log = new MemoryLog();
    const lost: ChangeSignal = { notify() {}, waiter: (ns) => new ChangeWakeups().waiter(ns) };
    const writer = signallingChangeLog(log, lost);
    const { listChanges } = changesHandlers({ changes: log, changeSignal: lost });
    let answer: HttpResult | undefined;
    void listChanges(request('ns1', { wait: '20' })).then((r) => {
      answer = r;
    });
    await settle();
    await writer.append([change('ns1', 1)]);
    await settle();
    expect(answer).toBeUndefined();
    await jest.advanceTimersByTimeAsync(CHANGES_POLL_MS);
    expect(answer && bodyOf(answer).items.map((c) => c.id)).toEqual(['ns1-1']);
    expect(log.reads).toBe(2);
  });

  test('without a signal it polls as before; wait=0 reads once', async () => {
    jest.useFakeTimers();
    const log = new MemoryLog();
    const { listChanges } = changesHandlers({ changes: log });
    let answer: HttpResult | undefined;
    void listChanges(request('ns1', { wait: '1' })).then((r) => {
      answer = r;
    });
    await settle();
    await log.append([change('ns1', 1)]);
    await jest.advanceTimersByTimeAsync(CHANGES_POLL_MS);
    expect(answer && bodyOf(answer).items).toHaveLength(1);
    log.reads = 0;
    const empty = bodyOf(await listChanges(request('ns1', { after: bodyOf(answer!).cursor, wait: '0' })));
    expect(empty.items).toEqual([]);
    expect(log.reads).toBe(1);
    jest.useRealTimers();
    expect(await POLLING_ONLY.waiter('x').wait(0)).toBe(false);
  });
});

test('generated interleavings of appends (signalled or not) and long polls: every change once, in order', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ count: fc.integer({ min: 0, max: 4 }), signalled: fc.boolean(), pauseMs: fc.nat(15) }), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.integer({ min: 1, max: 3 }),
      async (steps, limit) => {
        const log = new MemoryLog();
        const signal = new ChangeWakeups();
        // Each append is notified or not (a lost hint), as generated.
        let deliver = true;
        const writer = signallingChangeLog(log, {
          notify: (ns) => deliver && signal.notify(ns),
          waiter: (ns) => signal.waiter(ns),
        });
        const { listChanges } = changesHandlers({ changes: log, changeSignal: signal });
        const total = steps.reduce((n, s) => n + s.count, 0);
        const seen: string[] = [];
        let cursor: string | undefined;
        const watcher = (async () => {
          for (let polls = 0; seen.length < total && polls < 200; polls++) {
            const page = bodyOf(
              await listChanges(
                request('ns1', { wait: '0.3', limit: String(limit), ...(cursor ? { after: cursor } : {}) }),
              ),
            );
            seen.push(...page.items.map((c) => c.id));
            cursor = page.cursor;
          }
        })();
        let n = 0;
        for (const s of steps) {
          await new Promise((r) => setTimeout(r, s.pauseMs));
          deliver = s.signalled;
          await writer.append(Array.from({ length: s.count }, () => change('ns1', ++n)));
        }
        await watcher;
        expect(seen).toEqual(Array.from({ length: total }, (_x, i) => `ns1-${i + 1}`));
        expect(signal.size).toBe(0);
      },
    ),
    { numRuns: 25 },
  );
}, 60_000);

test('the broadcast signal carries a notify to the waiters of another instance of the same scope only', async () => {
  const a = new BroadcastChangeSignal('table-a');
  const b = new BroadcastChangeSignal('table-a');
  const other = new BroadcastChangeSignal('table-b');
  try {
    const waiter = b.waiter('ns1');
    const elsewhere = other.waiter('ns1');
    const mine = a.waiter('ns1');
    a.notify(['ns1']);
    expect(await mine.wait(5000)).toBe(true);
    expect(await waiter.wait(5000)).toBe(true);
    expect(await elsewhere.wait(50)).toBe(false);
    for (const w of [waiter, elsewhere, mine]) w.close();
  } finally {
    a.close();
    b.close();
    other.close();
  }
});
