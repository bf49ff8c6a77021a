import { rmSync } from 'node:fs';
import type { DynamoDbLocal } from '../../src/local/dynamodb-local';
import { stateFile } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const ddb = (globalThis as { __vestaDdb?: DynamoDbLocal }).__vestaDdb;
  await ddb?.stop();
  rmSync(stateFile(), { force: true });
}
