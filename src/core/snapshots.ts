/**
 * Snapshots as data: the `vesta-snapshot/1` format (gzip JSON lines, one record a line, and a
 * manifest written last), ids, the request bodies parsed (their schemas and the manifest's are
 * in `wire/snapshots.ts`), and what an export keeps. Nothing here does I/O; the export and
 * restore workers (`src/snapshots/`) stream through the blob store port.
 *
 * Layout in the blob store, under `snapshots/<id>/`:
 * - `part-00000.jsonl.gz` ... one part per scan segment: gzip of lines `SnapshotLine` + `\n`;
 * - `manifest.json`: `SnapshotManifest` (status COMPLETE), written after every part is complete.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from './errors';
import { visibleAt } from './field-expiry';
import { validateNamespace } from './names';
import type { RecordState, Sibling } from './record-view';
import { parseJson, stringifyJson } from './json';
import { newMap } from './values';
import { fieldsSchema } from './wire/fields';
import { parseBody } from './wire/parse';
import { type RestoreMode, createSnapshotBody, restoreBody } from './wire/snapshots';
import { type VersionVector, merge } from './vv';

export { RESTORE_MODES, SNAPSHOT_FORMAT, SNAPSHOT_STATUSES, createSnapshotBody, restoreBody } from './wire/snapshots';
export type { PartInfo, RestoreMode, RestoreView, SnapshotManifest, SnapshotStatus } from './wire/snapshots';

/** Scan segments of a whole-store export (one part each); a namespace export is one Query. */
export const DEFAULT_SEGMENTS = 4;
export const MAX_SEGMENTS = 64;

/** Snapshot and restore ids sort by creation time: `<prefix>-<yyyymmddThhmmssSSSZ>-<8 hex>`. */
export const SNAPSHOT_ID_PATTERN = /^(snap|rest)-\d{8}T\d{9}Z-[0-9a-f]{8}$/;

export function newId(kind: 'snap' | 'rest', now: Date): string {
  const t = now.toISOString().replace(/[-:.]/g, '');
  return `${kind}-${t}-${randomBytes(4).toString('hex')}`;
}

export function validateSnapshotId(id: string, kind: 'snap' | 'rest', field = 'id'): string {
  if (!SNAPSHOT_ID_PATTERN.test(id) || !id.startsWith(`${kind}-`)) {
    throw new ValidationError(
      field,
      `is not a ${kind === 'snap' ? 'snapshot' : 'restore'} id (${kind}-<time>-<8 hex>)`,
    );
  }
  return id;
}

/** Object names of a snapshot in the blob store. */
/** Every snapshot object is under this prefix (the bucket's lifecycle rule and grants name it). */
export const SNAPSHOTS_ROOT = 'snapshots/';
export const snapshotPrefix = (id: string) => `${SNAPSHOTS_ROOT}${id}/`;
export const partName = (segment: number) => `part-${String(segment).padStart(5, '0')}.jsonl.gz`;
export const manifestName = (id: string) => `${snapshotPrefix(id)}manifest.json`;
export const partPath = (id: string, part: string) => `${snapshotPrefix(id)}${part}`;

/**
 * One record in a part: everything needed to write it back exactly (its ETag included). Each
 * value's `expires` (field to due time, epoch milliseconds) is optional: absent when none of its
 * fields expires, and in every line written before field expiry, which still restore as they are.
 */
export interface SnapshotLine {
  readonly ns: string;
  readonly key: string;
  readonly inc: string;
  readonly rev: number;
  readonly vv: VersionVector;
  readonly siblings: readonly Sibling[];
  readonly updatedAt: string;
}

/**
 * Whether a stored state belongs in a snapshot: live records only. Tombstones are not exported,
 * nor records of a lease (they vanish with it; a restore must not bring them back for good).
 */
export function exportable(s: RecordState): boolean {
  return !s.deleted && s.siblings.length > 0 && s.lease === undefined;
}

/**
 * The state a snapshot keeps of a stored one, as it stands at `atMs`: without the fields due by
 * then (`visibleAt`); `undefined` when it is not `exportable` or has nothing left. The export takes
 * it at the cut, a restore at the time it writes (so a restore never brings back a field that has
 * expired, and the fields left keep their due instants).
 */
export function keptAt(s: RecordState, atMs: number): RecordState | undefined {
  if (!exportable(s)) return undefined;
  const seen = visibleAt(s, atMs);
  return exportable(seen) ? seen : undefined;
}

export function toLine(s: RecordState): string {
  const line: SnapshotLine = {
    ns: s.namespace,
    key: s.key,
    inc: s.inc,
    rev: s.rev,
    vv: s.vv,
    siblings: s.siblings,
    updatedAt: s.updatedAt,
  };
  return stringifyJson(line);
}

