/**
 * Bodies of the snapshot and restore routes as zod schemas, the types inferred from them:
 * `POST /v1/snapshots`, `POST /v1/snapshots/{id}/restore`, the manifest (`GET /v1/snapshots/{id}`,
 * and `manifest.json` of the `vesta-snapshot/1` format) and a restore as it stands. Requests are
 * strict; responses are built by the snapshot store and the workers, never parsed.
 */
import { z } from 'zod';
import { timestamp } from './fields';

export const SNAPSHOT_FORMAT = 'vesta-snapshot/1';
export const SNAPSHOT_STATUSES = ['RUNNING', 'COMPLETE', 'FAILED'] as const;
export type SnapshotStatus = (typeof SNAPSHOT_STATUSES)[number];
export const RESTORE_MODES = ['missing', 'newer'] as const;
export type RestoreMode = (typeof RESTORE_MODES)[number];

/** `POST /v1/snapshots`; no namespace: every namespace. */
export const createSnapshotBody = z.object({ namespace: z.string().optional() }).strict();
export type CreateSnapshotBody = z.infer<typeof createSnapshotBody>;

/** `POST /v1/snapshots/{id}/restore`; no namespace: each record into its own. */
export const restoreBody = z.object({ namespace: z.string().optional(), mode: z.enum(RESTORE_MODES) }).strict();
export type RestoreBody = z.infer<typeof restoreBody>;

/** `POST /v1/snapshots/import`: where the snapshots to import are (parsed further by `parseLocation`). */
export const importSnapshotsBody = z.object({ location: z.string().min(1).max(1024) }).strict();
export type ImportSnapshotsBody = z.infer<typeof importSnapshotsBody>;

/** `202` of `POST /v1/snapshots`. */
export const snapshotStarted = z.object({ id: z.string(), status: z.literal('RUNNING') }).readonly();
export type SnapshotStarted = z.infer<typeof snapshotStarted>;

/** `202` of `POST /v1/snapshots/{id}/restore`. */
export const restoreStarted = z
  .object({ id: z.string(), status: z.literal('RUNNING'), snapshotId: z.string() })
  .readonly();
export type RestoreStarted = z.infer<typeof restoreStarted>;

/** One part of a snapshot. */
export const partInfo = z
  .object({
    name: z.string(),
    items: z.number().int(),
    /** Bytes of the part object (gzip). */
    bytes: z.number().int(),
    /** sha256 of the part object, lowercase hex. */
    sha256: z.string(),
    /** Records of this part's segment set aside as dead letters instead (absent: none). */
    setAside: z.number().int().optional(),
  })
  .readonly();
export type PartInfo = z.infer<typeof partInfo>;

const manifestShape = {
  id: z.string(),
  /** `null`: every namespace. */
  namespace: z.string().nullable(),
  status: z.enum(SNAPSHOT_STATUSES),
  items: z.number().int(),
  bytes: z.number().int(),
  /**
   * Records that could not be exported and were set aside as dead letters (source `snapshot`)
   * instead; the snapshot is COMPLETE without them. Absent in manifests written before it existed.
   */
  setAside: z.number().int().optional(),
  parts: z.array(partInfo).readonly(),
  startedAt: timestamp,
  finishedAt: timestamp.nullable(),
  format: z.literal(SNAPSHOT_FORMAT),
  /**
   * The instant the snapshot stands for (COMPLETE only): every record in it is exactly as it stood
   * then, so a committed txn is wholly in or wholly out. Absent in manifests written before it existed.
   */
  cut: timestamp.optional(),
  /** Why it FAILED. */
  error: z.string().optional(),
};

/** The manifest (or, while RUNNING or after FAILED, what is known), as `manifest.json` holds it. */
export const snapshotManifest = z.object(manifestShape).readonly();
export type SnapshotManifest = z.infer<typeof snapshotManifest>;

/** `GET /v1/snapshots/{id}` and the items of `GET /v1/snapshots`: the manifest and its `segments` (the parts it will have). */
export const snapshotView = z.object({ ...manifestShape, segments: z.number().int() }).readonly();
export type SnapshotView = z.infer<typeof snapshotView>;

/** `GET /v1/snapshots`: newest first. */
export const snapshotList = z.object({ items: z.array(snapshotView).readonly() }).readonly();
export type SnapshotList = z.infer<typeof snapshotList>;

/** `GET /v1/restores/{id}`. */
export const restoreView = z
  .object({
    id: z.string(),
    snapshotId: z.string(),
    /** Target namespace; `null`: each record into its own namespace. */
    namespace: z.string().nullable(),
    mode: z.enum(RESTORE_MODES),
    status: z.enum(SNAPSHOT_STATUSES),
    written: z.number().int(),
    skipped: z.number().int(),
    /** Snapshot records that could not be restored and were set aside as dead letters (source `restore`). */
    setAside: z.number().int().optional(),
    startedAt: timestamp,
    finishedAt: timestamp.nullable(),
    error: z.string().optional(),
  })
  .readonly();
export type RestoreView = z.infer<typeof restoreView>;
