/**
 * The contract of `SnapshotStore` (`src/core/ports.ts`): snapshots and restores recorded RUNNING,
 * moved once to COMPLETE or FAILED, snapshots listed newest first, and the age of the newest
 * COMPLETE snapshot, and `unfinished()`, what the local stack starts again. Snapshots are made
 * at times of the fixture's clock, far after those of other suites, so that this suite's are the
 * newest.
 */
import { SNAPSHOT_FORMAT, newId } from '../../../src/core/snapshots';
import type { PartInfo, RestoreView } from '../../../src/core/snapshots';
import type { SnapshotStore } from '../../../src/core/ports';
import { uniqueNs } from '../harness';
import type { FakeClock } from './clock';

export interface SnapshotStoreFixture {
  readonly store: SnapshotStore;
  /** The clock the store stamps statuses with; the suite moves it forward. */
  readonly clock: FakeClock;
}

const part = (n: number, items: number, setAside?: number): PartInfo => ({
  name: `part-${String(n).padStart(5, '0')}.jsonl.gz`,
  items,
  bytes: items * 100,
  sha256: String(n).repeat(64).slice(0, 64),
  ...(setAside ? { setAside } : {}),
});

export function snapshotStoreContract(backend: string, make: () => SnapshotStoreFixture): void {
  describe(`SnapshotStore contract (${backend})`, () => {
    let f: SnapshotStoreFixture;
    beforeEach(() => {
      f = make();
    });

    /** A new snapshot id, a second after the previous one. */
    const snapId = () => {
      f.clock.advance(1);
      return newId('snap', f.clock.now());
    };

    const restoreOf = (
      snapshotId: string,
    ): Omit<RestoreView, 'status' | 'written' | 'skipped' | 'finishedAt' | 'error'> => ({
      id: newId('rest', f.clock.now()),
      snapshotId,
      namespace: uniqueNs('restore-contract'),
      mode: 'missing',
      startedAt: f.clock.now().toISOString(),
    });

    test('a snapshot is recorded RUNNING, lists its parts as they are done, and completes once with its parts', async () => {
      const ns = uniqueNs('snap-contract');
      const id = snapId();
      const startedAt = f.clock.now().toISOString();
      const running = {
        id,
        namespace: ns,
        status: 'RUNNING',
        items: 0,
        bytes: 0,
        parts: [],
        startedAt,
        finishedAt: null,
      };
      expect(await f.store.createSnapshot(id, ns, 2)).toMatchObject({ ...running, format: SNAPSHOT_FORMAT });
      expect(await f.store.getSnapshot(id)).toMatchObject({ ...running, segments: 2 });

      await f.store.partDone(id, part(1, 5));
      expect(await f.store.getSnapshot(id)).toMatchObject({
        status: 'RUNNING',
        items: 5,
        bytes: 500,
        parts: [part(1, 5)],
      });

      f.clock.advance(10);
      const finishedAt = f.clock.now().toISOString();
      const done = await f.store.completeSnapshot(id, [part(0, 3), part(1, 5)]);
      expect(done).toMatchObject({
        id,
        status: 'COMPLETE',
        items: 8,
        bytes: 800,
        parts: [part(0, 3), part(1, 5)],
        finishedAt,
      });
      f.clock.advance(10);
      expect(await f.store.completeSnapshot(id, [part(0, 3), part(1, 5)])).toEqual(done);
      await f.store.partDone(id, part(2, 1));
      await f.store.failSnapshot(id, 'too late');
      expect(await f.store.getSnapshot(id)).toEqual({ ...done, segments: 2 });
      expect(await f.store.getSnapshot(snapId())).toBeUndefined();
    });

    test('a RUNNING snapshot fails once, with its error', async () => {
      const id = snapId();
      await f.store.createSnapshot(id, null, 4);
      const failedAt = f.clock.now().toISOString();
      await f.store.failSnapshot(id, 'the scan failed');
      f.clock.advance(5);
      await f.store.failSnapshot(id, 'again');
      expect(await f.store.getSnapshot(id)).toMatchObject({
        id,
        namespace: null,
        status: 'FAILED',
        error: 'the scan failed',
        finishedAt: failedAt,
        segments: 4,
      });
    });

    test("snapshots list newest first; a namespace's list holds its own and the whole-store ones", async () => {
      const ns = uniqueNs('snap-contract');
      const other = uniqueNs('snap-contract');
      const ids: string[] = [];
      for (const n of [ns, null, other, ns]) {
        const id = snapId();
        ids.push(id);
        await f.store.createSnapshot(id, n, 1);
      }
      const mine = (list: { id: string }[]) => list.map((s) => s.id).filter((id) => ids.includes(id));
      expect(mine(await f.store.listSnapshots())).toEqual([ids[3], ids[2], ids[1], ids[0]]);
      expect(mine(await f.store.listSnapshots(ns))).toEqual([ids[3], ids[1], ids[0]]);
      expect(mine(await f.store.listSnapshots(other))).toEqual([ids[2], ids[1]]);
    });

    test('the age of the newest COMPLETE snapshot follows the clock, and an older one completing later does not move it back', async () => {
      f.clock.advance(24 * 3600);
      const older = snapId();
      const newer = snapId();
      const failed = snapId();
      for (const id of [older, newer, failed]) await f.store.createSnapshot(id, null, 1);
      await f.store.completeSnapshot(newer, [part(0, 1)]);
      f.clock.advance(30);
      expect(await f.store.latestCompleteAgeSeconds()).toBe(30);
      // `older` finishes later than `newer`: it is now the newest to have finished.
      await f.store.completeSnapshot(older, [part(0, 1)]);
      f.clock.advance(5);
      expect(await f.store.latestCompleteAgeSeconds()).toBe(5);
      await f.store.failSnapshot(failed, 'not complete');
      expect(await f.store.latestCompleteAgeSeconds()).toBe(5);
    });

    test('a part added to a COMPLETE snapshot replaces its parts while it still has the items expected', async () => {
      const id = snapId();
      await f.store.createSnapshot(id, null, 1);
      await f.store.completeSnapshot(id, [part(0, 4, 1)]);
      const parts = [part(0, 4, 1), part(1, 1)];
      expect(await f.store.addPart(id, 4, parts)).toBe(true);
      expect(await f.store.getSnapshot(id)).toMatchObject({ status: 'COMPLETE', items: 5, bytes: 500, parts });
      expect(await f.store.addPart(id, 4, [...parts, part(2, 1)])).toBe(false);
      expect(await f.store.getSnapshot(id)).toMatchObject({ items: 5, parts });
    });

    test('a restore is recorded RUNNING and finishes once with its counts', async () => {
      const view = restoreOf(snapId());
      const running = { ...view, status: 'RUNNING', written: 0, skipped: 0, finishedAt: null };
      expect(await f.store.createRestore(view)).toMatchObject(running);
      expect(await f.store.getRestore(view.id)).toMatchObject(running);

      f.clock.advance(7);
      const done = await f.store.finishRestore(view.id, 10, 2, 1);
      expect(done).toMatchObject({
        ...view,
        status: 'COMPLETE',
        written: 10,
        skipped: 2,
        setAside: 1,
        finishedAt: f.clock.now().toISOString(),
      });
      f.clock.advance(7);
      expect(await f.store.finishRestore(view.id, 99, 99)).toEqual(done);
      await f.store.failRestore(view.id, 'too late');
      expect(await f.store.getRestore(view.id)).toEqual(done);
      expect(await f.store.getRestore(newId('rest', f.clock.now()))).toBeUndefined();
    });

    test('a set-aside record settled by a replay moves from setAside to written or skipped', async () => {
      const view = restoreOf(snapId());
      await f.store.createRestore(view);
      await f.store.finishRestore(view.id, 10, 2, 2);
      await f.store.settleSetAside(view.id, part(0, 0).name, true);
      await f.store.settleSetAside(view.id, part(0, 0).name, false);
      expect(await f.store.getRestore(view.id)).toMatchObject({ written: 11, skipped: 3, setAside: 0 });
      await f.store.settleSetAside(view.id, part(0, 0).name, true);
      expect(await f.store.getRestore(view.id)).toMatchObject({ written: 11, skipped: 3, setAside: 0 });
    });

    test('a RUNNING restore fails once, with its error and nothing committed', async () => {
      const view = restoreOf(snapId());
      await f.store.createRestore(view);
      const failedAt = f.clock.now().toISOString();
      await f.store.failRestore(view.id, 'the part is corrupt');
      f.clock.advance(5);
      await f.store.failRestore(view.id, 'again');
      expect(await f.store.getRestore(view.id)).toMatchObject({
        status: 'FAILED',
        error: 'the part is corrupt',
        written: 0,
        skipped: 0,
        finishedAt: failedAt,
      });
    });

    test('unfinished() gives the snapshots and restores still RUNNING, and none that ended', async () => {
      const [running, completed, failed] = [snapId(), snapId(), snapId()];
      for (const id of [running, completed, failed]) await f.store.createSnapshot(id, null, 1);
      await f.store.completeSnapshot(completed, []);
      await f.store.failSnapshot(failed, 'boom');
      const [runningRestore, finishedRestore, failedRestore] = [
        restoreOf(running),
        restoreOf(completed),
        restoreOf(failed),
      ];
      for (const r of [runningRestore, finishedRestore, failedRestore]) await f.store.createRestore(r);
      await f.store.finishRestore(finishedRestore.id, 1, 0);
      await f.store.failRestore(failedRestore.id, 'boom');

      const { snapshots, restores } = await f.store.unfinished();
      expect(snapshots).toContain(running);
      expect(snapshots).not.toContain(completed);
      expect(snapshots).not.toContain(failed);
      expect(restores).toContain(runningRestore.id);
      expect(restores).not.toContain(finishedRestore.id);
      expect(restores).not.toContain(failedRestore.id);
    });
  });
}
