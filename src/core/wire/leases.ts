/**
 * Bodies of the leases and locks routes as zod schemas, the types inferred from them. Requests
 * are strict (unknown members are errors); responses are built by the handlers, never parsed.
 */
import { z } from 'zod';
import { timestamp } from './fields';

export const MIN_LEASE_TTL_SECONDS = 5;
export const MAX_LEASE_TTL_SECONDS = 86400;

/** `POST /v1/leases`. `executionArn` (optional): a Step Functions execution whose lease the renewer keeps alive while it runs. */
export const grantBody = z
  .object({
    ttlSeconds: z.number().int().min(MIN_LEASE_TTL_SECONDS).max(MAX_LEASE_TTL_SECONDS),
    executionArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/,
        'must be a Step Functions execution ARN',
      )
      .optional(),
  })
  .strict();
export type GrantBody = z.infer<typeof grantBody>;

/** `POST /v1/ns/{ns}/locks/{name}`. */
export const acquireBody = z.object({ leaseId: z.string().min(1).max(128) }).strict();
export type AcquireBody = z.infer<typeof acquireBody>;

/** A lease: what `POST /v1/leases` and `.../keepalive` answer. */
export const leaseView = z.object({ id: z.string(), ttlSeconds: z.number().int(), expiresAt: timestamp }).readonly();
export type LeaseView = z.infer<typeof leaseView>;

/** `GET /v1/leases/{id}`: the lease, the seconds it has left and the keys attached to it. */
export const leaseDetails = z
  .object({
    id: z.string(),
    ttlSeconds: z.number().int(),
    remainingSeconds: z.number().int(),
    expiresAt: timestamp,
    keys: z.array(z.object({ namespace: z.string(), key: z.string() }).readonly()).readonly(),
  })
  .readonly();
export type LeaseDetails = z.infer<typeof leaseDetails>;

/** A lock taken: its fencing token and when the holder's lease expires. */
export const lockGrantView = z
  .object({ name: z.string(), leaseId: z.string(), fencingToken: z.number().int(), expiresAt: timestamp })
  .readonly();
export type LockGrantView = z.infer<typeof lockGrantView>;

/**
 * Who holds a lock, as anyone may see it (`holder` of a `LockHeld` conflict): the lock's fencing
 * token and when the holder's lease expires (`null` when it could not be read). Never the lease
 * id: that is the holder's secret.
 */
export const lockHolder = z.object({ fencingToken: z.number().int(), expiresAt: timestamp.nullable() }).readonly();
export type LockHolder = z.infer<typeof lockHolder>;

/** `GET /v1/ns/{ns}/locks` parameters: `limit` 1 to 1000, default 100. */
export const DEFAULT_LOCK_LIMIT = 100;
export const MAX_LOCK_LIMIT = 1000;

/** A lock held now, as anyone may list it: its fencing token and when the holder's lease expires (never the lease id). */
export const lockView = z
  .object({ name: z.string(), fencingToken: z.number().int(), expiresAt: timestamp })
  .strict()
  .readonly();
export type LockView = z.infer<typeof lockView>;

/** `GET /v1/ns/{ns}/locks`: the locks held now, by name; `cursor` is `null` on the last page. */
export const lockPage = z.object({ items: z.array(lockView).readonly(), cursor: z.string().nullable() }).readonly();
export type LockPage = z.infer<typeof lockPage>;
