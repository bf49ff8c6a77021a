/**
 * Lambda entry of the snapshot restore function: every Task of `statemachines/restore.asl.json`
 * invokes it with `{restoreId, action, ...}` (verify every part's sha256, one part's conditional
 * writes, the counts, failure). See `src/snapshots/restore.ts`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { wireSnapshotWorker } from '../src/api/wiring';
import { createRestoreHandler, metered } from '../src/snapshots/worker';

const logger = new Logger({ serviceName: 'vesta' });
const metrics = new Metrics({ namespace: 'Vesta', serviceName: 'vesta' });

export const handler = metered(
  createRestoreHandler({ ...wireSnapshotWorker({ logger, metrics }), logger, metrics }),
  metrics,
);
