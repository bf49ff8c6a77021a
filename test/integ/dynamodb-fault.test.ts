/**
 * DynamoDB dies under load. The real `npm start` serves eight clients writing counters, pairs of
 * fields and transfers (some with an Idempotency-Key); its DynamoDB Local is killed with SIGKILL.
 * While it is down every request is answered, in bounded time, either as it would be or `503
 * Unavailable` with `Retry-After` (never a 500, never a hang); the stack starts DynamoDB Local
 * again on the same data by itself, service resumes, nothing is half-written (the two fields of
 * every record agree, transfers keep the total) and no acknowledged increment is lost.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { commandOf, descendants, npmStart, ready, sleep } from './npm-start';

jest.setTimeout(180000);

const WORKERS = 8;
const BOUND_MS = 10000;
/** API Gateway gives up at 29 s; a hung store must be answered before that. */
const HUNG_BOUND_MS = 25000;

interface Outcome {
  readonly status: number | 'error';
  readonly ms: number;
  readonly at: number;
  readonly retryAfter?: string | null;
  readonly type?: string;
  readonly error?: string;
}

test('SIGKILL of DynamoDB Local under load: 503 in bounded time, restarted, nothing lost or half-written', async () => {
  const s = await npmStart({ env: { VESTA_LEASE_JOBS_SECONDS: '1' } });
  try {
    await ready(s);
    const base = `http://127.0.0.1:${s.port}/v1/ns/fault`;
    const call = async (
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ): Promise<Outcome & { json?: any }> => {
      const t0 = Date.now();
      try {
        const r = await fetch(`${base}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(30000),
        });
        const text = await r.text();
        const json = text ? JSON.parse(text) : undefined;
        return {
          status: r.status,
          ms: Date.now() - t0,
          at: t0,
          retryAfter: r.headers.get('retry-after'),
          type: json?.code,
          json,
        };
      } catch (e) {
        return { status: 'error', ms: Date.now() - t0, at: t0, error: String(e) };
      }
    };
    const TOTAL = 1000;
    expect((await call('PUT', '/keys/acct/a', { fields: { balance: TOTAL } })).status).toBe(201);
    expect((await call('PUT', '/keys/acct/b', { fields: { balance: 0 } })).status).toBe(201);
    // Each worker's record exists before the kill, so that it must be readable after it even when
    // none of that worker's own writes was acknowledged (on a slow machine, it may get none in).
    for (let w = 0; w < WORKERS; w++) {
      expect((await call('PUT', `/keys/w/${w}`, { fields: { n: 0, x: '', y: '' } })).status).toBe(201);
    }

    const outcomes: Outcome[] = [];
    const acked = new Array<number>(WORKERS).fill(0);
    const unsure = new Array<number>(WORKERS).fill(0);
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const token = randomUUID();
        let o: Outcome;
        if (i % 3 === 0) {
          // Counter and a pair of fields in one PATCH: all of it or none of it.
          o = await call('PATCH', `/keys/w/${w}`, { increment: { n: 1 }, set: { x: token, y: token } });
          if (o.status === 200 || o.status === 201) acked[w]++;
          else unsure[w]++;
        } else if (i % 3 === 1) {
          const ops = [
            { op: 'patch', key: 'acct/a', increment: { balance: -1 } },
            { op: 'patch', key: 'acct/b', increment: { balance: 1 } },
          ];
          o = await call('POST', '/txn', { ops }, i % 2 ? { 'idempotency-key': token } : {});
        } else {
          o = await call('GET', `/keys/w/${w}`);
        }
        outcomes.push(o);
        if (o.status === 503) await sleep(Number(o.retryAfter ?? 1) * 100); // a polite client, sped up
      }
    };
    const load = Array.from({ length: WORKERS }, (_, w) => worker(w));
    await sleep(2000);

    const java = descendants(s.npm.pid!).filter(
      (p) => /^\S*java /.test(commandOf(p)) && commandOf(p).includes('VestaDynamoDbLocal'),
    );
    expect(java).toHaveLength(1);
    const killedAt = Date.now();
    process.kill(java[0], 'SIGKILL');

    // Load goes on until service has come back and held for 3 s.
    let backAt: number | undefined;
    while (Date.now() - killedAt < 90000) {
      await sleep(250);
      const recent = outcomes.filter((o) => o.at > killedAt && o.status !== 503);
      const okSince = recent.filter((o) => o.status === 200 || o.status === 201).map((o) => o.at);
      const lastBad = Math.max(
        killedAt,
        ...outcomes.filter((o) => o.at > killedAt && o.status === 503).map((o) => o.at),
      );
      if (outcomes.some((o) => o.at > killedAt && o.status === 503) && okSince.some((t) => t > lastBad)) {
        backAt ??= Math.min(...okSince.filter((t) => t > lastBad));
        if (Date.now() - backAt > 3000) break;
      }
    }
    stop = true;
    await Promise.all(load);

    const after = outcomes.filter((o) => o.at >= killedAt);
    const unavailable = after.filter((o) => o.status === 503);
    const bad = outcomes.filter((o) => o.status === 'error' || (o.status >= 500 && o.status !== 503));
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    console.log(
      `fault: ${outcomes.length} requests, ${after.length} after the kill; ${unavailable.length} answered 503; ` +
        `other 5xx or no answer: ${bad.length}; slowest answer ${slowest} ms; back ${backAt ? backAt - killedAt : '-'} ms after the kill`,
    );
    expect(bad.map((o) => o.error ?? o.status)).toEqual([]);
    expect(unavailable.length).toBeGreaterThan(0);
    expect(unavailable.filter((o) => !(Number(o.retryAfter) >= 1) || o.type !== 'Unavailable')).toEqual([]);
    expect(slowest).toBeLessThan(BOUND_MS);
    expect(backAt).toBeDefined();
    expect(s.output()).toContain('DynamoDB Local exited');
    expect(s.npm.exitCode).toBeNull();

    // Nothing half-written, no acknowledged increment lost (a 503 may or may not have committed).
    for (let w = 0; w < WORKERS; w++) {
      const r = await call('GET', `/keys/w/${w}`);
      expect(r.status).toBe(200);
      const f = r.json.fields;
      expect(f.x).toBe(f.y);
      expect(f.n).toBeGreaterThanOrEqual(acked[w]);
      expect(f.n).toBeLessThanOrEqual(acked[w] + unsure[w]);
    }
    const a = await call('GET', '/keys/acct/a');
    const b = await call('GET', '/keys/acct/b');
    expect(a.json.fields.balance + b.json.fields.balance).toBe(TOTAL);

    // The change feed reads the stream again: a write made now reaches the namespace's changes.
    const probe = await call('PUT', '/keys/probe', { fields: { at: Date.now() } });
    expect(probe.status).toBe(201);
    let seen = false;
    for (const t0 = Date.now(); !seen && Date.now() - t0 < 30000; ) {
      const c = await call('GET', '/changes?prefix=probe&wait=2');
      seen = c.status === 200 && c.json.items.some((i: { key: string }) => i.key === 'probe');
    }
    expect(seen).toBe(true);

    // A DynamoDB that hangs (stopped, not dead: connections open, nothing answers) is answered
    // 503 too, within the SDK timeouts (3 attempts of at most 5 s idle), not held forever.
    const [again] = descendants(s.npm.pid!).filter(
      (p) => /^\S*java /.test(commandOf(p)) && commandOf(p).includes('VestaDynamoDbLocal'),
    );
    process.kill(again, 'SIGSTOP');
    let hung: Outcome[];
    try {
      // A stop reaches each of the JVM's threads in its own time: ask only once all have stopped.
      for (const t0 = Date.now(); !allStopped(again) && Date.now() - t0 < 5000; ) await sleep(10);
      expect(allStopped(again)).toBe(true);
      hung = await Promise.all([
        call('GET', '/keys/w/0'),
        call('PATCH', '/keys/w/0', { increment: { n: 1 } }),
        call('GET', '/keys/acct/a'),
      ]);
    } finally {
      process.kill(again, 'SIGCONT');
    }
    console.log(`hung store: answered ${hung.map((o) => `${o.status} in ${o.ms} ms`).join(', ')}`);
    for (const o of hung) {
      expect(o.status).toBe(503);
      expect(o.ms).toBeLessThan(HUNG_BOUND_MS);
    }
    expect((await call('GET', '/keys/acct/a')).status).toBe(200);
  } finally {
    s.npm.kill('SIGTERM');
    await s.exited;
  }
});

/** Whether every thread of `pid` is stopped (state T in /proc/<pid>/task/<tid>/stat). */
function allStopped(pid: number): boolean {
  const tasks = readdirSync(`/proc/${pid}/task`);
  return tasks.every((t) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      return /^[Tt]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]);
    } catch {
      return true; // a thread that ended is not answering either
    }
  });
}
