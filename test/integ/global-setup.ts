/**
 * Starts one DynamoDB Local (in memory) for the whole test run and creates the tables once.
 * Its endpoint reaches the test workers through VESTA_TEST_DDB_ENDPOINT. Each run records its
 * own and DynamoDB Local's pids in a state file, so that a later run stops a DynamoDB Local whose
 * run died without teardown, and leaves alone those of runs still going.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '../env';
import { ensureTables } from '../../src/local/bootstrap-tables';
import { localClient, startDynamoDbLocal } from '../../src/local/dynamodb-local';

const STATE_DIR = join(__dirname, '..', '..', '.cache', 'jest-dynamodb');
export const stateFile = (owner = process.pid) => join(STATE_DIR, `${owner}.json`);
export const TEST_TABLE_PREFIX = 'vesta-test';

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
      const { pid } = JSON.parse(readFileSync(join(STATE_DIR, f), 'utf8')) as { pid: number };
      // The watchdog leads its own process group, java included: kill them together.
      if (alive(pid)) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          process.kill(pid, 'SIGKILL');
        }
      }
    } catch {
      // unreadable or already gone
    }
    rmSync(join(STATE_DIR, f), { force: true });
  }
}

export default async function globalSetup(): Promise<void> {
  reapOrphans();
  const ddb = await startDynamoDbLocal();
  const client = localClient(ddb.endpoint);
  await ensureTables(client, TEST_TABLE_PREFIX);
  client.destroy();
  writeFileSync(stateFile(), JSON.stringify({ pid: ddb.pid, endpoint: ddb.endpoint }));
  process.env.VESTA_TEST_DDB_ENDPOINT = ddb.endpoint;
  (globalThis as { __vestaDdb?: typeof ddb }).__vestaDdb = ddb;
}
