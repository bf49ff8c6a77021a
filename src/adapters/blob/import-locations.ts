/**
 * Where `POST /v1/snapshots/import` reads, for each kind of blob store (`ImportLocations`):
 *
 * - Locally (a folder blob store): a folder of this machine, read as a blob store's root is laid
 *   out (`<folder>/snapshots/<id>/...`), read only; what is imported is copied into the store.
 *   The store's own folder is imported in place.
 * - In AWS (an S3 blob store): a prefix of the deployment's own bucket only, which the API's role
 *   may read; objects of another bucket are copied into it first (`aws s3 sync`). Objects under
 *   `s3://<bucket>/` itself are the store's own and imported in place; under another prefix they
 *   are copied to `snapshots/<id>/`.
 */
import { createReadStream } from 'node:fs';
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { NotFoundError, ValidationError } from '../../core/errors';
import type { BlobStore } from '../../core/ports';
import type { BlobSource, ImportLocation, ImportLocations } from '../../core/snapshot-import';

const FIELD = 'body.location';

/** Objects of a folder, read only (no temporary files are swept, nothing is written). */
export class FolderBlobSource implements BlobSource {
  /** @param root the folder, its real path (no link in it) */
  public constructor(private readonly root: string) {}

  private pathOf(name: string): string {
    const p = resolve(this.root, name);
    if (!p.startsWith(this.root + sep)) throw new NotFoundError(`no object ${name}`);
    return p;
  }

  /** Reads a file of the folder; a link that leads out of it is no object of it. */
  public async read(name: string): Promise<AsyncIterable<Uint8Array>> {
    let path = this.pathOf(name);
    try {
      path = await realpath(path);
      if (!path.startsWith(this.root + sep) || !(await stat(path)).isFile())
        throw new NotFoundError(`no object ${name}`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`no object ${name}`, { cause: e });
      throw e;
    }
    return createReadStream(path);
  }

  /** Files under `prefix` (a folder path ending in `/`), three levels deep at most, in byte order. */
  public async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, depth: number): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw e;
      }
      for (const ent of entries) {
        const p = join(dir, ent.name);
        if (ent.isDirectory() && depth < 3) await walk(p, depth + 1);
        else if (ent.isFile()) out.push(relative(this.root, p).split(sep).join('/'));
      }
    };
    await walk(this.pathOf(prefix), 1);
    return out.filter((n) => n.startsWith(prefix)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }
}

/** A folder blob store's import locations: folders of this machine. */
export function folderImportLocations(storeRoot: string): ImportLocations {
  return {
    async open(location: ImportLocation) {
      if (location.kind !== 'folder')
        throw new ValidationError(FIELD, 'this deployment imports from a folder (an absolute path or file:///...)');
      let real: string;
      try {
        real = await realpath(location.path);
        if (!(await stat(real)).isDirectory()) throw new ValidationError(FIELD, `${location.path} is not a folder`);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR')
          throw new NotFoundError(`no folder ${location.path}`, { cause: e });
        throw e;
      }
      const own = await realpath(storeRoot).catch(() => resolve(storeRoot));
      return { source: new FolderBlobSource(real), inPlace: real === own };
    },
  };
}

/** The objects under a prefix of a blob store, named without it. */
export function prefixed(store: BlobStore, prefix: string): BlobSource {
  return {
    read: (name) => store.read(`${prefix}${name}`),
    list: async (p) => (await store.list(`${prefix}${p}`)).map((n) => n.slice(prefix.length)),
  };
}

/** An S3 blob store's import locations: prefixes of its own bucket. */
export function bucketImportLocations(bucket: string, store: BlobStore): ImportLocations {
  return {
    async open(location: ImportLocation) {
      if (location.kind !== 's3')
        throw new ValidationError(FIELD, `this deployment imports from its own bucket: s3://${bucket}/<prefix>`);
      if (location.bucket !== bucket) {
        throw new ValidationError(
          FIELD,
          `names bucket ${location.bucket}; this deployment imports from its own bucket ${bucket} only (copy the objects into it first)`,
        );
      }
      const source = prefixed(store, location.prefix);
      // S3 has no folders: a prefix with no snapshot object under it is one that does not exist.
      if ((await source.list('snapshots/')).length === 0)
        throw new NotFoundError(`no snapshot objects under s3://${bucket}/${location.prefix}snapshots/`);
      return { source, inPlace: location.prefix === '' };
    },
  };
}
