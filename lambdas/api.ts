/** Lambda entry of the HTTP API (API Gateway REST proxy integration). */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createApiHandler } from '../src/api/app';
import { wireApi } from '../src/api/wiring';

const metrics = new Metrics({ namespace: 'Vesta', serviceName: 'vesta' });

export const handler = createApiHandler({ ...wireApi(), metrics });
