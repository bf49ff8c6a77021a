/**
 * Importing snapshots (`POST /v1/snapshots/import`): a snapshot's manifest and parts, found at a
 * location (a prefix of the deployment's bucket, or locally a folder), are enough to restore it
 * in a deployment that never exported it.
 *
 * The location is data: it is parsed into a bucket and prefix or an absolute folder, never joined
 * onto a path as it was sent. Within it, the layout is that of the blob store: every
 * `snapshots/<id>/manifest.json` names a snapshot, its parts `snapshots/<id>/part-NNNNN.jsonl.gz`.
 *
 * All or nothing: every manifest found is parsed and every part of every COMPLETE snapshot is
 * streamed and checked (size and sha256) before anything is copied or registered. A manifest that
 * is not a `vesta-snapshot/1` manifest, or a part that is missing or differs, is
 * `SnapshotDamagedError` naming the snapshot and the part, and then no snapshot is registered.
 * A snapshot whose id this deployment already has is imported again only when its manifest is the
 * same (idempotent); another one under that id is `409 Conflict` (`SnapshotIdReused`).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConflictError, NotFoundError, ValidationError, VestaError, type VestaErrorOptions } from './errors';
import { validateNamespace } from './names';
import type { BlobStore, BlobWritten, SnapshotStore } from './ports';
import {
  SNAPSHOTS_ROOT,
  SNAPSHOT_FORMAT,
  SNAPSHOT_ID_PATTERN,
  type SnapshotManifest,
  manifestName,
  partPath,
} from './snapshots';
import { parseBody } from './wire/parse';
import { importSnapshotsBody, snapshotManifest } from './wire/snapshots';

/** Longest location accepted (characters). */
export const MAX_LOCATION_LENGTH = 1024;
/** Largest `manifest.json` read (a manifest of 64 parts is a few KiB). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/** A snapshot (or one of its parts) at an import location that does not verify. */
export class SnapshotDamagedError extends VestaError {
  public constructor(
    /** The snapshot id (the folder name under `snapshots/`). */
    public readonly snapshot: string,
    /** `manifest.json`, or the part's name. */
    public readonly part: string,
    message: string,
    options?: VestaErrorOptions,
  ) {
    super(`snapshot ${snapshot}, ${part}: ${message}; no snapshot was imported`, options);
    this.name = 'SnapshotDamagedError';
  }
}

/** Where snapshots are imported from, as parsed. */
export type ImportLocation =
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string }
  | { readonly kind: 'folder'; readonly path: string };

const FIELD = 'body.location';
// Control characters (NUL included), backslashes and percent signs never name a location.
// biome-ignore lint/suspicious/noControlCharactersInRegex: they are what it rejects
const FORBIDDEN = /[\u0000-\u001f\u007f\\%]/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SEGMENT = /^[A-Za-z0-9!_.*'()~ +=@,:-]+$/;

/** Checks the segments of a path or prefix: no empty, `.` or `..` segment; only plain characters. */
function checkSegments(segments: readonly string[], what: string): void {
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..')
      throw new ValidationError(FIELD, `${what} may not have empty, "." or ".." segments`);
    if (!SEGMENT.test(s)) throw new ValidationError(FIELD, `${what} has a segment with characters it may not use`);
  }
}

/**
 * Parses a location: `s3://<bucket>[/<prefix>]`, `file:///<absolute folder>` or an absolute
 * folder path. Throws `ValidationError` (field `body.location`) for anything else: a relative
 * path, `.` or `..` segments, percent-encoding, control characters, backslashes.
 */
export function parseLocation(location: string): ImportLocation {
  if (location.length === 0 || location.length > MAX_LOCATION_LENGTH)
    throw new ValidationError(FIELD, `must be 1 to ${MAX_LOCATION_LENGTH} characters`);
  if (FORBIDDEN.test(location) || location.includes('..'))
    throw new ValidationError(FIELD, 'may not hold "..", control characters, backslashes or percent signs');
  if (location.startsWith('s3://')) {
    const rest = location.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    if (!BUCKET.test(bucket) || bucket.includes('..'))
      throw new ValidationError(FIELD, `names no valid bucket (s3://<bucket>/<prefix>)`);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/$/, '');
    if (prefix !== '') checkSegments(prefix.split('/'), 'the prefix');
    return { kind: 's3', bucket, prefix: prefix === '' ? '' : `${prefix}/` };
  }
  let path = location;
  if (location.startsWith('file://')) {
    path = location.slice('file://'.length);
    if (path.startsWith('localhost/')) path = path.slice('localhost'.length);
    if (!path.startsWith('/'))
      throw new ValidationError(FIELD, 'a file URL must name an absolute folder (file:///...)');
  } else if (!location.startsWith('/')) {
    throw new ValidationError(FIELD, 'is not s3://<bucket>/<prefix>, file:///<folder> or an absolute folder path');
  }
  const trimmed = path.replace(/\/$/, '');
  if (trimmed === '') throw new ValidationError(FIELD, 'may not be the root folder');
  checkSegments(trimmed.slice(1).split('/'), 'the folder path');
  return { kind: 'folder', path: trimmed };
}

