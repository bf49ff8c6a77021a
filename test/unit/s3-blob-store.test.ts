/**
 * The S3 blob store with the real `S3Client` and `lib-storage` `Upload`, against the smallest
 * S3 this machine can run: an in-process HTTP server that answers, for one bucket in path style,
 * the REST calls the store makes (PutObject, CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload, AbortMultipartUpload, GetObject, ListObjectsV2) with the status codes,
 * headers and XML S3 documents. The client keeps its default checksum settings; the server
 * ignores checksum headers (it does not verify them) and answers ETags as S3 does.
 */
import { createHash } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { NotFoundError, ThrottledError, UnavailableError } from '../../src/core/errors';
import { PART_SIZE, QUEUE_SIZE, S3BlobStore } from '../../src/adapters/blob/s3-blob-store';

const BUCKET = 'vesta-test-snapshots';
const MiB = 1024 * 1024;

interface Upload {
  readonly key: string;
  readonly parts: Map<number, Buffer>;
}

/** What the fake S3 saw and holds. */
class FakeS3 {
  readonly objects = new Map<string, Buffer>();
  readonly uploads = new Map<string, Upload>();
  readonly calls: string[] = [];
  readonly partSizes: number[] = [];
  /** Bytes of object data received so far (parts and puts). */
  received = 0;
  /** Answer every GetObject with 503 SlowDown. */
  slowDown = false;
  /** Drop every GetObject's connection halfway through the body. */
  cutBodies = false;
  private nextUpload = 1;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }

  private async body(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of req) {
      chunks.push(c as Buffer);
      if (req.method === 'PUT') this.received += (c as Buffer).length;
    }
    return Buffer.concat(chunks);
  }

  private xml(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${text}`);
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    this.xml(
      res,
      status,
      `<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fake</RequestId></Error>`,
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const q = url.searchParams;
    const body = await this.body(req);
    if (bucket !== BUCKET) return this.error(res, 404, 'NoSuchBucket', 'no such bucket');
    const etag = (b: Buffer) => `"${createHash('md5').update(b).digest('hex')}"`;

    if (req.method === 'PUT' && q.has('partNumber') && q.has('uploadId')) {
      const upload = this.uploads.get(q.get('uploadId')!);
      if (!upload) return this.error(res, 404, 'NoSuchUpload', 'no such upload');
      this.calls.push('UploadPart');
      this.partSizes.push(body.length);
      upload.parts.set(Number(q.get('partNumber')), body);
      res.writeHead(200, { etag: etag(body) });
      return void res.end();
    }
    if (req.method === 'PUT') {
      this.calls.push('PutObject');
      this.objects.set(key, body);
      res.writeHead(200, { etag: etag(body) });
      return void res.end();
    }
    if (req.method === 'POST' && q.has('uploads')) {
      this.calls.push('CreateMultipartUpload');
      const id = `upload-${this.nextUpload++}`;
      this.uploads.set(id, { key, parts: new Map() });
      return this.xml(
        res,
        200,
        `<InitiateMultipartUploadResult><Bucket>${BUCKET}</Bucket><Key>${key}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`,
      );
    }
    if (req.method === 'POST' && q.has('uploadId')) {
      this.calls.push('CompleteMultipartUpload');
      const upload = this.uploads.get(q.get('uploadId')!);
      if (!upload) return this.error(res, 404, 'NoSuchUpload', 'no such upload');
      const numbers = [...body.toString('utf8').matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]));
      const data = Buffer.concat(numbers.map((n) => upload.parts.get(n)!));
      this.objects.set(upload.key, data);
      this.uploads.delete(q.get('uploadId')!);
      return this.xml(
        res,
        200,
        `<CompleteMultipartUploadResult><Bucket>${BUCKET}</Bucket><Key>${upload.key}</Key><ETag>"multi"</ETag></CompleteMultipartUploadResult>`,
      );
    }
    if (req.method === 'DELETE' && q.has('uploadId')) {
      this.calls.push('AbortMultipartUpload');
      this.uploads.delete(q.get('uploadId')!);
      res.writeHead(204);
      return void res.end();
    }
    if (req.method === 'GET' && q.get('list-type') === '2') {
      this.calls.push('ListObjectsV2');
      const prefix = q.get('prefix') ?? '';
      const after = q.get('continuation-token') ?? '';
      const names = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
      const page = names.slice(0, 2);
      const truncated = names.length > 2;
      return this.xml(
        res,
        200,
        `<ListBucketResult><Name>${BUCKET}</Name><Prefix>${prefix}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>${truncated}</IsTruncated>${page
          .map((k) => `<Contents><Key>${k}</Key><Size>${this.objects.get(k)!.length}</Size></Contents>`)
          .join(
            '',
          )}${truncated ? `<NextContinuationToken>${page[page.length - 1]}</NextContinuationToken>` : ''}</ListBucketResult>`,
      );
    }
    if (req.method === 'GET') {
      this.calls.push('GetObject');
      if (this.slowDown) return this.error(res, 503, 'SlowDown', 'Please reduce your request rate.');
      const data = this.objects.get(key);
      if (!data) return this.error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
      if (this.cutBodies) {
        // Half the promised bytes, then the connection drops.
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(data.length) });
        res.write(data.subarray(0, data.length >> 1));
        return void setTimeout(() => res.destroy(), 20);
      }
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(data.length),
        etag: etag(data),
      });
      return void res.end(data);
    }
    this.error(res, 400, 'NotImplemented', `${req.method} ${req.url}`);
  }
}

const s3 = new FakeS3();
let store: S3BlobStore;
let client: S3Client;

beforeAll(async () => {
  const endpoint = await s3.start();
  client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
  });
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
