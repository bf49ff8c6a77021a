/**
 * The S3 blob store with the real `S3Client` and `lib-storage` `Upload`, against the in-process S3
 * of `fake-s3.ts`: multipart uploads, bounded memory, and S3's errors as domain errors. The client
 * keeps its default checksum settings. What every blob store does is in `contract/blob-store.contract.ts`.
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { NotFoundError, ThrottledError, UnavailableError } from '../../src/core/errors';
import { PART_SIZE, QUEUE_SIZE, S3BlobStore } from '../../src/adapters/blob/s3-blob-store';
import { BUCKET, FakeS3, fakeS3Client } from './fake-s3';

const MiB = 1024 * 1024;

const s3 = new FakeS3();
let store: S3BlobStore;
let client: S3Client;

beforeAll(async () => {
  const endpoint = await s3.start();
  client = fakeS3Client(endpoint);
  store = new S3BlobStore(client, BUCKET);
});
afterAll(async () => {
  client.destroy();
  await s3.stop();
});
beforeEach(() => {
  s3.calls.length = 0;
  s3.partSizes.length = 0;
});

/** `total` deterministic bytes in 64 KiB chunks, generated as they are read; counts what it yielded. */
function generated(
  total: number,
  tap: { yielded: number } = { yielded: 0 },
  failAt?: number,
): AsyncIterable<Uint8Array> {
  return (async function* () {
    let x = 12345;
    for (let off = 0; off < total; off += 64 * 1024) {
      if (failAt !== undefined && off >= failAt) throw new Error('the source failed');
      const chunk = Buffer.alloc(Math.min(64 * 1024, total - off));
      for (let i = 0; i < chunk.length; i++) {
        x = (x * 1103515245 + 12345) & 0x7fffffff;
        chunk[i] = x >> 16;
      }
      tap.yielded += chunk.length;
      yield chunk;
    }
  })();
}

async function digestOf(source: AsyncIterable<Uint8Array>): Promise<{ bytes: number; sha256: string }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const c of source) {
    h.update(c);
    bytes += c.length;
  }
  return { bytes, sha256: h.digest('hex') };
}

test('a 21 MiB stream is a multipart upload of 8, 8 and 5 MiB; bytes and sha256 are right, and it reads back the same', async () => {
  const written = await store.write('snapshots/big/part-00000.jsonl.gz', generated(21 * MiB));
  expect(written).toEqual(await digestOf(generated(21 * MiB)));
  expect(s3.calls).toEqual([
    'CreateMultipartUpload',
    'UploadPart',
    'UploadPart',
    'UploadPart',
    'CompleteMultipartUpload',
  ]);
  expect([...s3.partSizes].sort((a, b) => b - a)).toEqual([PART_SIZE, PART_SIZE, 5 * MiB]);
  expect(await digestOf(await store.read('snapshots/big/part-00000.jsonl.gz'))).toEqual(written);
});

test('a small body is one PutObject', async () => {
  const written = await store.write('snapshots/small/manifest.json', generated(100_000));
  expect(s3.calls).toEqual(['PutObject']);
  expect(written).toEqual(await digestOf(generated(100_000)));
  expect(s3.objects.get('snapshots/small/manifest.json')?.length).toBe(100_000);
});

test('a source that fails midway rejects the write and aborts the upload: no object, no upload left', async () => {
  await expect(
    store.write('snapshots/broken/part-00000.jsonl.gz', generated(20 * MiB, undefined, 12 * MiB)),
  ).rejects.toThrow('the source failed');
  expect(s3.calls).toContain('AbortMultipartUpload');
  expect(s3.uploads.size).toBe(0);
  expect(await store.list('snapshots/broken/')).toEqual([]);
});

test('the upload pulls the stream as it sends: the source is never more than the queued parts ahead', async () => {
  const tap = { yielded: 0 };
  let ahead = 0;
  const start = s3.received;
  const source = generated(40 * MiB, tap);
  const watched = (async function* () {
    for await (const c of source) {
      ahead = Math.max(ahead, tap.yielded - (s3.received - start));
      yield c;
    }
  })();
  await store.write('snapshots/bounded/part-00000.jsonl.gz', watched);
  expect(tap.yielded).toBe(40 * MiB);
  expect(ahead).toBeLessThanOrEqual((QUEUE_SIZE + 1) * PART_SIZE + MiB);
});

test('read of a missing object is NotFoundError; list pages through names under a prefix in order', async () => {
  await expect(store.read('snapshots/none/manifest.json')).rejects.toBeInstanceOf(NotFoundError);
  for (const n of ['c', 'a', 'e', 'b', 'd']) await store.write(`snapshots/listed/${n}`, generated(10));
  await store.write('snapshots/other/x', generated(10));
  s3.calls.length = 0;
  expect(await store.list('snapshots/listed/')).toEqual(['a', 'b', 'c', 'd', 'e'].map((n) => `snapshots/listed/${n}`));
  expect(s3.calls.filter((c) => c === 'ListObjectsV2').length).toBe(3);
});

test('S3 throttling (503 SlowDown) is ThrottledError', async () => {
  await store.write('snapshots/slow/x', generated(10));
  s3.slowDown = true;
  try {
    await expect(store.read('snapshots/slow/x')).rejects.toBeInstanceOf(ThrottledError);
  } finally {
    s3.slowDown = false;
  }
});

test('a connection dropped while the body streams is UnavailableError, not a raw socket error', async () => {
  await store.write('snapshots/cut/x', generated(2 * MiB));
  s3.cutBodies = true;
  try {
    await expect(digestOf(await store.read('snapshots/cut/x'))).rejects.toBeInstanceOf(UnavailableError);
  } finally {
    s3.cutBodies = false;
  }
});
