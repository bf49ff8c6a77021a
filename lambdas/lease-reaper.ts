/** Lambda entry of the lease reaper (EventBridge schedule): removes expired leases and what they held. */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { wireStores } from '../src/api/wiring';

const logger = new Logger({ serviceName: 'vesta' });
const metrics = new Metrics({ namespace: 'Vesta', serviceName: 'vesta' });
const { reaper } = wireStores();

export const handler = async () => {
  const r = await reaper.run();
  metrics.addMetric('LeasesReaped', MetricUnit.Count, r.reaped);
  metrics.addMetric('LeaseRecordsExpired', MetricUnit.Count, r.recordsExpired);
  metrics.addMetric('LeaseReaperLagSeconds', MetricUnit.Seconds, r.lagSeconds);
  metrics.publishStoredMetrics();
  logger.info('lease reaper run', { ...r });
  return r;
};
