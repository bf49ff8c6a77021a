/**
 * Record semantics as pure state transitions: what a PUT, PATCH or DELETE does to a key's stored
 * state, given its preconditions and the namespace's conflict mode. The DynamoDB store applies
 * these on its conditional (slow) path and in transactions; its single-request fast path builds
 * update expressions that must agree with them (the integration tests check both paths).
 */
import { randomBytes } from 'node:crypto';
import { type Numeric, addNumeric, isNumeric, numberProblem, numericText } from './decimal';
import {
  ConflictError,
  NotFoundError,
  OutOfRangeError,
  PayloadTooLargeError,
  PreconditionFailedError,
  TypeMismatchError,
} from './errors';
import { type CausalContext, etagOf, sameVersion } from './etag';
import { dueAfter, withExpiries } from './field-expiry';
import { type Expiries, type Fields, type RecordState, type Sibling, hasSiblings, isLive, toView } from './record-view';
import { describeUnmetAll, explainField, failing } from './require';
import type { ConflictMode, PatchBody } from './wire/records';
import { MAX_RECORD_BYTES, siblingSize } from './size';
import { copyMap, has, newMap } from './values';
import { type VersionVector, write } from './vv';

/** Most concurrent values a record may hold in `siblings` mode; past it a write is refused. */
export const MAX_SIBLINGS = 32;

/** `If-Match`: `*`, or one ETag (`ctx` is undefined when the ETag is not one of ours). */
export type IfMatch = { readonly any: true } | { readonly any: false; readonly ctx: CausalContext | undefined };

export interface Preconditions {
  readonly ifMatch?: IfMatch;
  /** `If-None-Match: *`: only create. */
  readonly ifNoneMatch?: boolean;
}

export interface WriteEnv {
  /** The writing replica (Region, or `local`). */
  readonly replica: string;
  /** The lease the written record belongs to (`X-Lease-Id`); a write without one detaches it. */
  readonly lease?: string;
  /** ISO-8601 time of the write. */
  readonly now: string;
  readonly mode: ConflictMode;
}

export interface Transition {
  readonly state: RecordState;
  /** True when the key had no live value before. */
  readonly created: boolean;
}

export function newIncarnation(): string {
  return randomBytes(6).toString('base64url');
}

function currentEtag(state: RecordState | undefined): string | undefined {
  return isLive(state) ? etagOf(state) : undefined;
}

function failPrecondition(state: RecordState | undefined, what: string): never {
  throw new PreconditionFailedError(`${what} did not hold`, toView(state), undefined, currentEtag(state));
}

/**
 * Checks `If-Match` / `If-None-Match`. With `contextual` (a PUT in `siblings` mode) an older ETag of
 * the same incarnation passes: it is a causal context, not an exact version.
 * Throws `PreconditionFailedError` carrying the current record.
 */
export function checkPreconditions(state: RecordState | undefined, pre: Preconditions, contextual = false): void {
  if (pre.ifNoneMatch && isLive(state)) failPrecondition(state, 'If-None-Match');
  const m = pre.ifMatch;
  if (!m) return;
  if (!isLive(state)) failPrecondition(state, 'If-Match');
  if (m.any) return;
  const ok =
    m.ctx !== undefined && (contextual ? m.ctx.inc === state.inc && m.ctx.rev <= state.rev : sameVersion(m.ctx, state));
  if (!ok) failPrecondition(state, 'If-Match');
}

function checkSize(siblings: readonly Sibling[]): void {
  const bytes = siblings.reduce((n, s) => n + siblingSize(s), 0);
  if (bytes > MAX_RECORD_BYTES) {
    throw new PayloadTooLargeError(`the record would be ${bytes} bytes; at most ${MAX_RECORD_BYTES}`);
  }
}

function next(
  prev: RecordState | undefined,
  ns: string,
  key: string,
  ctx: VersionVector,
  fields: Fields,
  env: WriteEnv,
  expires: Expiries = {},
): RecordState {
  const live = isLive(prev) ? prev.siblings : [];
  const out = write(live, prev?.vv ?? {}, ctx, env.replica, (dot) =>
    withExpiries({ fields, dot, at: env.now }, expires),
  );
  if (out.siblings.length > MAX_SIBLINGS) {
    throw new ConflictError(
      'SiblingLimit',
      `the record would hold ${out.siblings.length} siblings; at most ${MAX_SIBLINGS}. PUT with the ETag of a GET to resolve them`,
    );
  }
  checkSize(out.siblings);
  return {
    namespace: ns,
    key,
    inc: prev?.inc ?? newIncarnation(),
    rev: (prev?.rev ?? 0) + 1,
    vv: out.vv,
    siblings: out.siblings,
    deleted: false,
    updatedAt: env.now,
    ...(env.lease ? { lease: env.lease } : {}),
  };
}

/**
 * Throws `PreconditionFailedError` (with the record as it stands) when `expire` or `persist` names
 * a field that `fields`, the record after the write, will not have.
 */
function checkExpiryTargets(
  prev: RecordState | undefined,
  fields: Fields,
  part: string,
  names: Iterable<string>,
): void {
  for (const f of names) {
    if (Object.hasOwn(fields, f)) continue;
    throw new PreconditionFailedError(
      `${part} names field ${JSON.stringify(f)}, which the record will not have`,
      toView(prev),
      undefined,
      currentEtag(prev),
    );
  }
}