const lineSchema = z
  .object({
    ns: z.string(),
    key: z.string(),
    inc: z.string(),
    rev: z.number().int().positive(),
    vv: z.record(z.number()),
    siblings: z
      .array(
        z.object({
          fields: fieldsSchema,
          expires: z.unknown().optional(),
          dot: z.object({ replica: z.string(), counter: z.number() }),
          at: z.string(),
        }),
      )
      .min(1),
    updatedAt: z.string(),
  })
  .strict();

/** Parses a line into the state to write (into `targetNs` if given). Throws `ValidationError`. */
export function fromLine(text: string, targetNs?: string): RecordState {
  let raw: unknown;
  try {
    raw = parseJson(text, Infinity);
  } catch (e) {
    throw new ValidationError('line', `is not JSON: ${(e as Error).message}`);
  }
  const parsed = parseBody(lineSchema, raw, 'line');
  const l: SnapshotLine = {
    ...parsed,
    siblings: parsed.siblings.map((x, i) => {
      const { expires, ...rest } = x;
      if (expires === undefined) return rest;
      const read = readExpiries(expires, i, rest.fields);
      return Object.keys(read).length > 0 ? { ...rest, expires: read } : rest;
    }),
  };
  return {
    namespace: targetNs ?? l.ns,
    key: l.key,
    inc: l.inc,
    rev: l.rev,
    vv: l.vv,
    siblings: l.siblings,
    deleted: false,
    updatedAt: l.updatedAt,
  };
}

/** A line's `expires` of value `i`: a map of some of its `fields` to a due time (a whole number of ms). */
function readExpiries(raw: unknown, i: number, fields: object): Record<string, number> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ValidationError(`line.siblings[${i}].expires`, 'must be an object of field name to due time');
  const out = newMap<number>();
  for (const f of Object.keys(raw)) {
    const v = (raw as Record<string, unknown>)[f];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      throw new ValidationError(`line.siblings[${i}].expires`, `the due time of ${JSON.stringify(f)} must be epoch ms`);
    if (!Object.hasOwn(fields, f))
      throw new ValidationError(`line.siblings[${i}].expires`, `names ${JSON.stringify(f)}, which is not a field`);
    out[f] = v;
  }
  return out;
}

/** `POST /v1/snapshots`; an absent or empty body snapshots every namespace. */
export function parseCreateSnapshot(body: unknown): { namespace: string | null } {
  const b = parseBody(createSnapshotBody, body === undefined ? {} : body);
  if (b.namespace !== undefined) validateNamespace(b.namespace, 'body.namespace');
  return { namespace: b.namespace ?? null };
}

/** `POST /v1/snapshots/{id}/restore`. */
export function parseRestore(body: unknown): { namespace: string | null; mode: RestoreMode } {
  const b = parseBody(restoreBody, body);
  if (b.namespace !== undefined) validateNamespace(b.namespace, 'body.namespace');
  return { namespace: b.namespace ?? null, mode: b.mode };
}

/**
 * What a restore writes for one snapshot record, given the key's stored state: `undefined` to
 * skip it. Never lowers `rev` and never reissues an ETag: a key never written gets the snapshot's
 * state exactly; a deleted key (absent for both modes) comes back with `rev` one above its
 * tombstone's; in `newer` mode a live record with a lower `rev` is replaced, keeping its
 * incarnation and taking the snapshot's `rev`. A live record with `rev` at or above the
 * snapshot's is never touched (it is newer), nor any live record in `missing` mode, nor a record
 * of a lease.
 *
 * Writing over a stored state is a write by `replica`, as a PUT would be: the version vector
 * covers both the stored and the snapshot's history, and each restored value gets a new dot of
 * `replica`, so a writer that saw only the stored state (the tombstone, the older record) is
 * concurrent with the restored value, not after it.
 */
export function restorePlan(
  existing: RecordState | undefined,
  snap: RecordState,
  mode: RestoreMode,
  replica: string,
): RecordState | undefined {
  if (!existing) return snap;
  if (!existing.deleted && (mode === 'missing' || existing.rev >= snap.rev || existing.lease !== undefined))
    return undefined;
  const vv = merge(existing.vv, snap.vv);
  let counter = vv[replica] ?? 0;
  const siblings = snap.siblings.map((s) => ({ ...s, dot: { replica, counter: ++counter } }));
  const written = { vv: { ...vv, [replica]: counter }, siblings };
  if (existing.deleted) return { ...snap, ...written, inc: existing.inc, rev: existing.rev + 1 };
  return { ...snap, ...written, inc: existing.inc, rev: snap.rev };
}
