/** Counts and hashes a byte stream as it passes through (nothing is buffered). */
import { createHash } from 'node:crypto';
import type { BlobWritten } from '../../core/ports';

export interface Digesting {
  /** The same bytes, in order. */
  readonly stream: AsyncIterable<Uint8Array>;
  /** Bytes and sha256 of what went through; complete once `stream` has been read to its end. */
  result(): BlobWritten;
}

export function digesting(body: AsyncIterable<Uint8Array>): Digesting {
  const hash = createHash('sha256');
  let bytes = 0;
  let done: BlobWritten | undefined;
  async function* pass(): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      hash.update(chunk);
      bytes += chunk.length;
      yield chunk;
    }
    done = { bytes, sha256: hash.digest('hex') };
  }
  return {
    stream: pass(),
    result() {
      if (!done) throw new Error('the stream was not read to its end');
      return done;
    },
  };
}