/** Due times of the fields of `expire` (seconds after the write at `env.now`). */
function duesOf(expire: Readonly<Record<string, number>> | undefined, env: WriteEnv, into = newMap<number>()) {
  for (const [f, secs] of Object.entries(expire ?? {})) into[f] = dueAfter(env.now, secs);
  return into;
}

/**
 * Replaces the record. In `reject` mode it overwrites (after its preconditions); in `siblings`
 * mode the values its ETag has not seen stay as siblings. The fields named in `expire` expire that
 * many seconds after the write; no other field of the new value does. Throws
 * `PreconditionFailedError` (also when `expire` names a field not in `fields`), `ConflictError`
 * (SiblingLimit) or `PayloadTooLargeError`.
 */
export function applyPut(
  prev: RecordState | undefined,
  ns: string,
  key: string,
  fields: Fields,
  pre: Preconditions,
  env: WriteEnv,
  expire?: Readonly<Record<string, number>>,
): Transition {
  const contextual = env.mode === 'siblings';
  checkPreconditions(prev, pre, contextual);
  checkExpiryTargets(prev, fields, 'expire', Object.keys(expire ?? {}));
  let ctx: VersionVector = prev?.vv ?? {};
  if (contextual) ctx = pre.ifMatch && !pre.ifMatch.any && pre.ifMatch.ctx ? pre.ifMatch.ctx.vv : {};
  return { state: next(prev, ns, key, ctx, fields, env, duesOf(expire, env)), created: !isLive(prev) };
}

/**
 * Applies set/remove/increment and the expiry changes (`expire`, `persist`) atomically, creating
 * the record when absent. `prev` is the record as reads see it (due fields already gone). Throws
 * `PreconditionFailedError` (If-Match or require), `ConflictError` (SiblingsPresent),
 * `TypeMismatchError` (increment of a non-number) or `PayloadTooLargeError`; `PreconditionFailedError`
 * too when `expire` or `persist` names a field the record will not have.
 */
export function applyPatch(
  prev: RecordState | undefined,
  ns: string,
  key: string,
  patch: PatchBody,
  pre: Preconditions,
  env: WriteEnv,
): Transition {
  checkPreconditions(prev, pre);
  const live = isLive(prev) ? prev : undefined;
  if (live && hasSiblings(live)) {
    throw new ConflictError(
      'SiblingsPresent',
      `the record has ${live.siblings.length} siblings; PUT with the ETag of a GET to resolve them first`,
    );
  }
  const fields: Fields = live ? copyMap(live.siblings[0].fields) : newMap();
  const expires = live?.siblings[0].expires ? copyMap(live.siblings[0].expires) : newMap<number>();
  const clauses = patch.require ?? [];
  const failed = failing(fields, clauses);
  if (failed.length > 0) {
    const unmet = failed.map((i) => explainField(`require[${i}]`, clauses[i], live ? fields : undefined));
    throw new PreconditionFailedError(describeUnmetAll(unmet), toView(prev), failed, currentEtag(prev), unmet);
  }
  Object.assign(fields, patch.set ?? {});
  for (const f of patch.remove ?? []) delete fields[f];
  for (const [f, by] of Object.entries(patch.increment ?? {})) fields[f] = incremented(fields, f, by);
  // Setting or removing a field clears its expiry; `increment` keeps it; `persist` drops it.
  for (const f of [...Object.keys(patch.set ?? {}), ...(patch.remove ?? []), ...(patch.persist ?? [])])
    delete expires[f];
  checkExpiryTargets(prev, fields, 'persist', patch.persist ?? []);
  checkExpiryTargets(prev, fields, 'expire', Object.keys(patch.expire ?? {}));
  duesOf(patch.expire, env, expires);
  return { state: next(prev, ns, key, prev?.vv ?? {}, fields, env, expires), created: live === undefined };
}

/**
 * The value of field `f` after adding `by` (an absent field starts from 0). Exact decimal
 * arithmetic. Throws `TypeMismatchError` when the field holds something other than a number
 * (`null` included) and `OutOfRangeError` when DynamoDB could not hold the sum.
 */
export function incremented(fields: Fields, f: string, by: Numeric): Numeric {
  const cur = has(fields, f) ? fields[f] : 0;
  if (!isNumeric(cur)) {
    const kind =
      cur === null ? 'null' : Array.isArray(cur) ? 'a list' : typeof cur === 'object' ? 'a map' : `a ${typeof cur}`;
    throw new TypeMismatchError(f, `increment of field ${JSON.stringify(f)}, which holds ${kind}, not a number`);
  }
  const sum = addNumeric(cur, by);
  const problem = numberProblem(sum);
  if (problem) {
    throw new OutOfRangeError(
      f,
      `increment of field ${JSON.stringify(f)} by ${numericText(by)} gives a number that ${problem}; nothing was written`,
    );
  }
  return sum;
}

/**
 * Deletes the record, leaving a tombstone that keeps `rev` and the version vector growing.
 * Throws `NotFoundError` when there is no live record, `PreconditionFailedError` on If-Match.
 */
export function applyDelete(prev: RecordState | undefined, pre: Preconditions, env: WriteEnv): RecordState {
  if (!isLive(prev)) throw new NotFoundError('no such record');
  checkPreconditions(prev, pre);
  const out = write(prev.siblings, prev.vv, prev.vv, env.replica, (dot) => ({ fields: {}, dot, at: env.now }));
  return { ...prev, rev: prev.rev + 1, vv: out.vv, siblings: [], deleted: true, updatedAt: env.now, lease: undefined };
}
