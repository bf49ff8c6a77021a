/**
 * The single-request path of the records store: each single-key write as one `UpdateItem`, whose
 * condition holds the request's preconditions and whose update computes the next `rev`,
 * version-vector entry and dot on the server. Each builder returns `undefined` when only the
 * conflict path can decide (a precondition or value DynamoDB cannot compare, an `expire` of a
 * field the record will not have); the store then reads and commits with a conditional put. The
 * updates must agree with the pure transitions of `src/core/records.ts` (the integration tests
 * check both paths).
 */
import { PayloadTooLargeError } from '../../core/errors';
import { dueAfter } from '../../core/field-expiry';
import { type Preconditions, type WriteEnv, newIncarnation } from '../../core/records';
import { MAX_RECORD_BYTES, expirySize, fieldsSize } from '../../core/size';
import type { Fields, PatchBody } from '../../core/types';
import { expiriesTo, marshallFields, storedName, valueToAttr } from './codec';
import { BOOL, Expr, N, S, attributeExists, attributeNotExists, ifNotExists } from './expressions';
import {
  absentClause,
  advance,
  dueBound,
  expiryUpdates,
  nothingDue,
  patchGrowth,
  preconditionClauses,
  requireClause,
  stampNotBefore,
} from './record-clauses';

/**
 * A PUT: the whole value, its expiries and the exact `due` bound. Throws `PayloadTooLargeError`
 * when the record would be over the limit.
 */
export function putUpdate(
  ns: string,
  key: string,
  fields: Fields,
  pre: Preconditions,
  env: WriteEnv,
  expire: Readonly<Record<string, number>>,
): Expr | undefined {
  const expiring = Object.keys(expire);
  // An `expire` naming a field the record will not have is a 412 with `current`: the conflict path says it.
  if (expiring.some((f) => !Object.hasOwn(fields, f))) return undefined;
  const dues: Record<string, number> = Object.create(null);
  for (const f of expiring) dues[f] = dueAfter(env.now, expire[f]);
  const size = fieldsSize(fields) + expiring.reduce((n, f) => n + expirySize(f), 0);
  if (size > MAX_RECORD_BYTES)
    throw new PayloadTooLargeError(`the record would be ${size} bytes; at most ${MAX_RECORD_BYTES}`);
  const e = new Expr();
  const m = pre.ifMatch;
  const siblings = env.mode === 'siblings';
  if ((m && !m.any && !m.ctx) || (siblings && (m?.any || (m && pre.ifNoneMatch)))) return undefined;
  if (siblings && !m) e.require(absentClause(e));
  if (!preconditionClauses(e, pre)) return undefined;
  e.require(attributeNotExists(e.name('lease')));
  nothingDue(e, env);
  e.set(`${e.name('f')} = ${e.value(marshallFields(fields))}`)
    .set(`${e.name('fx')} = ${e.value(expiriesTo(dues))}`)
    .set(`${e.name('inc')} = ${ifNotExists(e.name('inc'), e.value(S(newIncarnation())))}`)
    .set(`${e.name('sz')} = ${e.value(N(size))}`)
    .set(`${e.name('was')} = ${ifNotExists(e.name('tomb'), e.value(BOOL(true)))}`)
    .remove(e.name('sx'));
  dueBound(e, ns, key, expiring.length ? Math.min(...expiring.map((f) => dues[f])) : undefined, true);
  advance(e, env, 'put');
  stampNotBefore(e, env);
  return e;
}

/** A PATCH of an existing single value: set, remove, increment, `require`, and the expiry changes. */
export function patchUpdate(
  ns: string,
  key: string,
  patch: PatchBody,
  pre: Preconditions,
  env: WriteEnv,
): Expr | undefined {
  const growth = patchGrowth(patch);
  const e = new Expr();
  const f = e.name('f');
  if (growth > MAX_RECORD_BYTES || !preconditionClauses(e, pre)) return undefined;
  for (const r of patch.require ?? []) {
    const clause = requireClause(e, r);
    if (!clause) return undefined;
    e.require(clause);
  }
  e.require(attributeExists(f))
    .require(attributeNotExists(e.name('sx')))
    .require(attributeNotExists(e.name('lease')))
    .require(`${e.name('sz')} <= ${e.value(N(MAX_RECORD_BYTES - growth))}`);
  nothingDue(e, env);
  for (const [name, v] of Object.entries(patch.set ?? {}))
    e.set(`${f}.${e.name(storedName(name))} = ${e.value(valueToAttr(v))}`);
  for (const name of patch.remove ?? []) e.remove(`${f}.${e.name(storedName(name))}`);
  for (const [name, by] of Object.entries(patch.increment ?? {})) {
    const p = `${f}.${e.name(storedName(name))}`;
    e.set(`${p} = ${ifNotExists(p, e.value(N(0)))} + ${e.value(N(by))}`);
  }
  if (!expiryUpdates(e, ns, key, patch, env)) return undefined;
  e.set(`${e.name('sz')} = ${e.name('sz')} + ${e.value(N(growth))}`).set(`${e.name('was')} = ${e.name('tomb')}`);
  advance(e, env, 'patch');
  stampNotBefore(e, env);
  return e;
}

/** A DELETE of a live, unleased record: a tombstone that keeps `rev` and the version vector growing. */
export function deleteUpdate(ns: string, key: string, pre: Preconditions, env: WriteEnv): Expr | undefined {
  const e = new Expr();
  if (!preconditionClauses(e, pre)) return undefined;
  e.require(`${e.name('tomb')} = ${e.value(BOOL(false))}`).require(attributeNotExists(e.name('lease')));
  tombstone(e, ns, key);
  nothingDue(e, env);
  advance(e, env, 'delete');
  stampNotBefore(e, env);
  return e;
}

/** The tombstone of a record that still belongs to lease `leaseId` (its lease ended). */
export function expireAttachedUpdate(ns: string, key: string, leaseId: string, env: WriteEnv): Expr {
  const e = new Expr();
  e.require(`${e.name('lease')} = ${e.value(S(leaseId))}`).remove(e.name('lease'));
  tombstone(e, ns, key);
  advance(e, env, 'expire');
  return e;
}

/** Empties the value and its expiries; removes the other values and the `byFieldExpiry` attributes. */
function tombstone(e: Expr, ns: string, key: string): void {
  e.set(`${e.name('f')} = ${e.value({ M: {} })}`)
    .set(`${e.name('fx')} = ${e.value({ M: {} })}`)
    .set(`${e.name('sz')} = ${e.value(N(0))}`)
    .remove(e.name('sx'));
  dueBound(e, ns, key, undefined, true);
}
