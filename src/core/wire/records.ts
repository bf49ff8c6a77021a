/**
 * Request bodies of the records API as zod schemas: strict (unknown members are errors), with
 * messages that name the offending field. `PUT` and `PATCH` of a record, `POST .../txn` and
 * `PUT /v1/ns/{ns}`; the types are inferred from the schemas. Responses: `record-views.ts`.
 */
import { z } from 'zod';
import { CONFLICT_MODES, REQUIRE_OPS } from './constants';
import { isNumeric } from '../decimal';
import { expireMap, fieldName, fieldsSchema, jsonValue, numberMap } from './fields';

export { CONFLICT_MODES, REQUIRE_OPS } from './constants';
export type { ConflictMode, RequireOp } from './constants';

export const fieldRequire = z
  .object({ field: fieldName, op: z.enum(REQUIRE_OPS), value: jsonValue.optional() })
  .strict()
  .superRefine((r, ctx) => {
    const unary = r.op === 'exists' || r.op === 'absent';
    if (unary && r.value !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `must be omitted for op ${r.op}` });
    } else if (!unary && r.value === undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `is required for op ${r.op}` });
    } else if (['<', '<=', '>', '>='].includes(r.op) && !isNumeric(r.value) && typeof r.value !== 'string') {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `must be a number or a string for op ${r.op}` });
    }
  });
export type FieldRequire = z.infer<typeof fieldRequire>;

export const MAX_REQUIRES = 100;

export const patchShape = {
  set: fieldsSchema.optional(),
  remove: z.array(fieldName).optional(),
  increment: numberMap.optional(),
  require: z.array(fieldRequire).max(MAX_REQUIRES).optional(),
  /** Field name to seconds from the write's commit until the field disappears (Redis `HEXPIRE`). */
  expire: expireMap.optional(),
  /** Fields whose expiry is dropped (Redis `HPERSIST`). */
  persist: z.array(fieldName).optional(),
};

/**
 * The rules of a patch a schema cannot say member by member: at least one of `set`, `remove`,
 * `increment`, `expire`, `persist` (the last two alone change only expiries, like Redis
 * `HEXPIRE`), no field name in two of `set`, `remove`, `increment`, and none in both `expire`
 * and `persist`. Reports each problem as an issue on `ctx`; never throws.
 */
export function checkPatch(
  p: { set?: object; remove?: string[]; increment?: object; expire?: object; persist?: string[] },
  ctx: z.RefinementCtx,
): void {
  if (
    p.set === undefined &&
    p.remove === undefined &&
    p.increment === undefined &&
    p.expire === undefined &&
    p.persist === undefined
  ) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: 'needs at least one of set, remove, increment, expire, persist',
    });
    return;
  }
  const expiring = new Set(Object.keys(p.expire ?? {}));
  for (const n of p.persist ?? []) {
    if (expiring.has(n)) ctx.addIssue({ code: 'custom', path: ['persist', n], message: 'also appears in expire' });
  }
  const seen = new Map<string, string>();
  const claim = (part: string, names: string[]) => {
    for (const n of names) {
      const other = seen.get(n);
      if (other) ctx.addIssue({ code: 'custom', path: [part, n], message: `also appears in ${other}` });
      seen.set(n, part);
    }
  };
  claim('set', Object.keys(p.set ?? {}));
  claim('remove', p.remove ?? []);
  claim('increment', Object.keys(p.increment ?? {}));
}

export const patchBody = z.object(patchShape).strict().superRefine(checkPatch);
export type PatchBody = z.infer<typeof patchBody>;

export const putBody = z.object({ fields: fieldsSchema, expire: expireMap.optional() }).strict();
export type PutBody = z.infer<typeof putBody>;

export const settingsBody = z.object({ conflicts: z.enum(CONFLICT_MODES) }).strict();
export type NamespaceSettings = z.infer<typeof settingsBody>;

const txnKey = z.string();

export const txnRequire = z
  .object({
    key: txnKey,
    etag: z.string().optional(),
    exists: z.boolean().optional(),
    field: fieldName.optional(),
    op: z.enum(REQUIRE_OPS).optional(),
    value: jsonValue.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const kinds = [r.etag !== undefined, r.exists !== undefined, r.field !== undefined || r.op !== undefined];
    if (kinds.filter(Boolean).length !== 1) {
      ctx.addIssue({ code: 'custom', path: [], message: 'needs exactly one of etag, exists, or field with op' });
      return;
    }
    if (r.field !== undefined || r.op !== undefined) {
      const inner = fieldRequire.safeParse({ field: r.field, op: r.op, value: r.value });
      for (const issue of inner.success ? [] : inner.error.issues) ctx.addIssue({ ...issue, path: issue.path });
    } else if (r.value !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'only goes with field and op' });
    }
  });
export type TxnRequire = z.infer<typeof txnRequire>;

export const txnOp = z.discriminatedUnion('op', [
  z.object({ op: z.literal('put'), key: txnKey, fields: fieldsSchema, expire: expireMap.optional() }).strict(),
  z.object({ op: z.literal('patch'), key: txnKey, ...patchShape }).strict(),
  z.object({ op: z.literal('delete'), key: txnKey }).strict(),
]);
export type TxnOp = z.infer<typeof txnOp>;

export const MAX_TXN_KEYS = 100;

export const txnBody = z
  .object({
    require: z
      .array(txnRequire)
      .max(MAX_TXN_KEYS * 10)
      .optional(),
    ops: z.array(txnOp).min(1),
  })
  .strict()
  .superRefine((t, ctx) => {
    const opKeys = new Set<string>();
    t.ops.forEach((o, i) => {
      if (o.op === 'patch') {
        checkPatch(o, {
          ...ctx,
          addIssue: (issue) => ctx.addIssue({ ...issue, path: ['ops', i, ...(issue.path ?? [])] }),
        } as z.RefinementCtx);
      }
      if (opKeys.has(o.key))
        ctx.addIssue({ code: 'custom', path: ['ops', i, 'key'], message: 'a key may appear in at most one op' });
      opKeys.add(o.key);
    });
    const all = new Set([...opKeys, ...(t.require ?? []).map((r) => r.key)]);
    if (all.size > MAX_TXN_KEYS) {
      ctx.addIssue({ code: 'custom', path: [], message: `touches ${all.size} keys; at most ${MAX_TXN_KEYS}` });
    }
  });
export type TxnBody = z.infer<typeof txnBody>;
