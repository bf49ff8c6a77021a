/**
 * Lambda entry of the lease reaper (EventBridge schedule): removes expired leases and what they
 * held. The API also invokes it with `{"action": "replayDeadLetter", "id"}` to replay one of its
 * dead letters (a lease it could not reap).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { wireStores } from '../src/api/wiring';
import { answerReplay, isReplayRequest } from '../src/core/dead-letters';
import { METRIC_NAMES, type MetricEmitter } from '../src/core/metric-names';

const logger = new Logger({ serviceName: 'vesta' });
const metrics = new Metrics({ namespace: 'Vesta', serviceName: 'vesta' });
/** The same metrics, named by `MetricName` only. */
const emit: MetricEmitter = metrics;
const { reaper, deadLetters } = wireStores({ logger, metrics });

export const handler = async (event?: unknown) => {
  if (isReplayRequest(event))
    return answerReplay(event, {
      store: deadLetters,
      replayers: { reaper: (e) => reaper.reap(String(e.item.leaseId)).then(() => undefined) },
    });
  const r = await reaper.run();
  emit.addMetric(METRIC_NAMES.leasesReaped, MetricUnit.Count, r.reaped);
  emit.addMetric(METRIC_NAMES.leaseRecordsExpired, MetricUnit.Count, r.recordsExpired);
  emit.addMetric(METRIC_NAMES.leaseReaperLagSeconds, MetricUnit.Seconds, r.lagSeconds);
  metrics.publishStoredMetrics();
  logger.info('lease reaper run', { ...r });
  return r;
};
