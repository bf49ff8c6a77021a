/**
 * The problem document (RFC 9457) every error answer carries, as a zod schema with its type
 * inferred: the standard members, Vesta's `code`, and the extra members some problems carry.
 * Built by `src/api/problem.ts`, the one mapper from errors to answers; never parsed.
 */
import { z } from 'zod';
import { ConflictReason } from '../errors';
import { lockHolder } from './leases';
import { recordView } from './record-views';

/** The codes the API's handlers answer (the contract's). */
export const PROBLEM_CODES = [
  'ValidationError',
  'NotFound',
  'MethodNotAllowed',
  'Conflict',
  'CursorExpired',
  'PreconditionFailed',
  'PayloadTooLarge',
  'UnsupportedMediaType',
  'TypeMismatch',
  'OutOfRange',
  'IdempotencyKeyReused',
  'Throttled',
  'Unavailable',
  'InternalError',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

/** The members only some problems carry. */
export const problemExtras = z.object({
  /** `ValidationError`: the offending input; `TypeMismatch`, `OutOfRange`: the field name. */
  field: z.string().optional(),
  /** `Conflict`: why. */
  reason: z.nativeEnum(ConflictReason).optional(),
  /** `PreconditionFailed`: the record as it now stands, `null` when absent or deleted. */
  current: recordView.nullable().optional(),
  /** `PreconditionFailed` of a transaction: the indexes of the `require` entries that did not hold. */
  failed: z.array(z.number().int()).readonly().optional(),
  /** `Conflict` with reason `LockHeld`: the lock's token and when its holder's lease expires. */
  holder: lockHolder.optional(),
});
export type ProblemExtras = z.infer<typeof problemExtras>;

export const problemDocument = problemExtras
  .extend({
    /** `urn:vesta:problem:<code>`. */
    type: z.string(),
    /** The HTTP reason phrase of `status`. */
    title: z.string(),
    status: z.number().int(),
    /**
     * One of `PROBLEM_CODES` from the handlers; API Gateway's own answers (a request refused before
     * it reaches them) carry their codes too, e.g. `Unauthenticated`, `Forbidden`.
     */
    code: z.string(),
    detail: z.string(),
  })
  .readonly();
export type ProblemDocument = z.infer<typeof problemDocument>;
