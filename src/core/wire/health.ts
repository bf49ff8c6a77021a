/**
 * `GET /v1/health` as a zod schema, its type inferred. Built by the API's health handler, never
 * parsed.
 */
import { z } from 'zod';

export const health = z
  .object({
    status: z.enum(['ok', 'degraded']),
    checks: z
      .object({
        store: z.enum(['ok', 'error']),
        /** Seconds since the newest COMPLETE snapshot finished; `null` before the first. */
        latestSnapshotAgeSeconds: z.number().nullable(),
        /** Seconds since the lease reaper last finished a run; `null` before its first. */
        leaseReaperLagSeconds: z.number().nullable(),
        /** Seconds since the field sweeper last finished a run; `null` before its first. */
        fieldSweeperLagSeconds: z.number().nullable(),
      })
      .readonly(),
  })
  .readonly();
export type Health = z.infer<typeof health>;
