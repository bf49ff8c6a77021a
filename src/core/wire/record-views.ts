/**
 * Response bodies of the records API as zod schemas, the types inferred from them: a record with
 * one value or with siblings (also `current` of a `412`), a page of keys, a transaction's results
 * and a namespace's settings. The server builds these (`toView`, the handlers) without parsing
 * them; the client reads them as these types.
 */
import { z } from 'zod';
import { CONFLICT_MODES } from './records';
import { fieldsSchema, timestamp, versionVector } from './fields';

/** Field name to the ISO time it disappears; present only when some field has an expiry. */
export const expiresView = z.record(timestamp).readonly();
export type ExpiresView = z.infer<typeof expiresView>;

/** One of several concurrent values (`siblings` mode); each expires its fields independently. */
export const siblingView = z
  .object({ fields: fieldsSchema, expires: expiresView.optional(), updatedAt: timestamp })
  .readonly();
export type SiblingView = z.infer<typeof siblingView>;

/** A record with one value: `GET`, and what `PUT` and `PATCH` answer. */
export const singleRecordView = z
  .object({
    namespace: z.string(),
    key: z.string(),
    fields: fieldsSchema,
    expires: expiresView.optional(),
    rev: z.number().int(),
    vv: versionVector,
    /**
     * `true` when the record belongs to a lease, else `null`. Never the lease id: that is its
     * holder's secret (it revokes the lease), and any reader may see a record.
     */
    lease: z.literal(true).nullable(),
    updatedAt: timestamp,
  })
  .readonly();
export type SingleRecordView = z.infer<typeof singleRecordView>;

/** A record with concurrent values: `GET` answers it with `300 Multiple Choices`. */
export const siblingsRecordView = z
  .object({
    namespace: z.string(),
    key: z.string(),
    rev: z.number().int(),
    vv: versionVector,
    siblings: z.array(siblingView).readonly(),
  })
  .readonly();
export type SiblingsRecordView = z.infer<typeof siblingsRecordView>;

export const recordView = z.union([singleRecordView, siblingsRecordView]);
export type RecordView = z.infer<typeof recordView>;

/** A listed key; with `fields=true`, its `fields`, or `siblings` for a record with several. */
export const listItem = z
  .object({
    key: z.string(),
    rev: z.number().int(),
    updatedAt: timestamp,
    fields: fieldsSchema.optional(),
    expires: expiresView.optional(),
    siblings: z.array(siblingView).readonly().optional(),
  })
  .readonly();
export type ListItem = z.infer<typeof listItem>;

/** `GET /v1/ns/{ns}/keys`: `cursor` is `null` when there is no more. */
export const keyPage = z.object({ items: z.array(listItem).readonly(), cursor: z.string().nullable() }).readonly();
export type KeyPage = z.infer<typeof keyPage>;

/** What one op of a transaction did: a `put` or `patch` (its new rev and ETag), or a `delete`. */
export const txnResult = z.union([
  z.object({ key: z.string(), rev: z.number().int(), etag: z.string() }).readonly(),
  z.object({ key: z.string(), deleted: z.literal(true) }).readonly(),
]);
export type TxnResult = z.infer<typeof txnResult>;

/** `POST /v1/ns/{ns}/txn`: one result per op, in `ops` order. */
export const txnResults = z.object({ results: z.array(txnResult).readonly() }).readonly();
export type TxnResults = z.infer<typeof txnResults>;

/** `GET` and `PUT /v1/ns/{ns}`: the namespace and its settings. */
export const namespaceSettingsView = z.object({ namespace: z.string(), conflicts: z.enum(CONFLICT_MODES) }).readonly();
export type NamespaceSettingsView = z.infer<typeof namespaceSettingsView>;
