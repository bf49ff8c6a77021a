/**
 * Blob store on the local file system (the local stack: `$VESTA_DATA_DIR/snapshots/...`). An
 * object is written to a temporary file beside it (`<name>.tmp-<pid>-<random>`), flushed to disk
 * (fsync), renamed into place and its directory flushed, so a reader never sees half an object.
 * A write that fails for any reason removes its temporary file. A process that was killed
 * mid-write cannot do that, so the store removes the temporary files of processes that no longer
 * run: all of them under its root before its first write or listing, and those beside an object
 * before each write of it.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Dirent } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { NotFoundError } from '../../core/errors';
import type { BlobStore, BlobWritten } from '../../core/ports';
import { digesting } from './digest';

const TEMP = /\.tmp-(\d+)-[0-9a-f]{8}$/;

/** Whether process `pid` still runs (a temporary file of a live process is not stale). */
function running(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Closes a handle, ignoring a failure (the handle is being abandoned). */
const closeQuietly = (fh: FileHandle) => fh.close().catch(() => undefined);

export class FsBlobStore implements BlobStore {
  /** The directory that holds the objects (absolute). */
  public readonly root: string;
  private swept?: Promise<void>;

  /** @param root directory that holds the objects; object names are paths below it */
  public constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(name: string): string {
    const p = resolve(this.root, name);
    if (!p.startsWith(this.root + sep)) throw new Error(`blob name ${JSON.stringify(name)} leaves the store`);
    return p;
  }

  /**
   * Writes `name` from `body`: whole and durable once this resolves, absent (or as it was) when
   * it rejects. Throws what reading `body` or the file system throws; its temporary file is gone.
   */
  public async write(name: string, body: AsyncIterable<Uint8Array>): Promise<BlobWritten> {
    const path = this.pathOf(name);
    await this.sweepAll();
    await mkdir(dirname(path), { recursive: true });
    await this.sweepDir(dirname(path), `${basename(path)}.tmp-`);
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const d = digesting(body);
    try {
      const fh = await open(tmp, 'w');
      try {
        for await (const chunk of d.stream) await fh.write(chunk);
        await fh.sync();
      } catch (e) {
        await closeQuietly(fh);
        throw e;
      }
      await fh.close();
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    await this.syncDir(dirname(path));
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
    await this.sweepAll();
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      for (const ent of entries) {
        const p = join(dir, ent.name);
        if (ent.isDirectory()) await walk(p);
        else if (ent.isFile() && !TEMP.test(ent.name)) out.push(relative(this.root, p).split(sep).join('/'));
      }
    };
    await walk(this.root);
    return out.filter((n) => n.startsWith(prefix)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  /** Once per store: the stale temporary files anywhere under the root. */
  private sweepAll(): Promise<void> {
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const ent of entries) if (ent.isDirectory()) await walk(join(dir, ent.name));
      await this.sweepDir(dir, '');
    };
    this.swept ??= walk(this.root);
    return this.swept;
  }

  /** Removes the temporary files in `dir` (whose names start with `prefix`) of processes that no longer run. */
  private async sweepDir(dir: string, prefix: string): Promise<void> {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names) {
      const m = TEMP.exec(n);
      if (m && n.startsWith(prefix) && !running(Number(m[1]))) await rm(join(dir, n), { force: true });
    }
  }

  /** Flushes a directory, so that a rename in it survives a crash of the machine. */
  private async syncDir(dir: string): Promise<void> {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await closeQuietly(fh);
    }
  }
}
