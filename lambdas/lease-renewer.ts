/** Lambda entry of the lease renewer (EventBridge schedule): keeps leases of running executions alive. */
import { SFNClient } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { SfnExecutionStatus } from '../src/adapters/sfn/execution-status';
import { wireLeaseJobs } from '../src/api/wiring';

const logger = new Logger({ serviceName: 'vesta' });
const metrics = new Metrics({ namespace: 'Vesta', serviceName: 'vesta' });
const { renewer } = wireLeaseJobs(new SfnExecutionStatus(new SFNClient({ maxAttempts: 4 })));

export const handler = async () => {
  const r = await renewer.run();
  metrics.addMetric('LeasesRenewed', MetricUnit.Count, r.renewed);
  metrics.publishStoredMetrics();
  logger.info('lease renewer run', { ...r });
  return r;
};
