/**
 * Starts one DynamoDB Local (in memory) for the whole test run and creates the tables once.
 * Its endpoint reaches the test workers through VESTA_TEST_DDB_ENDPOINT; the pid is kept in a
 * file so that teardown, or the next run after a crash, stops it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '../env';
import { ensureTables } from '../../src/local/bootstrap-tables';
import { localClient, startDynamoDbLocal } from '../../src/local/dynamodb-local';

export const STATE_FILE = join(__dirname, '..', '..', '.cache', 'jest-dynamodb.json');
export const TEST_TABLE_PREFIX = 'vesta-test';

export default async function globalSetup(): Promise<void> {
  mkdirSync(join(STATE_FILE, '..'), { recursive: true });
  if (existsSync(STATE_FILE)) {
    const { pid } = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as { pid: number };
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const ddb = await startDynamoDbLocal();
  const client = localClient(ddb.endpoint);
  await ensureTables(client, TEST_TABLE_PREFIX);
  client.destroy();
  writeFileSync(STATE_FILE, JSON.stringify({ pid: ddb.pid, endpoint: ddb.endpoint }));
  process.env.VESTA_TEST_DDB_ENDPOINT = ddb.endpoint;
  (globalThis as { __vestaDdb?: typeof ddb }).__vestaDdb = ddb;
}
