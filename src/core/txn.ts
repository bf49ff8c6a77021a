/**
 * Multi-key transactions as a pure plan: given the states of every key involved, check the
 * `require` list and compute each op's next state. The store reads the states, commits the plan
 * conditioned on exactly those states, and re-plans when a commit loses a race.
 */
import { PreconditionFailedError, ValidationError } from './errors';
import { etagOf, parseEtag, sameVersion } from './etag';
import { validateKey } from './names';
import { type RecordState, hasSiblings, isLive } from './record-view';
import { type Preconditions, type Transition, type WriteEnv, applyDelete, applyPatch, applyPut } from './records';
import { type UnmetRequire, describeUnmetAll, explainField, holds } from './require';
import type { TxnBody, TxnRequire } from './wire/records';

export interface PlannedOp {
  readonly key: string;
  /** The state to write, or undefined when the op changes nothing (delete of an absent key). */
  readonly next: RecordState | undefined;
}

/** Every key the transaction reads (ops and requires), validated. Throws `ValidationError`. */
export function txnKeys(txn: TxnBody): string[] {
  for (const [i, o] of txn.ops.entries()) validateKey(o.key, `body.ops[${i}].key`);
  for (const [i, r] of (txn.require ?? []).entries()) validateKey(r.key, `body.require[${i}].key`);
  return [...new Set([...txn.ops.map((o) => o.key), ...(txn.require ?? []).map((r) => r.key)])];
}

/** Why entry `i` does not hold on `s` (call it only for an entry that does not hold). */
function explainRequire(r: TxnRequire, i: number, s: RecordState | undefined): UnmetRequire {
  const clause = `require[${i}]`;
  const live = isLive(s) ? s : undefined;
  if (r.etag !== undefined) {
    return { clause, key: r.key, etag: r.etag, ...(live ? { actual: etagOf(live) } : { absent: 'key' as const }) };
  }
  if (r.exists !== undefined) {
    return { clause, key: r.key, exists: r.exists, ...(live ? { actual: true } : { absent: 'key' as const }) };
  }
  const field = { field: r.field!, op: r.op!, value: r.value };
  return explainField(clause, field, live?.siblings[0].fields, r.key, live?.siblings.length);
}

function requireHolds(r: TxnRequire, s: RecordState | undefined): boolean {
  if (r.etag !== undefined) {
    const ctx = parseEtag(r.etag);
    return ctx !== undefined && isLive(s) && sameVersion(ctx, s);
  }
  if (r.exists !== undefined) return r.exists === isLive(s);
  if (isLive(s) && hasSiblings(s)) return false;
  const fields = isLive(s) ? s.siblings[0].fields : {};
  return holds(fields, { field: r.field!, op: r.op!, value: r.value });
}

/** Indexes of the `require` entries that do not hold on these states. */
export function failedRequires(txn: TxnBody, states: ReadonlyMap<string, RecordState | undefined>): number[] {
  return (txn.require ?? []).flatMap((r, i) => (requireHolds(r, states.get(r.key)) ? [] : [i]));
}

/**
 * Plans the transaction. Throws `PreconditionFailedError` with `failed` indexes when a require
 * does not hold, and whatever the single-key transitions throw for an op (409, 412, 413, 422),
 * with the op's index in the message.
 */
export function planTxn(
  ns: string,
  txn: TxnBody,
  states: ReadonlyMap<string, RecordState | undefined>,
  env: WriteEnv,
): PlannedOp[] {
  const failed = failedRequires(txn, states);
  if (failed.length > 0) {
    const reqs = txn.require ?? [];
    const unmet = failed.map((i) => explainRequire(reqs[i], i, states.get(reqs[i].key)));
    throw new PreconditionFailedError(describeUnmetAll(unmet), null, failed, undefined, unmet);
  }
  return txn.ops.map((op, i) => {
    const prev = states.get(op.key);
    const etagReq = (txn.require ?? []).find((r) => r.key === op.key && r.etag !== undefined);
    const pre: Preconditions = etagReq ? { ifMatch: { any: false, ctx: parseEtag(etagReq.etag!) } } : {};
    try {
      let t: Transition | undefined;
      if (op.op === 'put') t = applyPut(prev, ns, op.key, op.fields, pre, env, op.expire);
      else if (op.op === 'patch') t = applyPatch(prev, ns, op.key, op, {}, env);
      else if (isLive(prev)) t = { state: applyDelete(prev, {}, env), created: false };
      return { key: op.key, next: t?.state };
    } catch (e) {
      if (e instanceof PreconditionFailedError) {
        // `failed` indexes the transaction's require list; an op's own clauses are named in detail.
        const unmet = e.unmet?.map(({ clause, ...u }) => ({ clause: `ops[${i}].${clause}`, key: op.key, ...u }));
        const detail = unmet ? describeUnmetAll(unmet) : `ops[${i}] (${JSON.stringify(op.key)}): ${e.message}`;
        throw new PreconditionFailedError(detail, e.current, [], e.currentEtag, unmet);
      }
      if (e instanceof ValidationError) throw e;
      if (e instanceof Error) e.message = `ops[${i}] (${op.key}): ${e.message}`;
      throw e;
    }
  });
}