/** `POST /v1/snapshots/import`: the body, and its location parsed. */
export function parseImport(body: unknown): { location: string; parsed: ImportLocation } {
  const { location } = parseBody(importSnapshotsBody, body);
  return { location, parsed: parseLocation(location) };
}

/** The objects at an import location, read only, named as in the blob store (`snapshots/<id>/...`). */
export type BlobSource = Pick<BlobStore, 'read' | 'list'>;

/** Turns a parsed location into what can be read there, for this deployment. */
export interface ImportLocations {
  /**
   * The objects at `location`, and whether they are the store's own objects (then nothing is
   * copied). Throws `ValidationError` (field `body.location`) for a location this deployment does
   * not read, `NotFoundError` for one that does not exist.
   */
  open(location: ImportLocation): Promise<{ readonly source: BlobSource; readonly inPlace: boolean }>;
}

/** What registering an imported snapshot found. */
export type RegisterOutcome = 'registered' | 'same' | 'different';

/** Records imported snapshots (the snapshot store in DynamoDB implements it). */
export interface SnapshotRegistry {
  /**
   * Records `manifest` (COMPLETE) as a snapshot, unless its id is taken: `same` when the snapshot
   * recorded under that id has the same manifest, `different` when it does not.
   */
  registerImported(manifest: SnapshotManifest): Promise<RegisterOutcome>;
}

export interface ImportDeps {
  readonly locations: ImportLocations;
  /** The deployment's blob store, which restores read. */
  readonly blobs: BlobStore;
  /** Records the snapshots imported, and tells which ids are taken. */
  readonly registry: SnapshotRegistry & Pick<SnapshotStore, 'getSnapshot'>;
}

/** A segment's part, or a record a dead-letter replay added (`replay-<dead letter id>.jsonl.gz`). */
const PART_NAME = /^(part-\d{5}|replay-[a-z]+-[0-9a-f]{32})\.jsonl\.gz$/;
const SHA256 = /^[0-9a-f]{64}$/;
const MANIFEST_PATH = /^snapshots\/([^/]+)\/manifest\.json$/;

/** A manifest as read at the location: checked, with its exact bytes (copied as they are). */
interface Found {
  readonly manifest: SnapshotManifest;
  readonly raw: Buffer;
}

