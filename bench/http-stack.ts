/**
 * The local stack for the HTTP part of the bench (http.bench.ts, http-cost.ts): `npm start`'s
 * command in a child process on a free port, requests to it on keep-alive connections, and the
 * helpers that wait for its change feed and run clients for a while.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../src/local/dynamodb-local';
import type { CountingProxy } from './ddb-proxy';
import type { Call, Reply } from './gateway';

const ROOT = resolve(__dirname, '..');
/** The change feed is done when no write has passed the proxy for this long. */
const QUIET_MS = 2000;

/** HTTP requests to the stack on keep-alive connections; the body is built untimed. */
export function httpCall(base: string, agent: Agent): Call {
  const url = new URL(base);
  return (method, path, body, extra = {}) => {
    const raw = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    if (raw) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(raw.length) });
    return () =>
      new Promise<Reply>((ok, fail) => {
        const req = request({ host: url.hostname, port: url.port, method, path, headers, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const etag = res.headers.etag;
            ok({
              status: res.statusCode ?? 0,
              etag: typeof etag === 'string' ? etag : undefined,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
          res.on('error', fail);
        });
        req.on('error', fail);
        req.end(raw);
      });
  };
}

export interface Stack {
  readonly url: string;
  readonly startSeconds: number;
  stop(): Promise<void>;
}

/** `npm start`'s command in a child process, its DynamoDB at `dynamoEndpoint`. */
export async function startStack(dynamoEndpoint: string): Promise<Stack> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'vesta-bench-stack-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    VESTA_DATA_DIR: dataDir,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    VESTA_LEASE_JOBS_SECONDS: '0',
    LOG_LEVEL: 'WARN',
  };
  // DynamoDB Local with the local credentials, as `npm start` uses it.
  for (const k of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_ENDPOINT_URL',
  ])
    delete env[k];
  const t0 = performance.now();
  const child: ChildProcess = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), ['bin/local.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = sleep(10_000).then(() => child.kill('SIGKILL'));
      await Promise.race([exited, killed]);
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (const end = Date.now() + 120_000; ; ) {
      const m = /ready at (http:\/\/\S+)\/v1/.exec(out);
      if (m) return { url: m[1], startSeconds: Number(((performance.now() - t0) / 1000).toFixed(1)), stop };
      if (child.exitCode !== null) throw new Error(`the local stack exited: ${out}`);
      if (Date.now() > end) throw new Error(`the local stack was not ready in 120 s: ${out}`);
      await sleep(100);
    }
  } catch (e) {
    await stop();
    throw e;
  }
}

export async function waitQuiet(proxy: CountingProxy): Promise<void> {
  const end = Date.now() + 120_000;
  while (Date.now() - proxy.lastWriteAt < QUIET_MS) {
    if (Date.now() > end) throw new Error('the change feed kept writing for 120 s');
    await sleep(200);
  }
}

/** Runs `loop(client)` for each of `clients` until `seconds` have passed; the last operations finish. */
export async function forSeconds(
  clients: number,
  seconds: number,
  once: (client: number) => Promise<number | undefined>,
): Promise<{ ops: number; seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (performance.now() < end) {
        const ms = await once(c);
        if (ms !== undefined) latencies.push(ms);
      }
    }),
  );
  return { ops: latencies.length, seconds: (performance.now() - t0) / 1000, latencies };
}
