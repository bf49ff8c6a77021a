/**
 * Sagas as data: the request bodies parsed (their schemas are in `wire/sagas.ts`), the built-in
 * `transfer` saga expanded into steps, and how one step's action becomes a one-key transaction.
 * The saga-step handler (`src/sagas/step-handler.ts`) runs these against the stores; nothing
 * here does I/O.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from './errors';
import { validateKey, validateNamespace } from './names';
import { type Numeric, isNumeric, negateNumeric, numericText } from './decimal';
import { newMap } from './values';
import type { FieldRequire, TxnBody } from './types';
import { parseBody } from './wire/parse';
import {
  MAX_SAGA_STEPS,
  SAGA_ID_MESSAGE,
  SAGA_ID_PATTERN,
  SAGA_STATUSES,
  type SagaAction,
  type SagaStep,
  type TransferInput,
  stepsBody,
  transferBody,
} from './wire/sagas';

export { MAX_SAGA_STEPS, SAGA_ID_PATTERN, SAGA_STATUSES, STEP_STATUSES, sagaAction } from './wire/sagas';
export type { SagaAction, SagaStatus, SagaStep, SagaView, StepStatus, StepView, TransferInput } from './wire/sagas';

/** A saga as stored in the log: the steps to run and the state machine that runs them. */
export interface SagaDefinition {
  readonly id: string;
  readonly namespace: string;
  /** `steps` runs on the generic saga runner; `transfer` on its own state machine. */
  readonly type: 'steps' | 'transfer';
  readonly steps: readonly SagaStep[];
  readonly input?: TransferInput;
}

/** The two steps of a transfer: debit `from` (requiring enough), credit `to`; each undoable. */
export function transferSteps(t: TransferInput): SagaStep[] {
  const { from, to, field, amount } = t;
  const by = (n: Numeric) => Object.assign(newMap<Numeric>(), { [field]: n });
  const minus = negateNumeric(amount);
  return [
    {
      name: 'debit',
      action: { op: 'patch', key: from, increment: by(minus), require: [{ field, op: '>=', value: amount }] },
      compensation: { op: 'patch', key: from, increment: by(amount) },
    },
    {
      name: 'credit',
      action: { op: 'patch', key: to, increment: by(amount) },
      compensation: { op: 'patch', key: to, increment: by(minus), require: [{ field, op: '>=', value: amount }] },
    },
  ];
}

/**
 * Parses `POST /v1/sagas`: a list of steps, or `type: "transfer"` with its input. Throws
 * `ValidationError` naming the offending field. Makes a UUID when `id` is omitted.
 */
export function parseSagaBody(body: unknown): SagaDefinition {
  const isTransfer = typeof body === 'object' && body !== null && !Array.isArray(body) && 'type' in body;
  if (isTransfer) {
    const b = parseBody(transferBody, body);
    const { namespace, from, to } = b.input;
    validateNamespace(namespace, 'body.input.namespace');
    validateKey(from, 'body.input.from');
    validateKey(to, 'body.input.to');
    if (from === to) throw new ValidationError('body.input.to', 'must differ from body.input.from');
    return { id: b.id ?? randomUUID(), namespace, type: 'transfer', steps: transferSteps(b.input), input: b.input };
  }
  const b = parseBody(stepsBody, body);
  validateNamespace(b.namespace, 'body.namespace');
  b.steps.forEach((s, i) => {
    validateKey(s.action.key, `body.steps[${i}].action.key`);
    if (s.compensation) validateKey(s.compensation.key, `body.steps[${i}].compensation.key`);
  });
  return { id: b.id ?? randomUUID(), namespace: b.namespace, type: 'steps', steps: b.steps };
}

/** Validates a saga id from a path. Throws `ValidationError`. */
export function validateSagaId(id: string, field = 'id'): string {
  if (!SAGA_ID_PATTERN.test(id)) {
    throw new ValidationError(field, SAGA_ID_MESSAGE);
  }
  return id;
}

/** A step's action as a one-key transaction (its `require` clauses checked atomically with it). */
export function actionTxn(a: SagaAction): TxnBody {
  const { require, ...op } = a;
  const req = (require ?? []).map((r: FieldRequire) => ({ key: a.key, ...r }));
  return req.length > 0 ? { ops: [op], require: req } : { ops: [op] };
}

/**
 * A value in canonical form for comparing definitions: maps by sorted member names (own members
 * only, `undefined` ones left out), numbers by their exact decimal text, lists in order. Each
 * number, list and map is tagged (`{n}`, `{l}`, `{m}`), so no two different values share a form.
 */
function canonical(v: unknown): unknown {
  if (isNumeric(v)) return { n: numericText(v) };
  if (Array.isArray(v)) return { l: v.map(canonical) };
  if (typeof v !== 'object' || v === null) return v;
  const rec = v as Record<string, unknown>;
  return {
    m: Object.keys(rec)
      .filter((k) => rec[k] !== undefined)
      .sort()
      .map((k) => [k, canonical(rec[k])]),
  };
}

/** An action without what changes nothing about it: an empty `require` is no `require`. */
function canonicalAction(a: SagaAction | undefined): unknown {
  if (!a) return null;
  const { require, ...rest } = a;
  return canonical(require && require.length > 0 ? a : rest);
}

/**
 * A definition as one string, equal for two definitions exactly when they describe the same saga:
 * the same built-in `type` with the same `input`, or the same namespace and steps (names, actions,
 * compensations, in order), whatever the order of members or the way a number is written.
 */
export function definitionFingerprint(def: Pick<SagaDefinition, 'namespace' | 'type' | 'steps' | 'input'>): string {
  const form =
    def.type === 'transfer'
      ? ['transfer', canonical(def.input)]
      : [
          'steps',
          def.namespace,
          def.steps.map((s) => [s.name, canonicalAction(s.action), canonicalAction(s.compensation)]),
        ];
  return JSON.stringify(form);
}

/** Whether two definitions describe the same saga (ids aside); see `definitionFingerprint`. */
export function sameDefinition(
  a: Pick<SagaDefinition, 'namespace' | 'type' | 'steps' | 'input'>,
  b: Pick<SagaDefinition, 'namespace' | 'type' | 'steps' | 'input'>,
): boolean {
  return definitionFingerprint(a) === definitionFingerprint(b);
}

/** The Step Functions execution name of a saga: its id (ids are valid execution names). */
export function executionName(sagaId: string): string {
  return sagaId;
}

/** What the state machines pass to the saga-step function (see `statemachines/README.md`). */
export const stepInput = z.object({
  sagaId: z.string(),
  action: z.enum(['load', 'apply', 'abort', 'compensate', 'finish', 'fail', 'resume', 'debit', 'credit', 'refund']),
  index: z.number().int().min(0).max(MAX_SAGA_STEPS).optional(),
  /** The name of step `index`, as the state machine names it in the execution history. */
  step: z.string().optional(),
  status: z.enum(SAGA_STATUSES).optional(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).passthrough().optional(),
});
export type StepInput = z.infer<typeof stepInput>;

/** The compensation cursor after step `index` failed or was undone. */
export function stepBack(index: number): { next: number; done: boolean } {
  return { next: index - 1, done: index === 0 };
}