async function readBounded(source: BlobSource, name: string, limit: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of await source.read(name)) {
    n += c.length;
    if (n > limit) throw new Error(`larger than ${limit} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/**
 * Checks a manifest read at the location: a `vesta-snapshot/1` manifest of snapshot `id`, its
 * parts named as an export (or a replay) names them, its totals their sums. `null` for a valid manifest of a
 * snapshot that is not COMPLETE (nothing to import). Throws `SnapshotDamagedError`.
 */
export function checkManifest(id: string, raw: Buffer): SnapshotManifest | null {
  const damaged = (why: string) => new SnapshotDamagedError(id, 'manifest.json', why);
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw damaged('is not JSON');
  }
  const r = snapshotManifest.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw damaged(`is not a ${SNAPSHOT_FORMAT} manifest (${issue.path.join('.') || 'manifest'}: ${issue.message})`);
  }
  const m = r.data;
  if (m.id !== id) throw damaged(`names snapshot ${JSON.stringify(m.id)}, not the one of its folder`);
  if (m.status !== 'COMPLETE') return null;
  if (m.namespace !== null) {
    try {
      validateNamespace(m.namespace, 'namespace');
    } catch {
      throw damaged('names no valid namespace');
    }
  }
  const names = new Set<string>();
  for (const p of m.parts) {
    if (!PART_NAME.test(p.name) || names.has(p.name)) throw damaged(`lists a part ${JSON.stringify(p.name)}`);
    if (!SHA256.test(p.sha256) || p.bytes < 0 || p.items < 0) throw damaged(`describes part ${p.name} wrongly`);
    names.add(p.name);
  }
  if (m.finishedAt === null) throw damaged('is COMPLETE without finishedAt');
  if (m.items !== m.parts.reduce((n, p) => n + p.items, 0) || m.bytes !== m.parts.reduce((n, p) => n + p.bytes, 0))
    throw damaged('has totals that are not the sums of its parts');
  return m;
}

/** Reads every manifest at the location (in id order); those of snapshots that are not COMPLETE are left out. */
async function findManifests(source: BlobSource): Promise<Found[]> {
  const found: Found[] = [];
  for (const name of await source.list(SNAPSHOTS_ROOT)) {
    const m = MANIFEST_PATH.exec(name);
    if (!m || !SNAPSHOT_ID_PATTERN.test(m[1]) || !m[1].startsWith('snap-')) continue;
    const id = m[1];
    let raw: Buffer;
    try {
      raw = await readBounded(source, manifestName(id), MAX_MANIFEST_BYTES);
    } catch (e) {
      if (e instanceof VestaError && !(e instanceof NotFoundError)) throw e;
      throw new SnapshotDamagedError(id, 'manifest.json', `cannot be read: ${(e as Error).message}`);
    }
    const manifest = checkManifest(id, raw);
    if (manifest) found.push({ manifest, raw });
  }
  return found.sort((a, b) => (a.manifest.id < b.manifest.id ? -1 : 1));
}

/** Streams a part and checks its size and sha256 against the manifest. Throws `SnapshotDamagedError`. */
async function verifyPart(
  id: string,
  part: SnapshotManifest['parts'][number],
  measure: () => Promise<BlobWritten>,
): Promise<void> {
  let got: BlobWritten;
  try {
    got = await measure();
  } catch (e) {
    if (e instanceof NotFoundError) throw new SnapshotDamagedError(id, part.name, 'is missing', { cause: e });
    throw e;
  }
  if (got.bytes !== part.bytes || got.sha256 !== part.sha256) {
    throw new SnapshotDamagedError(
      id,
      part.name,
      `is ${got.bytes} bytes with sha256 ${got.sha256}, the manifest says ${part.bytes} bytes with sha256 ${part.sha256}`,
    );
  }
}

/** Size and sha256 of an object, streamed. */
async function measure(source: BlobSource, name: string): Promise<BlobWritten> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const c of await source.read(name)) {
    h.update(c);
    bytes += c.length;
  }
  return { bytes, sha256: h.digest('hex') };
}

/**
 * Whether two manifests describe the same snapshot: the same id, namespace, start, totals and
 * parts (names, sizes, sha256). `cut` is compared when both have it. `finishedAt` is not: an export
 * writes `manifest.json` a moment before it records the snapshot COMPLETE, each with its own time.
 */
export function sameSnapshot(a: SnapshotManifest, b: SnapshotManifest): boolean {
  const parts = (m: SnapshotManifest) =>
    JSON.stringify(m.parts.map((p) => [p.name, p.items, p.bytes, p.sha256, p.setAside ?? 0]));
  return (
    a.id === b.id &&
    a.namespace === b.namespace &&
    a.status === b.status &&
    a.items === b.items &&
    a.bytes === b.bytes &&
    a.startedAt === b.startedAt &&
    (a.cut === undefined || b.cut === undefined || a.cut === b.cut) &&
    parts(a) === parts(b)
  );
}

/**
 * Imports every COMPLETE snapshot at `location` (see the module comment): verifies them all and
 * checks that no id is taken by another snapshot, then copies each new one's parts and manifest
 * into the blob store (unless they are its own objects) and registers it. Resolves to the
 * manifests imported (those already registered the same included), in id order. Throws
 * `ValidationError`, `NotFoundError`, `SnapshotDamagedError`, `ConflictError`.
 */
export async function importSnapshots(deps: ImportDeps, location: ImportLocation): Promise<SnapshotManifest[]> {
  const { source, inPlace } = await deps.locations.open(location);
  const found = await findManifests(source);
  for (const { manifest } of found) {
    for (const p of manifest.parts)
      await verifyPart(manifest.id, p, () => measure(source, partPath(manifest.id, p.name)));
  }
  const conflict = (id: string) =>
    new ConflictError('SnapshotIdReused', `snapshot ${id} exists here with another manifest; nothing was imported`);
  const fresh: Found[] = [];
  for (const f of found) {
    const recorded = await deps.registry.getSnapshot(f.manifest.id);
    if (!recorded) fresh.push(f);
    else if (!sameSnapshot(recorded, f.manifest)) throw conflict(f.manifest.id);
  }
  for (const { manifest, raw } of fresh) {
    if (!inPlace) {
      // Copied, then checked again as written: the source may have changed since it was verified.
      for (const p of manifest.parts) {
        const name = partPath(manifest.id, p.name);
        await verifyPart(manifest.id, p, async () => deps.blobs.write(name, await source.read(name)));
      }
      await deps.blobs.write(
        manifestName(manifest.id),
        (async function* () {
          yield new Uint8Array(raw);
        })(),
      );
    }
    // Another import may have registered the id since it was checked.
    if ((await deps.registry.registerImported(manifest)) === 'different') throw conflict(manifest.id);
  }
  return found.map((f) => f.manifest);
}

/** The `200` of `POST /v1/snapshots/import`. */
export const importResult = z.object({ items: z.array(snapshotManifest).readonly() }).readonly();
export type ImportResult = z.infer<typeof importResult>;
