/**
 * Lambda entry of the lease renewer (EventBridge schedule): keeps leases of running executions
 * alive. The API also invokes it with `{"action": "replayDeadLetter", "id"}` to replay one of its
 * dead letters (a lease it could not renew).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { sfnExecutionStatus, wireLeaseJobs } from '../src/api/wiring';
import { answerReplay, isReplayRequest } from '../src/core/dead-letters';
import { METRIC_NAMES, type MetricEmitter } from '../src/core/metric-names';

const logger = new Logger({ serviceName: 'vesta' });
const metrics = new Metrics({ namespace: 'Vesta', serviceName: 'vesta' });
/** The same metrics, named by `MetricName` only. */
const emit: MetricEmitter = metrics;
const { renewer, deadLetters } = wireLeaseJobs(sfnExecutionStatus(), { logger, metrics });

export const handler = async (event?: unknown) => {
  if (isReplayRequest(event)) {
    return answerReplay(event, {
      store: deadLetters,
      replayers: {
        renewer: (e) =>
          renewer
            .renew(String(e.item.leaseId), String((e.payload as { executionArn?: string }).executionArn ?? ''))
            .then(() => undefined),
      },
    });
  }
  const r = await renewer.run();
  emit.addMetric(METRIC_NAMES.leasesRenewed, MetricUnit.Count, r.renewed);
  metrics.publishStoredMetrics();
  logger.info('lease renewer run', { ...r });
  return r;
};
