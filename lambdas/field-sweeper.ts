/**
 * Lambda entry of the field sweeper (EventBridge schedule): removes expired fields of records.
 * The API also invokes it with `{"action": "replayDeadLetter", "id"}` to replay one of its dead
 * letters (a record it could not sweep).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { wireFieldSweeper } from '../src/api/wiring';
import { answerReplay, isReplayRequest } from '../src/core/dead-letters';
import { METRIC_NAMES, type MetricEmitter } from '../src/core/metric-names';

const logger = new Logger({ serviceName: 'vesta' });
const metrics = new Metrics({ namespace: 'Vesta', serviceName: 'vesta' });
/** The same metrics, named by `MetricName` only. */
const emit: MetricEmitter = metrics;
const { sweeper, deadLetters } = wireFieldSweeper({ logger, metrics });

export const handler = async (event?: unknown) => {
  if (isReplayRequest(event))
    return answerReplay(event, {
      store: deadLetters,
      replayers: {
        sweeper: (e) => sweeper.sweep(String(e.item.namespace), String(e.item.key)).then(() => undefined),
      },
    });
  const r = await sweeper.run();
  emit.addMetric(METRIC_NAMES.fieldSweeperLagSeconds, MetricUnit.Seconds, r.lagSeconds);
  emit.addMetric(METRIC_NAMES.fieldsExpired, MetricUnit.Count, r.fieldsRemoved);
  emit.addMetric(METRIC_NAMES.fieldSweeperItemsRead, MetricUnit.Count, r.itemsRead);
  metrics.publishStoredMetrics();
  logger.info('field sweeper run', { ...r });
  return r;
};
