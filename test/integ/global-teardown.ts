import { rmSync } from 'node:fs';
import type { DynamoDbLocal } from '../../src/local/dynamodb-local';
import { stateFile } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const all = (globalThis as { __vestaDdb?: DynamoDbLocal[] }).__vestaDdb ?? [];
  await Promise.all(all.map((d) => d.stop()));
  rmSync(stateFile(), { force: true });
}
