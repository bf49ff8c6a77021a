/**
 * The snapshot functions' handlers, shared by the Lambda entries and the local stack:
 *
 * - the export function runs the Tasks of `statemachines/snapshot.asl.json`
 *   (`exportPlan`, `exportSegment`, `exportFinish`, `exportFail`);
 * - the restore function runs those of `statemachines/restore.asl.json`
 *   (`restoreVerify`, `restorePart`, `restoreFinish`, `restoreFail`);
 * - the schedule function takes a whole-store snapshot (`scheduledStart`, on the schedule) and
 *   reports the age of the newest complete snapshot as a metric (`reportAge`, every few minutes),
 *   which the age alarm watches.
 *
 * Failures are thrown by name for the state machines' Retry and Catch: `Vesta.Transient`
 * (throttling, an unavailable store: retried), `Vesta.StepFailed` and `Vesta.ChecksumMismatch`
 * (not retried).
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { METRIC_NAMES } from '../core/metric-names';
import { newId } from '../core/snapshots';
import { STEP_FAILED, stepError } from '../sagas/step-errors';
import type { SnapshotWorkerDeps } from './deps';
import { exportActions } from './export';
import { replayRestoreEntry, restoreActions } from './restore';
import { replaySnapshotEntry } from './replay';
import { type DeadLetter, answerReplay, isReplayRequest } from '../core/dead-letters';

export type Action = (input: Record<string, unknown>) => Promise<unknown>;
export type WorkerHandler = (event: unknown) => Promise<unknown>;

const actionOf = z.object({ action: z.string() }).passthrough();

function workerError(e: unknown): Error {
  if (e instanceof z.ZodError)
    return Object.assign(
      new Error(`bad task input: ${e.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`),
      { name: STEP_FAILED },
    );
  return stepError(e);
}

function dispatcher(actions: Record<string, Action>, deps: SnapshotWorkerDeps): WorkerHandler {
  return async (event) => {
    let input: z.infer<typeof actionOf>;
    try {
      input = actionOf.parse(event ?? {});
    } catch (e) {
      throw workerError(e);
    }
    const run = Object.hasOwn(actions, input.action) ? actions[input.action] : undefined;
    if (!run) throw Object.assign(new Error(`unknown action ${JSON.stringify(input.action)}`), { name: STEP_FAILED });
    try {
      return await run(input);
    } catch (e) {
      const err = workerError(e);
      deps.logger?.warn('snapshot task failed', { action: input.action, error: err.name, detail: err.message });
      throw err;
    }
  };
}

/** How scheduled snapshots are taken. */
export interface ScheduleOptions {
  /** Scan segments of a whole-store snapshot. */
  readonly segments: number;
}

export function scheduleActions(
  deps: SnapshotWorkerDeps,
  opts: ScheduleOptions,
): Record<'scheduledStart' | 'reportAge', Action> {
  return {
    async scheduledStart() {
      if (!deps.workflows) throw new Error('the schedule function has no workflow starter');
      const id = newId('snap', deps.clock.now());
      await deps.store.createSnapshot(id, null, opts.segments);
      await deps.workflows.start('snapshot', id, { snapshotId: id });
      deps.logger?.info('scheduled snapshot started', { snapshotId: id, segments: opts.segments });
      return { snapshotId: id };
    },
    async reportAge() {
      const age = await deps.store.latestCompleteAgeSeconds();
      // No metric while there is no complete snapshot: the alarm treats missing data as breaching.
      if (age !== null) deps.metrics?.addMetric(METRIC_NAMES.latestSnapshotAgeSeconds, MetricUnit.Seconds, age);
      return { latestSnapshotAgeSeconds: age };
    },
  };
}

/** Replays of the function's own dead letters (`{"action": "replayDeadLetter", "id"}`, from the API). */
function replayAction(deps: SnapshotWorkerDeps, source: 'snapshot' | 'restore'): Record<'replayDeadLetter', Action> {
  const replayers =
    source === 'snapshot'
      ? { snapshot: (e: DeadLetter) => replaySnapshotEntry(e, deps) }
      : { restore: (e: DeadLetter) => replayRestoreEntry(e, deps) };
  return {
    async replayDeadLetter(input) {
      if (!isReplayRequest(input))
        throw Object.assign(new Error('replayDeadLetter needs an id'), { name: STEP_FAILED });
      return answerReplay(input, { store: deps.deadLetters, replayers });
    },
  };
}

export const createExportHandler = (deps: SnapshotWorkerDeps): WorkerHandler =>
  dispatcher({ ...exportActions(deps), ...replayAction(deps, 'snapshot') }, deps);
export const createRestoreHandler = (deps: SnapshotWorkerDeps): WorkerHandler =>
  dispatcher({ ...restoreActions(deps), ...replayAction(deps, 'restore') }, deps);
export const createScheduleHandler = (deps: SnapshotWorkerDeps, opts: ScheduleOptions): WorkerHandler =>
  dispatcher(scheduleActions(deps, opts), deps);

/** Publishes the metrics a handler stored, after every invocation (Lambda entries). */
export function metered(handler: WorkerHandler, metrics: Metrics): WorkerHandler {
  return async (event) => {
    try {
      return await handler(event);
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
