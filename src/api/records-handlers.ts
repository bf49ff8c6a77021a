/**
 * Handlers of the records routes: validate with the wire schemas, call the store, shape the
 * response as its wire type. Errors are thrown as domain errors and mapped in one place
 * (`problem.ts`).
 */
import { NotFoundError } from '../core/errors';
import { validateFieldName, validateKey, validateNamespace } from '../core/names';
import type { RecordStore, SettingsStore } from '../core/ports';
import { toView } from '../core/record-view';
import { parseBody } from '../core/wire/parse';
import { patchBody, putBody, settingsBody, txnBody } from '../core/wire/records';
import type { KeyPage, NamespaceSettingsView, TxnResults } from '../core/wire/record-views';
import { type ApiRequest, type HttpResult, etagHeader, json, noContent } from './http';

export interface RecordsDeps {
  readonly records: RecordStore;
  readonly settings: SettingsStore;
  /**
   * Called when a PUT leaves the record with several concurrent values (`siblings` mode), its
   * value among them. Without `If-Match` such a write discards nothing, so the record had one
   * value fewer before; with an older ETag it may also have replaced some (the store does not
   * return the state before, and reading it would cost a request).
   * @default none
   */
  readonly onSiblingsCreated?: () => void;
}

export type Handler = (req: ApiRequest) => Promise<HttpResult>;

function target(req: ApiRequest): { ns: string; key: string } {
  return { ns: validateNamespace(req.param('ns')), key: validateKey(req.param('key')) };
}

function fieldList(req: ApiRequest): string[] | undefined {
  const v = req.query.fields;
  if (v === undefined) return undefined;
  return v.split(',').map((f, i) => validateFieldName(f, `fields[${i}]`));
}

export function recordsHandlers(deps: RecordsDeps): Record<string, Handler> {
  const { records, settings } = deps;

  const written = (status: number, state: Parameters<typeof toView>[0] & object) => {
    const view = toView(state)!;
    return json('siblings' in view ? 200 : status, view, etagHeader(state));
  };

  return {
    async getRecord(req) {
      const { ns, key } = target(req);
      const only = fieldList(req);
      const state = await records.get(ns, key);
      const view = toView(state, only);
      if (!view || !state) throw new NotFoundError(`no record ${JSON.stringify(key)} in namespace ${ns}`);
      return json('siblings' in view ? 300 : 200, view, etagHeader(state));
    },

    async putRecord(req) {
      const { ns, key } = target(req);
      const pre = req.preconditions();
      const body = parseBody(putBody, req.json());
      const guards = req.guards();
      const { conflicts } = await settings.get(ns);
      const r = await records.put(ns, key, body.fields, { pre, mode: conflicts, guards, expire: body.expire });
      if (r.state.siblings.length > 1) deps.onSiblingsCreated?.();
      return written(r.created ? 201 : 200, r.state);
    },

    async patchRecord(req) {
      const { ns, key } = target(req);
      const pre = req.preconditions();
      const body = parseBody(patchBody, req.json());
      const guards = req.guards();
      const { conflicts } = await settings.get(ns);
      const r = await records.patch(ns, key, body, { pre, mode: conflicts, guards });
      return written(r.created ? 201 : 200, r.state);
    },

    async deleteRecord(req) {
      const { ns, key } = target(req);
      const pre = req.preconditions();
      await records.delete(ns, key, pre, req.guards());
      return noContent();
    },

    async listKeys(req) {
      const ns = validateNamespace(req.param('ns'));
      const prefix = req.query.prefix ?? '';
      if (prefix) validateKey(prefix, 'prefix');
      const limit = req.intQuery('limit', 1, 1000, 100);
      const withFields = req.boolQuery('fields');
      const page = await records.list(ns, { prefix, limit, cursor: req.query.cursor, withFields });
      const items = page.items.map((s) => {
        const base = { key: s.key, rev: s.rev, updatedAt: s.updatedAt };
        if (!withFields) return base;
        const view = toView(s)!;
        if ('siblings' in view) return { ...base, siblings: view.siblings };
        return { ...base, fields: view.fields, ...(view.expires ? { expires: view.expires } : {}) };
      });
      return json(200, { items, cursor: page.cursor } satisfies KeyPage);
    },

    async transact(req) {
      const ns = validateNamespace(req.param('ns'));
      const body = parseBody(txnBody, req.json());
      const guards = req.guards();
      const { conflicts } = await settings.get(ns);
      return json(200, { results: await records.transact(ns, body, conflicts, guards) } satisfies TxnResults);
    },

    async getNamespace(req) {
      const ns = validateNamespace(req.param('ns'));
      return json(200, { namespace: ns, ...(await settings.get(ns)) } satisfies NamespaceSettingsView);
    },

    async putNamespace(req) {
      const ns = validateNamespace(req.param('ns'));
      const body = parseBody(settingsBody, req.json());
      return json(200, { namespace: ns, ...(await settings.put(ns, body)) } satisfies NamespaceSettingsView);
    },
  };
}
