/**
 * The smallest S3 this machine can run: an in-process HTTP server that answers, for one bucket in
 * path style, the REST calls the S3 blob store makes (PutObject, CreateMultipartUpload,
 * UploadPart, CompleteMultipartUpload, AbortMultipartUpload, GetObject, ListObjectsV2) with the
 * status codes, headers and XML S3 documents. It ignores checksum headers (it does not verify
 * them) and answers ETags as S3 does.
 */
import { createHash } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';

/** Compares two keys by their UTF-8 bytes. */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export const BUCKET = 'vesta-test-snapshots';
interface Upload {
  readonly key: string;
  readonly parts: Map<number, Buffer>;
}

/** What the fake S3 saw and holds. */
export class FakeS3 {
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
      // S3 lists keys in UTF-8 binary order, which is not the UTF-16 order of `<` and `sort()`.
      const names = [...this.objects.keys()]
        .filter((k) => k.startsWith(prefix) && byteOrder(k, after) > 0)
        .sort(byteOrder);
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

/** A client of `endpoint` as the store uses one, without retries. */
export function fakeS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
  });
}
