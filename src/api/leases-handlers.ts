/**
 * Handlers of the leases and locks routes: bodies validated and responses typed by
 * `core/wire/leases.ts`.
 */
import { ValidationError } from '../core/errors';
import { leaseView, validateLeaseId, validateLockName } from '../core/leases';
import {
  DEFAULT_LOCK_LIMIT,
  type LeaseDetails,
  type LeaseView,
  type LockGrantView,
  type LockPage,
  MAX_LOCK_LIMIT,
  acquireBody,
  grantBody,
} from '../core/wire/leases';
import { validateNamespace } from '../core/names';
import type { Clock, LeaseStore } from '../core/ports';
import { parseBody } from '../core/wire/parse';
import { type ApiRequest, json, noContent, onlyQuery } from './http';
import type { Handler } from './records-handlers';

export interface LeasesDeps {
  readonly leases: LeaseStore;
  readonly clock: Clock;
}

const LIST_LOCKS_QUERY = ['prefix', 'limit', 'cursor'] as const;

export function leasesHandlers({ leases, clock }: LeasesDeps): Record<string, Handler> {
  const id = (req: ApiRequest) => validateLeaseId(req.param('id'));
  const lock = (req: ApiRequest) => ({
    ns: validateNamespace(req.param('ns')),
    name: validateLockName(req.param('name')),
  });

  return {
    async grantLease(req) {
      const { ttlSeconds, executionArn } = parseBody(grantBody, req.json());
      return json(201, leaseView(await leases.grant(ttlSeconds, executionArn)) satisfies LeaseView);
    },

    async keepaliveLease(req) {
      return json(200, leaseView(await leases.keepalive(id(req))) satisfies LeaseView);
    },

    async getLease(req) {
      const { lease, holdings } = await leases.describe(id(req));
      const remainingSeconds = Math.max(0, Math.ceil((lease.expiresAt - clock.now().getTime()) / 1000));
      return json(200, { ...leaseView(lease), remainingSeconds, keys: holdings.keys } satisfies LeaseDetails);
    },

    async revokeLease(req) {
      await leases.revoke(id(req));
      return noContent();
    },

    async listLocks(req) {
      const ns = validateNamespace(req.param('ns'));
      onlyQuery(req, LIST_LOCKS_QUERY);
      const prefix = req.query.prefix ?? '';
      if (prefix) validateLockName(prefix, 'prefix');
      const limit = req.intQuery('limit', 1, MAX_LOCK_LIMIT, DEFAULT_LOCK_LIMIT);
      const cursor = req.query.cursor || undefined;
      return json(200, (await leases.locks(ns, { prefix, limit, cursor })) satisfies LockPage);
    },

    async acquireLock(req) {
      const { ns, name } = lock(req);
      const { leaseId } = parseBody(acquireBody, req.json());
      const g = await leases.acquire(ns, name, validateLeaseId(leaseId, 'body.leaseId'));
      return json(200, {
        name: g.name,
        leaseId: g.leaseId,
        fencingToken: g.fencingToken,
        expiresAt: new Date(g.expiresAt).toISOString(),
      } satisfies LockGrantView);
    },

    async releaseLock(req) {
      const { ns, name } = lock(req);
      const holder = req.header('x-lease-id');
      if (holder === undefined) throw new ValidationError('X-Lease-Id', 'is required: the lease that holds the lock');
      await leases.release(ns, name, validateLeaseId(holder.trim(), 'X-Lease-Id'));
      return noContent();
    },
  };
}
