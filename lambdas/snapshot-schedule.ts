/**
 * Lambda entry of the snapshot schedule function. EventBridge invokes it with
 * `{"action": "scheduledStart"}` on the snapshot schedule (a whole-store snapshot) and with
 * `{"action": "reportAge"}` every few minutes (the `LatestSnapshotAgeSeconds` metric that the
 * age alarm watches). See `src/snapshots/worker.ts`. The local stack runs the same handler on
 * the same schedule (`src/local/stack.ts`).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { wireSnapshotWorker } from '../src/api/wiring';
import { createScheduleHandler, metered } from '../src/snapshots/worker';

const logger = new Logger({ serviceName: 'vesta' });
const metrics = new Metrics({ namespace: 'Vesta', serviceName: 'vesta' });
const deps = wireSnapshotWorker({ startsSnapshots: true });

export const handler = metered(
  createScheduleHandler({ ...deps, logger, metrics }, { segments: deps.segments }),
  metrics,
);
