/**
 * Handlers of the sagas routes. A saga is written to the saga log first (its id taken, all steps
 * PENDING), then its execution is started under a name derived from the id. Posting the same id
 * again with the same definition writes nothing and, if the first start never reached Step
 * Functions, starts it now; with another definition it is a `409` (`SagaIdReused`). A retry
 * redrives the execution of a COMPENSATION_FAILED saga.
 */
import { ConflictError, NotFoundError, ValidationError } from '../core/errors';
import type { WorkflowId, WorkflowStarter } from '../core/ports';
import { type SagaDefinition, executionName, parseSagaBody, sameDefinition, validateSagaId } from '../core/sagas';
import type { SagaLog } from '../core/saga-log';
import {
  DEFAULT_SAGA_LIMIT,
  MAX_SAGA_LIMIT,
  SAGA_STATUSES,
  type SagaPage,
  type SagaStarted,
  type SagaStatus,
  type SagaView,
} from '../core/wire/sagas';
import { json, onlyQuery } from './http';
import type { Handler } from './records-handlers';

export interface SagasDeps {
  readonly sagas: SagaLog;
  readonly workflows: WorkflowStarter;
}

const LIST_SAGAS_QUERY = ['status', 'limit', 'cursor'] as const;

const workflowOf = (type: SagaDefinition['type']): WorkflowId => (type === 'transfer' ? 'transfer' : 'saga');

export function sagasHandlers({ sagas, workflows }: SagasDeps): Record<string, Handler> {
  const view = async (id: string) => {
    const v = await sagas.view(id);
    if (!v) throw new NotFoundError(`no saga ${id}`);
    return v;
  };

  return {
    async startSaga(req) {
      const def = parseSagaBody(req.json());
      const workflow = workflowOf(def.type);
      const name = executionName(def.id);
      const executionArn = workflows.executionArn(workflow, name);
      const created = await sagas.create(def, executionArn);
      if (!created) {
        const existing = await sagas.definition(def.id);
        // A saga past its retention keeps its id until DynamoDB's TTL clean-up deletes its log.
        if (!existing)
          throw new ConflictError(
            'SagaIdReused',
            `saga ${JSON.stringify(def.id)} ended longer ago than the saga log's retention and its id is not free yet; nothing was started (use another id)`,
          );
        if (!sameDefinition(existing, def)) {
          throw new ConflictError(
            'SagaIdReused',
            `saga ${JSON.stringify(def.id)} already exists with another definition; nothing was started (use another id, or read it with GET /v1/sagas/${def.id})`,
          );
        }
      }
      const stored = created ? undefined : await sagas.saga(def.id);
      if (created || (stored && !stored.started)) {
        await workflows.start(workflowOf(stored?.type ?? def.type), name, { sagaId: def.id });
        await sagas.markStarted(def.id);
      }
      const location = { location: `/v1/sagas/${def.id}` };
      if (created) return json(202, { id: def.id, status: 'RUNNING', executionArn } satisfies SagaStarted, location);
      return json(200, (await view(def.id)) satisfies SagaView, location);
    },

    async listSagas(req) {
      onlyQuery(req, LIST_SAGAS_QUERY);
      const raw = req.query.status;
      if (raw !== undefined && !(SAGA_STATUSES as readonly string[]).includes(raw))
        throw new ValidationError(
          'status',
          `must be one of ${SAGA_STATUSES.join(', ')}. Received: ${JSON.stringify(raw)}`,
        );
      const limit = req.intQuery('limit', 1, MAX_SAGA_LIMIT, DEFAULT_SAGA_LIMIT);
      const cursor = req.query.cursor || undefined;
      const page = await sagas.list({ status: raw as SagaStatus | undefined, limit, cursor });
      return json(200, page satisfies SagaPage);
    },

    /**
     * A COMPENSATION_FAILED saga set RUNNING again (one of two concurrent retries wins), then its
     * execution redriven: it goes on from where its compensation stopped. When the redrive is
     * refused or fails, the saga is set back to COMPENSATION_FAILED (a retry may be asked again).
     */
    async retrySaga(req) {
      const id = validateSagaId(req.param('id'));
      const stored = await sagas.saga(id);
      if (!stored) throw new NotFoundError(`no saga ${id}`);
      const notRetryable = (status: string) =>
        new ConflictError(
          'SagaNotRetryable',
          `saga ${id} is ${status}; only a COMPENSATION_FAILED saga can be retried`,
        );
      if (stored.status !== 'COMPENSATION_FAILED') throw notRetryable(stored.status);
      if (!(await sagas.reopen(id))) throw notRetryable((await sagas.saga(id))?.status ?? 'unknown');
      try {
        await workflows.redrive(workflowOf(stored.type), executionName(id));
      } catch (e) {
        await sagas.finish(id, 'COMPENSATION_FAILED', ['RUNNING']).catch(() => false);
        throw e;
      }
      return json(202, (await view(id)) satisfies SagaView, { location: `/v1/sagas/${id}` });
    },

    async getSaga(req) {
      return json(200, (await view(validateSagaId(req.param('id')))) satisfies SagaView);
    },
  };
}
