/**
 * `GET /v1/ns/{ns}/changes`: a namespace's change log after a cursor, long-polled up to `wait`
 * seconds. The log numbers changes without gaps and holds each once (see
 * `src/adapters/dynamodb/change-log.ts`), so following `cursor` sees every change exactly once and
 * one key's changes in commit order.
 *
 * While it waits, a long poll reads the log again every `CHANGES_POLL_MS`, and at once when the
 * change signal says the namespace's log grew (locally, where the publisher shares the process).
 * The waiter is made before the first read, so a notify that comes between a read and the wait is
 * not missed; a lost one costs at most the poll interval. In AWS there is no signal (the publisher
 * is another function): each waiting request reads every `CHANGES_POLL_MS`, one consistent Query
 * of the head (1 read unit) per 250 ms, at most 80 per 20-second wait.
 *
 * Each change is shown as of the read (`changeAt` with the service clock): fields due by then are
 * left out of its `fields`, `expires` and `siblings`, as every read of the record leaves them out.
 */
import {
  DEFAULT_CHANGES_LIMIT,
  changeAt,
  MAX_CHANGES_LIMIT,
  MAX_WAIT_SECONDS,
  decodeCursor,
  encodeCursor,
} from '../core/changes';
import { ValidationError } from '../core/errors';
import { validateKey, validateNamespace } from '../core/names';
import { POLLING_ONLY } from '../core/change-signal';
import { type ChangeLog, type ChangeSignal, type Clock, systemClock } from '../core/ports';
import type { ChangePage } from '../core/wire/changes';
import { type ApiRequest, json } from './http';
import type { Handler } from './records-handlers';

/** How often a long poll looks at the log again while it waits (when no signal woke it before). */
export const CHANGES_POLL_MS = 250;

/** `wait` in milliseconds: a number of seconds from 0 to 20 (fractions allowed). */
function waitMs(req: ApiRequest): number {
  const v = req.query.wait;
  if (v === undefined) return 0;
  if (!/^\d{1,2}(\.\d{1,3})?$/.test(v) || Number(v) > MAX_WAIT_SECONDS) {
    throw new ValidationError(
      'wait',
      `must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}. Received: ${JSON.stringify(v)}`,
    );
  }
  return Math.round(Number(v) * 1000);
}

export function changesHandlers(deps: {
  readonly changes: ChangeLog;
  /** @default POLLING_ONLY */
  readonly changeSignal?: ChangeSignal;
  /** The service clock: what is due when a change is read. @default systemClock */
  readonly clock?: Clock;
}): Record<string, Handler> {
  const clock = deps.clock ?? systemClock;
  return {
    async listChanges(req) {
      const ns = validateNamespace(req.param('ns'));
      const prefix = req.query.prefix || undefined;
      if (prefix) validateKey(prefix, 'prefix');
      const limit = req.intQuery('limit', 1, MAX_CHANGES_LIMIT, DEFAULT_CHANGES_LIMIT);
      const wait = waitMs(req);
      let after = req.query.after !== undefined ? decodeCursor(req.query.after, ns).seq : undefined;
      // Wall time, not the injected clock: this only bounds how long the request is held.
      const deadline = Date.now() + wait;
      const waiter = wait > 0 ? (deps.changeSignal ?? POLLING_ONLY).waiter(ns) : undefined;
      try {
        for (;;) {
          const page = await deps.changes.read(ns, { after, prefix, limit });
          const remaining = deadline - Date.now();
          if (page.items.length > 0 || remaining <= 0 || !waiter)
            return json(200, {
              items: page.items.map((c) => changeAt(c, clock.now().getTime())),
              cursor: encodeCursor({ namespace: ns, seq: page.seq }),
            } satisfies ChangePage);
          after = page.seq;
          await waiter.wait(Math.min(CHANGES_POLL_MS, remaining));
        }
      } finally {
        waiter?.close();
      }
    },
  };
}
