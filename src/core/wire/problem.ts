/**
 * The problem document (RFC 9457) every error answer carries, as a zod schema with its type
 * inferred: the standard members, Vesta's `code`, and the extra members some problems carry.
 * Built by `src/api/problem.ts`, the one mapper from errors to answers; never parsed.
 */
import { z } from 'zod';
import { ConflictReason, REQUIRE_OPS } from './constants';
import { jsonValue } from './fields';
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
  'SnapshotDamaged',
  'Throttled',
  'Unavailable',
  'InternalError',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

/**
 * One `require` clause (or transaction `require` entry) that did not hold, explained: the clause
 * as it was sent and what the record held instead. `detail` says the same in words.
 */
export const unmetRequire = z
  .object({
    /** Where the clause is in the request: `require[0]`, or `ops[1].require[0]` for a transaction op's own. */
    clause: z.string(),
    /** The clause's key (a transaction's, or a saga step's action's). */
    key: z.string().optional(),
    /** A field clause: the field, the operator and the value it was compared with. */
    field: z.string().optional(),
    op: z.enum(REQUIRE_OPS).optional(),
    expected: jsonValue.optional(),
    /** A transaction entry with `etag`: the ETag it required. */
    etag: z.string().optional(),
    /** A transaction entry with `exists`: the existence it required. */
    exists: z.boolean().optional(),
    /**
     * What was found: the field's value; for an `etag` entry the record's ETag; for an `exists`
     * entry whether the record exists. Omitted when `absent` says why, or when the value is
     * longer than `actualBytes` allows to repeat here.
     */
    actual: jsonValue.optional(),
    /** The value found is too long to repeat: its size as JSON, in bytes (`current` has it for a single record). */
    actualBytes: z.number().int().optional(),
    /** What was missing: the record (`key`) or the field (`field`). */
    absent: z.enum(['key', 'field']).optional(),
    /** The record holds this many siblings, so no field clause can hold until a `PUT` resolves them. */
    siblings: z.number().int().optional(),
  })
  .readonly();
export type UnmetRequire = z.infer<typeof unmetRequire>;

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
  /** `PreconditionFailed` from `require` clauses: each clause that did not hold, explained. */
  unmet: z.array(unmetRequire).readonly().optional(),
  /** `SnapshotDamaged`: the snapshot id whose manifest or part does not verify. */
  snapshot: z.string().optional(),
  /** `SnapshotDamaged`: `manifest.json`, or the name of the part that is missing or differs. */
  part: z.string().optional(),
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
