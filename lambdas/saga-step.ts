/**
 * Lambda entry of the saga-step function: every Task of the saga state machines invokes it with
 * `{sagaId, action, index?, status?, error?}` (see `statemachines/README.md`). It applies one
 * action or compensation exactly once and returns the cursor; failures are thrown by name
 * (`Vesta.StepFailed`, `Vesta.Transient`) for the state machine's Retry and Catch.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { wireSagaStep } from '../src/api/wiring';
import { meteredStepHandler } from '../src/sagas/step-handler';

const logger = new Logger({ serviceName: 'vesta' });
const metrics = new Metrics({ namespace: 'Vesta', serviceName: 'vesta' });

export const handler = meteredStepHandler({ ...wireSagaStep(), logger, metrics });
