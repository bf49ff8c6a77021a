/**
 * Change events as zod schemas, the types inferred from them: the `detail` of every
 * `vesta.StateChanged` event and the items of `GET /v1/ns/{ns}/changes`. Built by
 * `changes.ts` and the publisher, never parsed.
 */
import { z } from 'zod';
import { fieldsSchema, versionVector } from './fields';
import { expiresView, siblingView } from './record-views';

export const CHANGE_KINDS = ['put', 'patch', 'delete', 'expire', 'expire-fields', 'conflict'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** `detail` of a change event: the contract's members plus `id` and, in siblings mode, `siblings`. */
export const changeDetail = z
  .object({
    /** Stable id of this change (same namespace, key, incarnation and rev: same id). */
    id: z.string(),
    namespace: z.string(),
    key: z.string(),
    rev: z.number().int(),
    vv: versionVector,
    change: z.enum(CHANGE_KINDS),
    /**
     * The record after the change (its newest value); absent for `delete` and `expire`. For a
     * `conflict` (several Regions, `reject` mode): the losing write's fields, which no read shows.
     */
    fields: fieldsSchema.optional(),
    /**
     * When some of `fields` expire: field to the ISO time it disappears. Fields due by the time a
     * change is read (or published) are left out of `fields`, `expires` and `siblings`.
     */
    expires: expiresView.optional(),
    /**
     * `expire-fields` only: the names of the fields the change removed because they expired
     * (a field of any value, in siblings mode). Without `fields` when no field is left.
     */
    expired: z.array(z.string()).readonly().optional(),
    /** All concurrent values, when the write left more than one (siblings mode). */
    siblings: z.array(siblingView).readonly().optional(),
    /**
     * `fields` (and `siblings`) were left out: to fit the bus's 256 KB event limit or a change-log
     * item, or because the change is a placeholder (`deadLetter`). Read the record by key.
     */
    fieldsOmitted: z.literal(true).optional(),
    /**
     * Set on a placeholder: the publisher could not process this change (its record item could not
     * be decoded, or the log refused it) and set it aside as the dead letter of this id. The
     * placeholder takes the change's place (its id, key and rev) so that per-key order and numbering
     * hold; it carries no fields (`fieldsOmitted`), and `vv` and `change` as far as they could be read.
     */
    deadLetter: z.string().optional(),
    /**
     * Set on a change published by a replay of a dead letter: the id of the placeholder it stands
     * for. It comes later than the changes committed after it; a consumer that keeps the newest
     * `rev` per key ignores it when it has seen a newer one.
     */
    replayOf: z.string().optional(),
  })
  .readonly();
export type ChangeDetail = z.infer<typeof changeDetail>;

/** `GET /v1/ns/{ns}/changes`: oldest first; pass `cursor` back as `after`. */
export const changePage = z.object({ items: z.array(changeDetail).readonly(), cursor: z.string() }).readonly();
export type ChangePage = z.infer<typeof changePage>;
