/**
 * The contract of `BlobStore` (`src/core/ports.ts`): an object reads back as written, with the size
 * and sha256 the write reported; a write replaces the object whole or leaves it as it was; names
 * list in byte order under a prefix; a missing object is `NotFoundError`. Each test works under a
 * prefix of its own, so the suite can share one store between tests.
 */
import { createHash, randomUUID } from 'node:crypto';
import { NotFoundError } from '../../../src/core/errors';
import type { BlobStore } from '../../../src/core/ports';

export interface BlobStoreFixture {
  readonly store: BlobStore;
}

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}

async function* failingAfter(part: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(part);
  throw new Error('the source failed');
}

async function bytesOf(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of body) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function blobStoreContract(backend: string, make: () => BlobStoreFixture | Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract (${backend})`, () => {
    let f: BlobStoreFixture;
    let dir: string;
    beforeEach(async () => {
      f = await make();
      dir = `snapshots/${randomUUID()}`;
    });

    test('an object reads back byte for byte, and the write reports its size and sha256', async () => {
      const binary = Uint8Array.from({ length: 256 }, (_x, i) => i);
      const expected = Buffer.concat([Buffer.from('{"a":1}\n'), Buffer.from(binary), Buffer.from('é€😀')]);
      const written = await f.store.write(`${dir}/part-00000.jsonl.gz`, chunks('{"a":1}\n', binary, '', 'é€😀'));
      expect(written).toEqual({ bytes: expected.length, sha256: sha256(expected) });
      expect(await bytesOf(await f.store.read(`${dir}/part-00000.jsonl.gz`))).toEqual(expected);
    });

    test('an empty object is written and read back empty', async () => {
      expect(await f.store.write(`${dir}/empty`, chunks())).toEqual({ bytes: 0, sha256: sha256(Buffer.alloc(0)) });
      expect(await bytesOf(await f.store.read(`${dir}/empty`))).toEqual(Buffer.alloc(0));
    });

    test('a write replaces the object whole', async () => {
      await f.store.write(`${dir}/manifest.json`, chunks('the first, longer version'));
      const written = await f.store.write(`${dir}/manifest.json`, chunks('second'));
      expect(written).toEqual({ bytes: 6, sha256: sha256(Buffer.from('second')) });
      expect((await bytesOf(await f.store.read(`${dir}/manifest.json`))).toString()).toBe('second');
      expect(await f.store.list(`${dir}/`)).toEqual([`${dir}/manifest.json`]);
    });

    test('a write whose source fails rejects with its error and leaves no object, partial or temporary', async () => {
      await expect(f.store.write(`${dir}/part-00000.jsonl.gz`, failingAfter('half a part'))).rejects.toThrow(
        'the source failed',
      );
      expect(await f.store.list(`${dir}/`)).toEqual([]);
      await expect(f.store.read(`${dir}/part-00000.jsonl.gz`)).rejects.toBeInstanceOf(NotFoundError);
    });

    test('a failed write of an existing object leaves it as it was', async () => {
      await f.store.write(`${dir}/manifest.json`, chunks('old'));
      await expect(f.store.write(`${dir}/manifest.json`, failingAfter('new and half'))).rejects.toThrow(
        'the source failed',
      );
      expect((await bytesOf(await f.store.read(`${dir}/manifest.json`))).toString()).toBe('old');
      expect(await f.store.list(`${dir}/`)).toEqual([`${dir}/manifest.json`]);
    });

    test('reading an object that does not exist is NotFoundError', async () => {
      await expect(f.store.read(`${dir}/manifest.json`)).rejects.toBeInstanceOf(NotFoundError);
      await f.store.write(`${dir}/a/b`, chunks('x'));
      await expect(f.store.read(`${dir}/a/c`)).rejects.toBeInstanceOf(NotFoundError);
    });

    test('list gives the names under a prefix, at any depth, in byte order', async () => {
      // Byte order: 'B' < 'a-b' < 'a.c' < 'a/b' < 'a0' < 'z/y/x' < U+FF5E < U+1F600 (not UTF-16 order).
      const names = ['a0', 'z/y/x', '\u{1F600}', 'a/b', 'B', 'a.c', '\uFF5E', 'a-b'].map((n) => `${dir}/x/${n}`);
      for (const n of names) await f.store.write(n, chunks(n));
      await f.store.write(`${dir}/other`, chunks('not listed'));
      const expected = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      expect(await f.store.list(`${dir}/x/`)).toEqual(expected);
      expect(await f.store.list(`${dir}/x/a`)).toEqual(expected.filter((n) => n.startsWith(`${dir}/x/a`)));
      expect(await f.store.list(`${dir}/none/`)).toEqual([]);
    });
  });
}
