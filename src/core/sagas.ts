/**
 * Sagas as data: the request bodies, the built-in `transfer` saga expanded into steps, the saga
 * and step statuses, and how one step's action becomes a one-key transaction. The saga-step
 * handler (`src/sagas/step-handler.ts`) runs these against the stores; nothing here does I/O.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from './errors';
import { validateKey, validateNamespace } from './names';
import { type Numeric, compareNumeric, negateNumeric } from './decimal';
import { checkPatch, fieldRequire, fieldsSchema, numeric, parseBody, patchShape } from './schemas';
import { newMap } from './values';
import type { FieldRequire, TxnBody } from './types';

export const MAX_SAGA_STEPS = 25;

/** Saga ids become Step Functions execution names: 1 to 80 of these characters. */
export const SAGA_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

export const SAGA_STATUSES = ['RUNNING', 'SUCCEEDED', 'COMPENSATED', 'COMPENSATION_FAILED'] as const;
export type SagaStatus = (typeof SAGA_STATUSES)[number];
export const STEP_STATUSES = ['PENDING', 'DONE', 'FAILED', 'COMPENSATED', 'COMPENSATION_FAILED', 'SKIPPED'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

const sagaId = z
  .string()
  .regex(SAGA_ID_PATTERN, 'must be 1 to 80 letters, digits, ".", "_" or "-", starting with a letter or digit');
const stepName = z
  .string()
  .min(1)
  .max(128)
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');
const requires = z.array(fieldRequire).max(100).optional();

/** A record operation of a step: `put`, `patch` or `delete` of one key, with optional `require`. */
export const sagaAction = z.discriminatedUnion('op', [
  z.object({ op: z.literal('put'), key: z.string(), fields: fieldsSchema, require: requires }).strict(),
  z.object({ op: z.literal('patch'), key: z.string(), ...patchShape }).strict(),
  z.object({ op: z.literal('delete'), key: z.string(), require: requires }).strict(),
]);
export type SagaAction = z.infer<typeof sagaAction>;

const sagaStep = z.object({ name: stepName, action: sagaAction, compensation: sagaAction.optional() }).strict();
export type SagaStep = z.infer<typeof sagaStep>;

const stepsBody = z
  .object({ id: sagaId.optional(), namespace: z.string(), steps: z.array(sagaStep).min(1).max(MAX_SAGA_STEPS) })
  .strict()
  .superRefine((b, ctx) => {
    const seen = new Set<string>();
    b.steps.forEach((s, i) => {
      for (const part of ['action', 'compensation'] as const) {
        const a = s[part];
        if (a?.op !== 'patch') continue;
        const at = (issue: z.IssueData) => ctx.addIssue({ ...issue, path: ['steps', i, part, ...(issue.path ?? [])] });
        checkPatch(a, { ...ctx, addIssue: at } as z.RefinementCtx);
      }
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'name'], message: 'must be unique within the saga' });
      seen.add(s.name);
    });
  });

const transferBody = z
  .object({
    id: sagaId.optional(),
    type: z.literal('transfer'),
    input: z
      .object({
        namespace: z.string(),
        from: z.string(),
        to: z.string(),
        field: fieldRequire.innerType().shape.field,
        amount: numeric.refine((n) => compareNumeric(n, 0) > 0, 'must be a positive number'),
      })
      .strict(),
  })
  .strict();
export type TransferInput = z.infer<typeof transferBody>['input'];

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
    throw new ValidationError(field, 'must be 1 to 80 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  return id;
}

/** A step's action as a one-key transaction (its `require` clauses checked atomically with it). */
export function actionTxn(a: SagaAction): TxnBody {
  const { require, ...op } = a;
  const req = (require ?? []).map((r: FieldRequire) => ({ key: a.key, ...r }));
  return req.length > 0 ? { ops: [op], require: req } : { ops: [op] };
}

/** The Step Functions execution name of a saga: its id (ids are valid execution names). */
export function executionName(sagaId: string): string {
  return sagaId;
}

export interface StepView {
  readonly name: string;
  readonly status: StepStatus;
  readonly error: { readonly error: string; readonly cause: string } | null;
  readonly attempts: number;
}

/** `GET /v1/sagas/{id}`. */
export interface SagaView {
  readonly id: string;
  readonly type: 'steps' | 'transfer';
  readonly namespace: string;
  readonly status: SagaStatus;
  readonly executionArn: string | null;
  readonly steps: readonly StepView[];
  readonly startedAt: string;
  readonly finishedAt: string | null;
}

/** What the state machines pass to the saga-step function (see `statemachines/README.md`). */
export const stepInput = z.object({
  sagaId: z.string(),
  action: z.enum(['load', 'apply', 'abort', 'compensate', 'finish', 'fail', 'debit', 'credit', 'refund']),
  index: z.number().int().min(0).max(MAX_SAGA_STEPS).optional(),
  status: z.enum(SAGA_STATUSES).optional(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).passthrough().optional(),
});
export type StepInput = z.infer<typeof stepInput>;

/** The compensation cursor after step `index` failed or was undone. */
export function stepBack(index: number): { next: number; done: boolean } {
  return { next: index - 1, done: index === 0 };
}
