/**
 * Starts DynamoDB Local (in memory) for the whole test run, one per jest worker (at most
 * `MAX_LOCALS`), and creates the tables in each once. DynamoDB Local answers one request at a
 * time per database, so two workers on one would wait on each other; each worker uses its own
 * (`endpoint()` in harness.ts picks it by `JEST_WORKER_ID`). The endpoints reach the workers
 * through VESTA_TEST_DDB_ENDPOINTS. Each run records its own and DynamoDB Local's pids in a
 * state file, so that a later run stops a DynamoDB Local whose run died without teardown, and
 * leaves alone those of runs still going.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '../env';
import { ensureTables } from '../../src/local/bootstrap-tables';
import { localClient, startDynamoDbLocal } from '../../src/local/dynamodb-local';

const STATE_DIR = join(__dirname, '..', '..', '.cache', 'jest-dynamodb');
export const stateFile = (owner = process.pid) => join(STATE_DIR, `${owner}.json`);
export const TEST_TABLE_PREFIX = 'vesta-test';
/** DynamoDB Locals a run starts at most, whatever its workers. */
export const MAX_LOCALS = 4;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function reapOrphans(): void {
  mkdirSync(STATE_DIR, { recursive: true });
  for (const f of readdirSync(STATE_DIR)) {
    const owner = Number(f.replace(/\.json$/, ''));
    if (alive(owner)) continue;
    try {
      const state = JSON.parse(readFileSync(join(STATE_DIR, f), 'utf8')) as { pid?: number; pids?: number[] };
      for (const pid of state.pids ?? (state.pid !== undefined ? [state.pid] : [])) {
        // The watchdog leads its own process group, java included: kill them together.
        if (alive(pid)) {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            process.kill(pid, 'SIGKILL');
          }
        }
      }
    } catch {
      // unreadable or already gone
    }
    rmSync(join(STATE_DIR, f), { force: true });
  }
}

export default async function globalSetup(globalConfig?: { readonly maxWorkers?: number }): Promise<void> {
  reapOrphans();
  const count = Math.min(MAX_LOCALS, Math.max(1, globalConfig?.maxWorkers ?? 1));
  const started = await Promise.allSettled(Array.from({ length: count }, () => startDynamoDbLocal()));
  const all = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(all.map((d) => d.stop()));
    throw failed.reason;
  }
  for (const ddb of all) {
    const client = localClient(ddb.endpoint);
    await ensureTables(client, TEST_TABLE_PREFIX);
    client.destroy();
  }
  writeFileSync(stateFile(), JSON.stringify({ pids: all.map((d) => d.pid), endpoints: all.map((d) => d.endpoint) }));
  process.env.VESTA_TEST_DDB_ENDPOINTS = all.map((d) => d.endpoint).join(',');
  (globalThis as { __vestaDdb?: typeof all }).__vestaDdb = all;
}
