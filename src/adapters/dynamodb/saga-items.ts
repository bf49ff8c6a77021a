/**
 * Saga log items as the domain reads them: a saga's header (`StoredSaga`) and its steps
 * (`StoredStep`), their actions parsed back with exact numbers.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { parseJson } from '../../core/json';
import { type SagaAction, sagaAction } from '../../core/sagas';
import type { StoredSaga, StoredStep } from '../../core/saga-log';
import { parseBody } from '../../core/wire/parse';

/** A stored action, read back with exact numbers and null-prototype maps (as it was validated). */
function readAction(text: string): SagaAction {
  return parseBody(sagaAction, parseJson(text, Infinity));
}

/** A step item. */
export function toStep(it: Record<string, AttributeValue>): StoredStep {
  const o = unmarshall(it);
  return {
    index: o.idx,
    count: o.count,
    name: o.name,
    namespace: o.ns,
    action: readAction(o.action),
    compensation: o.comp ? readAction(o.comp) : undefined,
    status: o.status,
    attempts: o.attempts ?? 0,
    compensationAttempts: o.undoAttempts ?? 0,
    error: o.error,
  };
}

/** A header item. */
export function toSaga(it: Record<string, AttributeValue>): StoredSaga {
  const { id, ns, type, status, executionArn, started, count, startedAt, finishedAt, retries } = unmarshall(it);
  return {
    id,
    namespace: ns,
    type,
    status,
    executionArn,
    started: started === true,
    count,
    startedAt,
    finishedAt,
    retries: retries ?? 0,
  };
}
