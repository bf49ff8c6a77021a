/**
 * The import in AWS, on an in-memory blob store standing for the deployment's bucket: only its own
 * bucket is read; objects under `s3://<bucket>/` are registered in place, those under another
 * prefix copied to `snapshots/<id>/` first; nothing is copied or registered when a part is damaged.
 */
import { createHash } from 'node:crypto';
import { bucketImportLocations } from '../../src/adapters/blob/import-locations';
import { NotFoundError, ValidationError } from '../../src/core/errors';
import type { BlobStore } from '../../src/core/ports';
import {
  type RegisterOutcome,
  SnapshotDamagedError,
  importSnapshots,
  parseLocation,
} from '../../src/core/snapshot-import';
import type { SnapshotManifest } from '../../src/core/snapshots';

class MemoryBlobs implements BlobStore {
  public readonly objects = new Map<string, Buffer>();
  public async write(name: string, body: AsyncIterable<Uint8Array>) {
    const chunks: Uint8Array[] = [];
    for await (const c of body) chunks.push(c);
    const b = Buffer.concat(chunks);
    this.objects.set(name, b);
    return { bytes: b.length, sha256: createHash('sha256').update(b).digest('hex') };
  }
  public async read(name: string) {
    const b = this.objects.get(name);
    if (!b) throw new NotFoundError(`no object ${name}`);
    return (async function* () {
      yield new Uint8Array(b);
    })();
  }
  public async list(prefix: string) {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

const ID = 'snap-20261207T031241107Z-5be1c2a0';
const BUCKET = 'vesta-drill-snapshots';

function put(blobs: MemoryBlobs, prefix: string, part = Buffer.from('gzip bytes')): SnapshotManifest {
  const manifest: SnapshotManifest = {
    id: ID,
    namespace: null,
    status: 'COMPLETE',
    items: 2,
    bytes: part.length,
    parts: [
      {
        name: 'part-00000.jsonl.gz',
        items: 2,
        bytes: part.length,
        sha256: createHash('sha256').update(part).digest('hex'),
      },
    ],
    startedAt: '2026-12-07T03:12:41.107Z',
    finishedAt: '2026-12-07T03:12:42.000Z',
    format: 'vesta-snapshot/1',
    cut: '2026-12-07T03:12:41.107Z',
  };
  blobs.objects.set(`${prefix}snapshots/${ID}/part-00000.jsonl.gz`, part);
  blobs.objects.set(`${prefix}snapshots/${ID}/manifest.json`, Buffer.from(JSON.stringify(manifest)));
  return manifest;
}

function registry() {
  const registered = new Map<string, SnapshotManifest>();
  return {
    registered,
    async getSnapshot(id: string) {
      const m = registered.get(id);
      return m ? { ...m, segments: m.parts.length } : undefined;
    },
    async registerImported(m: SnapshotManifest): Promise<RegisterOutcome> {
      if (registered.has(m.id)) return 'same';
      registered.set(m.id, m);
      return 'registered';
    },
  };
}

test('another bucket, or a folder, is 400 naming body.location; a prefix without snapshots is 404', async () => {
  const blobs = new MemoryBlobs();
  const locations = bucketImportLocations(BUCKET, blobs);
  await expect(locations.open(parseLocation('s3://other-bucket/x'))).rejects.toThrow(ValidationError);
  await expect(locations.open(parseLocation('/var/backups'))).rejects.toMatchObject({ field: 'body.location' });
  await expect(locations.open(parseLocation(`s3://${BUCKET}/nothing`))).rejects.toThrow(NotFoundError);
});

test('under the bucket itself: registered in place, nothing written', async () => {
  const blobs = new MemoryBlobs();
  const m = put(blobs, '');
  const before = new Map(blobs.objects);
  const reg = registry();
  const deps = { blobs, locations: bucketImportLocations(BUCKET, blobs), registry: reg };
  expect(await importSnapshots(deps, parseLocation(`s3://${BUCKET}/`))).toEqual([m]);
  expect(reg.registered.get(ID)).toEqual(m);
  expect(blobs.objects).toEqual(before);
});

test('under another prefix: copied to snapshots/<id>/, then registered with its cut', async () => {
  const blobs = new MemoryBlobs();
  const m = put(blobs, 'drill/2026/');
  const reg = registry();
  const deps = { blobs, locations: bucketImportLocations(BUCKET, blobs), registry: reg };
  expect(await importSnapshots(deps, parseLocation(`s3://${BUCKET}/drill/2026`))).toEqual([m]);
  expect(blobs.objects.get(`snapshots/${ID}/part-00000.jsonl.gz`)).toEqual(Buffer.from('gzip bytes'));
  expect(JSON.parse(blobs.objects.get(`snapshots/${ID}/manifest.json`)!.toString())).toEqual(m);
  expect(reg.registered.get(ID)?.cut).toBe(m.cut);
});

test('a damaged part: SnapshotDamaged, nothing copied or registered', async () => {
  const blobs = new MemoryBlobs();
  put(blobs, 'drill/');
  blobs.objects.set(`drill/snapshots/${ID}/part-00000.jsonl.gz`, Buffer.from('gzip bytez'));
  const reg = registry();
  const deps = { blobs, locations: bucketImportLocations(BUCKET, blobs), registry: reg };
  await expect(importSnapshots(deps, parseLocation(`s3://${BUCKET}/drill`))).rejects.toMatchObject({
    constructor: SnapshotDamagedError,
    snapshot: ID,
    part: 'part-00000.jsonl.gz',
  });
  expect([...blobs.objects.keys()].filter((k) => k.startsWith('snapshots/'))).toEqual([]);
  expect(reg.registered.size).toBe(0);
});
