/**
 * Every blob store against the contract of `BlobStore`: the file-system store in a fresh
 * directory, and the S3 store with the real `S3Client` against the in-process S3 of `fake-s3.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { FsBlobStore } from '../../src/adapters/blob/fs-blob-store';
import { S3BlobStore } from '../../src/adapters/blob/s3-blob-store';
import { blobStoreContract } from './contract/blob-store.contract';
import { BUCKET, FakeS3, fakeS3Client } from './fake-s3';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

blobStoreContract('file system', () => {
  const root = mkdtempSync(join(tmpdir(), 'vesta-blob-contract-'));
  roots.push(root);
  return { store: new FsBlobStore(root) };
});

const s3 = new FakeS3();
let client: S3Client;
beforeAll(async () => {
  client = fakeS3Client(await s3.start());
});
afterAll(async () => {
  client.destroy();
  await s3.stop();
});

blobStoreContract('S3', () => ({ store: new S3BlobStore(client, BUCKET) }));
