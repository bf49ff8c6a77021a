/**
 * Blob store on the local file system (the local stack: `$VESTA_DATA_DIR/snapshots/...`). An
 * object is written to a temporary file beside it and renamed into place once complete and
 * flushed, so a reader never sees half an object.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { NotFoundError } from '../../core/errors';
import type { BlobStore, BlobWritten } from '../../core/ports';
import { digesting } from './digest';

export class FsBlobStore implements BlobStore {
  private readonly root: string;

  /** @param root directory that holds the objects; object names are paths below it */
  public constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(name: string): string {
    const p = resolve(this.root, name);
    if (!p.startsWith(this.root + sep)) throw new Error(`blob name ${JSON.stringify(name)} leaves the store`);
    return p;
  }

  public async write(name: string, body: AsyncIterable<Uint8Array>): Promise<BlobWritten> {
    const path = this.pathOf(name);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
    const d = digesting(body);
    const fh = await open(tmp, 'w');
    try {
      for await (const chunk of d.stream) await fh.write(chunk);
      await fh.sync();
    } catch (e) {
      await fh.close();
      await rm(tmp, { force: true });
      throw e;
    }
    await fh.close();
    await rename(tmp, path);
    return d.result();
  }

  public async read(name: string): Promise<AsyncIterable<Uint8Array>> {
    const path = this.pathOf(name);
    try {
      if (!(await stat(path)).isFile()) throw new NotFoundError(`no object ${name}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`no object ${name}`, { cause: e });
      throw e;
    }
    return createReadStream(path);
  }

  public async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      for (const ent of entries) {
        const p = join(dir, ent.name);
        if (ent.isDirectory()) await walk(p);
        else if (ent.isFile() && !/\.tmp-[0-9a-f]{8}$/.test(ent.name)) out.push(relative(this.root, p).split(sep).join('/'));
      }
    };
    await walk(this.root);
    return out.filter((n) => n.startsWith(prefix)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }
}
