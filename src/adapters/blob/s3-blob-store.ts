/**
 * Blob store on S3 (the deployed stack's snapshot bucket). Writes are multipart uploads through
 * `@aws-sdk/lib-storage`'s `Upload`: at most `queueSize` parts of `partSize` bytes are held at
 * once, so memory stays bounded whatever the object's size; a failed upload is aborted. The
 * object's bytes and sha256 are computed as they stream through.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { NotFoundError, ThrottledError, UnavailableError } from '../../core/errors';
import type { BlobStore, BlobWritten } from '../../core/ports';
import { type ClientSource, clientOf, s3Sdk, s3UploadSdk } from '../lazy-sdk';
import { digesting } from './digest';

/** Bytes of one multipart part (S3's minimum is 5 MiB). */
export const PART_SIZE = 8 * 1024 * 1024;
/** Parts uploaded at once. */
export const QUEUE_SIZE = 2;

const THROTTLING = new Set(['SlowDown', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);

function translate(e: unknown): unknown {
  const name = (e as { name?: string })?.name ?? '';
  const status = (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (THROTTLING.has(name) || status === 503)
    return new ThrottledError('S3 throttled the request; retry later', 1, { cause: e });
  if (
    name === 'InternalError' ||
    name === 'ServiceUnavailable' ||
    name === 'TimeoutError' ||
    name === 'RequestTimeout' ||
    (status !== undefined && status >= 500) ||
    /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|socket hang up|aborted/i.test(String((e as Error)?.message ?? ''))
  ) {
    return new UnavailableError('S3 is unavailable; retry later', 2, { cause: e });
  }
  return e;
}

/** The object's bytes; a failure while they stream (a dropped connection) is translated too. */
async function* translated(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (e) {
    throw translate(e);
  }
}

export class S3BlobStore implements BlobStore {
  private readonly client: () => S3Client;

  /** @param client the client, or how to make it at the first use (the S3 SDK is loaded then) */
  public constructor(
    client: ClientSource<S3Client>,
    private readonly bucket: string,
  ) {
    this.client = clientOf(client);
  }

  public async write(name: string, body: AsyncIterable<Uint8Array>): Promise<BlobWritten> {
    const { Upload } = s3UploadSdk();
    const d = digesting(body);
    const upload = new Upload({
      client: this.client(),
      params: { Bucket: this.bucket, Key: name, Body: Readable.from(d.stream, { objectMode: false }) },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (e) {
      throw translate(e);
    }
    return d.result();
  }

  public async read(name: string): Promise<AsyncIterable<Uint8Array>> {
    const { GetObjectCommand, NoSuchKey } = s3Sdk();
    try {
      const out = await this.client().send(new GetObjectCommand({ Bucket: this.bucket, Key: name }));
      return translated(out.Body as Readable);
    } catch (e) {
      if (e instanceof NoSuchKey || (e as { name?: string }).name === 'NoSuchKey')
        throw new NotFoundError(`no object ${name}`, { cause: e });
      throw translate(e);
    }
  }

  public async list(prefix: string): Promise<string[]> {
    const { paginateListObjectsV2 } = s3Sdk();
    const names: string[] = [];
    try {
      for await (const page of paginateListObjectsV2(
        { client: this.client() },
        { Bucket: this.bucket, Prefix: prefix },
      )) {
        for (const o of page.Contents ?? []) if (o.Key) names.push(o.Key);
      }
    } catch (e) {
      throw translate(e);
    }
    return names;
  }
}
