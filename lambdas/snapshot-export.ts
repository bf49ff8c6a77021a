/**
 * Lambda entry of the snapshot export function: every Task of `statemachines/snapshot.asl.json`
 * invokes it with `{snapshotId, action, ...}` (plan, one segment into one part, the manifest,
 * failure). See `src/snapshots/export.ts`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { wireSnapshotWorker } from '../src/api/wiring';
import { createExportHandler, metered } from '../src/snapshots/worker';

const logger = new Logger({ serviceName: 'vesta' });
const metrics = new Metrics({ namespace: 'Vesta', serviceName: 'vesta' });

export const handler = metered(
  createExportHandler({ ...wireSnapshotWorker({ logger, metrics }), logger, metrics }),
  metrics,
);
