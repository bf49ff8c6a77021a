/**
 * Bodies of the sagas routes as zod schemas, the types inferred from them: `POST /v1/sagas` (a
 * list of steps, or the built-in `transfer` with its input), and the saga as `GET /v1/sagas/{id}`
 * answers it. Requests are strict; responses are built by the saga log, never parsed.
 */
import { z } from 'zod';
import { compareNumeric } from '../decimal';
import { SAGA_STATUSES, type SagaStatus } from './constants';
import { expireMap, fieldsSchema, numeric, timestamp } from './fields';
import { MAX_REQUIRES, checkPatch, fieldRequire, patchShape } from './records';

export const MAX_SAGA_STEPS = 25;

/** Saga ids become Step Functions execution names: 1 to 80 of these characters. */
export const SAGA_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
export const SAGA_ID_MESSAGE = 'must be 1 to 80 letters, digits, ".", "_" or "-", starting with a letter or digit';

export { SAGA_STATUSES, type SagaStatus };
export const STEP_STATUSES = ['PENDING', 'DONE', 'FAILED', 'COMPENSATED', 'COMPENSATION_FAILED', 'SKIPPED'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

const sagaId = z.string().regex(SAGA_ID_PATTERN, SAGA_ID_MESSAGE);
const stepName = z
  .string()
  .min(1)
  .max(128)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what the pattern refuses
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');
const requires = z.array(fieldRequire).max(MAX_REQUIRES).optional();

/** A record operation of a step: `put`, `patch` or `delete` of one key, with optional `require`. */
export const sagaAction = z.discriminatedUnion('op', [
  z
    .object({
      op: z.literal('put'),
      key: z.string(),
      fields: fieldsSchema,
      expire: expireMap.optional(),
      require: requires,
    })
    .strict(),
  z.object({ op: z.literal('patch'), key: z.string(), ...patchShape }).strict(),
  z.object({ op: z.literal('delete'), key: z.string(), require: requires }).strict(),
]);
export type SagaAction = z.infer<typeof sagaAction>;

export const sagaStep = z.object({ name: stepName, action: sagaAction, compensation: sagaAction.optional() }).strict();
export type SagaStep = z.infer<typeof sagaStep>;

/** `POST /v1/sagas` with `steps`: step names unique, each `patch` with at least one operation. */
export const stepsBody = z
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
      if (seen.has(s.name))
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'name'], message: 'must be unique within the saga' });
      seen.add(s.name);
    });
  });
export type StepsBody = z.infer<typeof stepsBody>;

/** `POST /v1/sagas` with `type: "transfer"`: move `amount` of `field` from one key to another. */
export const transferBody = z
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
export type TransferBody = z.infer<typeof transferBody>;
export type TransferInput = TransferBody['input'];

/** What `POST /v1/sagas` takes: a list of steps, or a built-in saga type. */
export type SagaBody = StepsBody | TransferBody;

/** `202` of `POST /v1/sagas`: the saga started. */
export const sagaStarted = z
  .object({ id: z.string(), status: z.literal('RUNNING'), executionArn: z.string() })
  .readonly();
export type SagaStarted = z.infer<typeof sagaStarted>;

/** One step of a saga as it stands; `error` says why it (or its undo) failed. */
export const stepView = z
  .object({
    name: z.string(),
    status: z.enum(STEP_STATUSES),
    error: z.object({ error: z.string(), cause: z.string() }).readonly().nullable(),
    attempts: z.number().int(),
  })
  .readonly();
export type StepView = z.infer<typeof stepView>;

/** `GET /v1/sagas/{id}` (and `200` of a repeated `POST /v1/sagas`). */
export const sagaView = z
  .object({
    id: z.string(),
    type: z.enum(['steps', 'transfer']),
    namespace: z.string(),
    status: z.enum(SAGA_STATUSES),
    executionArn: z.string(),
    steps: z.array(stepView).readonly(),
    startedAt: timestamp,
    finishedAt: timestamp.nullable(),
  })
  .readonly();
export type SagaView = z.infer<typeof sagaView>;

/** `GET /v1/sagas` parameters: `limit` 1 to 1000, default 100. */
export const DEFAULT_SAGA_LIMIT = 100;
export const MAX_SAGA_LIMIT = 1000;

/** One saga as `GET /v1/sagas` lists it. */
export const sagaSummary = z
  .object({
    id: z.string(),
    status: z.enum(SAGA_STATUSES),
    type: z.enum(['steps', 'transfer']),
    startedAt: timestamp,
    finishedAt: timestamp.nullable(),
  })
  .readonly();
export type SagaSummary = z.infer<typeof sagaSummary>;

/** `GET /v1/sagas`: newest first (by `startedAt`, then id); `cursor` is `null` on the last page. */
export const sagaPage = z.object({ items: z.array(sagaSummary).readonly(), cursor: z.string().nullable() }).readonly();
export type SagaPage = z.infer<typeof sagaPage>;
