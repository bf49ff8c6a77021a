/**
 * Handlers of the snapshot routes. A snapshot (or restore) is recorded RUNNING first, then its
 * execution is started under its id; when the start fails the record is marked FAILED at once,
 * so no snapshot stays RUNNING without a workflow behind it. Reads answer from the snapshot store.
 */
import { ConflictError, NotFoundError, UnavailableError, ValidationError } from '../core/errors';
import type { SnapshotStore, WorkflowStarter } from '../core/ports';
import { SNAPSHOT_ID_PATTERN, newId, parseCreateSnapshot, parseRestore } from '../core/snapshots';
import { validateNamespace } from '../core/names';
import { type ImportDeps, type ImportResult, importSnapshots, parseImport } from '../core/snapshot-import';
import type { RestoreStarted, RestoreView, SnapshotList, SnapshotStarted, SnapshotView } from '../core/wire/snapshots';
import { json } from './http';
import type { Handler } from './records-handlers';

export interface SnapshotsDeps {
  readonly snapshots: SnapshotStore;
  readonly workflows: WorkflowStarter;
  readonly clock: { now(): Date };
  /** Scan segments (parts) of a whole-store snapshot. */
  readonly snapshotSegments: number;
  /** What `POST /v1/snapshots/import` reads, copies into and registers with. @default none: it answers 503 */
  readonly snapshotImport?: ImportDeps;
}

const LIST_QUERY = new Set(['namespace']);

export function snapshotsHandlers({
  snapshots,
  workflows,
  clock,
  snapshotSegments,
  snapshotImport,
}: SnapshotsDeps): Record<string, Handler> {
  // An id that cannot name a snapshot (or restore) names none: 404, like an unknown one.
  const known = (id: string, kind: 'snap' | 'rest') => SNAPSHOT_ID_PATTERN.test(id) && id.startsWith(`${kind}-`);
  const snapshotView = async (id: string) => {
    const s = known(id, 'snap') ? await snapshots.getSnapshot(id) : undefined;
    if (!s) throw new NotFoundError(`no snapshot ${id}`);
    return s;
  };

  return {
    async createSnapshot(req) {
      const { namespace } = parseCreateSnapshot(req.rawBody?.trim() ? req.json() : {});
      const id = newId('snap', clock.now());
      await snapshots.createSnapshot(id, namespace, namespace === null ? snapshotSegments : 1);
      try {
        await workflows.start('snapshot', id, { snapshotId: id });
      } catch (e) {
        await snapshots
          .failSnapshot(id, `the export workflow could not be started: ${(e as Error).message}`)
          .catch(() => undefined);
        throw e;
      }
      return json(202, { id, status: 'RUNNING' } satisfies SnapshotStarted, { location: `/v1/snapshots/${id}` });
    },

    async listSnapshots(req) {
      for (const name of Object.keys(req.query)) {
        if (!LIST_QUERY.has(name))
          throw new ValidationError(`query.${name}`, 'is not a query parameter of this list; use namespace');
      }
      const ns = req.query.namespace;
      if (ns !== undefined) validateNamespace(ns, 'query.namespace');
      return json(200, { items: await snapshots.listSnapshots(ns) } satisfies SnapshotList);
    },

    async getSnapshot(req) {
      return json(200, (await snapshotView(req.param('id'))) satisfies SnapshotView);
    },

    async restoreSnapshot(req) {
      const snapshotId = req.param('id');
      const { namespace, mode } = parseRestore(req.json());
      const s = await snapshotView(snapshotId);
      if (s.status !== 'COMPLETE') {
        throw new ConflictError(
          'SnapshotNotComplete',
          `snapshot ${snapshotId} is ${s.status}; only a COMPLETE snapshot can be restored`,
        );
      }
      const id = newId('rest', clock.now());
      await snapshots.createRestore({ id, snapshotId, namespace, mode, startedAt: clock.now().toISOString() });
      try {
        await workflows.start('restore', id, { restoreId: id });
      } catch (e) {
        await snapshots
          .failRestore(id, `the restore workflow could not be started: ${(e as Error).message}`)
          .catch(() => undefined);
        throw e;
      }
      return json(202, { id, status: 'RUNNING', snapshotId } satisfies RestoreStarted, {
        location: `/v1/restores/${id}`,
      });
    },

    async importSnapshots(req) {
      const { parsed } = parseImport(req.json());
      if (!snapshotImport) throw new UnavailableError('this deployment has no snapshot blob store to import into', 60);
      return json(200, { items: await importSnapshots(snapshotImport, parsed) } satisfies ImportResult);
    },

    async getRestore(req) {
      const id = req.param('id');
      const r = known(id, 'rest') ? await snapshots.getRestore(id) : undefined;
      if (!r) throw new NotFoundError(`no restore ${id}`);
      return json(200, r satisfies RestoreView);
    },
  };
}
