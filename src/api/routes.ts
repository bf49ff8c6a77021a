/**
 * The one route table of the HTTP API. API Gateway resources and methods (CDK), the local
 * stack's request matching (which builds the same proxy event API Gateway would) and the Lambda's
 * router all come from here.
 *
 * Every resource also gets an `ANY` fallback to the same function so that a method the contract
 * does not define answers `405 MethodNotAllowed` as a problem document, identically in AWS and
 * locally, instead of API Gateway's own `403 Missing Authentication Token`.
 */

export type HttpMethod = 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';

export interface RouteDef {
  /** Name used in logs and metrics. */
  readonly name: string;
  readonly method: HttpMethod;
  /** API Gateway resource template, e.g. `/v1/ns/{ns}/keys/{key+}`. */
  readonly resource: string;
  /** Whether the request carries a JSON body. */
  readonly hasBody: boolean;
  /**
   * The least grant that lets a caller invoke the route (`src/api/access.ts`): `read` only reads,
   * `write` changes records, leases and locks, `admin` changes settings or the whole service.
   */
  readonly access: Access;
  /**
   * The route reaches records of any namespace though its path names none (sagas, snapshots,
   * restores, dead letters): a grant scoped to one namespace never covers it.
   */
  readonly spansNamespaces?: true;
}

export type Access = 'read' | 'write' | 'admin';

export const ROUTES: readonly RouteDef[] = [
  { name: 'health', method: 'GET', resource: '/v1/health', hasBody: false, access: 'read' },
  { name: 'getNamespace', method: 'GET', resource: '/v1/ns/{ns}', hasBody: false, access: 'read' },
  { name: 'putNamespace', method: 'PUT', resource: '/v1/ns/{ns}', hasBody: true, access: 'admin' },
  { name: 'listKeys', method: 'GET', resource: '/v1/ns/{ns}/keys', hasBody: false, access: 'read' },
  { name: 'getRecord', method: 'GET', resource: '/v1/ns/{ns}/keys/{key+}', hasBody: false, access: 'read' },
  { name: 'putRecord', method: 'PUT', resource: '/v1/ns/{ns}/keys/{key+}', hasBody: true, access: 'write' },
  { name: 'patchRecord', method: 'PATCH', resource: '/v1/ns/{ns}/keys/{key+}', hasBody: true, access: 'write' },
  { name: 'deleteRecord', method: 'DELETE', resource: '/v1/ns/{ns}/keys/{key+}', hasBody: false, access: 'write' },
  { name: 'transact', method: 'POST', resource: '/v1/ns/{ns}/txn', hasBody: true, access: 'write' },
  { name: 'listChanges', method: 'GET', resource: '/v1/ns/{ns}/changes', hasBody: false, access: 'read' },
  { name: 'grantLease', method: 'POST', resource: '/v1/leases', hasBody: true, access: 'write' },
  { name: 'getLease', method: 'GET', resource: '/v1/leases/{id}', hasBody: false, access: 'write' },
  { name: 'revokeLease', method: 'DELETE', resource: '/v1/leases/{id}', hasBody: false, access: 'write' },
  { name: 'keepaliveLease', method: 'POST', resource: '/v1/leases/{id}/keepalive', hasBody: false, access: 'write' },
  { name: 'listLocks', method: 'GET', resource: '/v1/ns/{ns}/locks', hasBody: false, access: 'read' },
  { name: 'acquireLock', method: 'POST', resource: '/v1/ns/{ns}/locks/{name}', hasBody: true, access: 'write' },
  { name: 'releaseLock', method: 'DELETE', resource: '/v1/ns/{ns}/locks/{name}', hasBody: false, access: 'write' },
  { name: 'listSagas', method: 'GET', resource: '/v1/sagas', hasBody: false, access: 'write', spansNamespaces: true },
  { name: 'startSaga', method: 'POST', resource: '/v1/sagas', hasBody: true, access: 'write', spansNamespaces: true },
  {
    name: 'getSaga',
    method: 'GET',
    resource: '/v1/sagas/{id}',
    hasBody: false,
    access: 'write',
    spansNamespaces: true,
  },
  {
    name: 'retrySaga',
    method: 'POST',
    resource: '/v1/sagas/{id}/retry',
    hasBody: false,
    access: 'admin',
    spansNamespaces: true,
  },
  {
    name: 'createSnapshot',
    method: 'POST',
    resource: '/v1/snapshots',
    hasBody: true,
    access: 'admin',
    spansNamespaces: true,
  },
  {
    name: 'importSnapshots',
    method: 'POST',
    resource: '/v1/snapshots/import',
    hasBody: true,
    access: 'admin',
    spansNamespaces: true,
  },
  {
    name: 'listSnapshots',
    method: 'GET',
    resource: '/v1/snapshots',
    hasBody: false,
    access: 'admin',
    spansNamespaces: true,
  },
  {
    name: 'getSnapshot',
    method: 'GET',
    resource: '/v1/snapshots/{id}',
    hasBody: false,
    access: 'admin',
    spansNamespaces: true,
  },
  {
    name: 'restoreSnapshot',
    method: 'POST',
    resource: '/v1/snapshots/{id}/restore',
    hasBody: true,
    access: 'admin',
    spansNamespaces: true,
  },
  {
    name: 'getRestore',
    method: 'GET',
    resource: '/v1/restores/{id}',
    hasBody: false,
    access: 'admin',
    spansNamespaces: true,
  },
  {
    name: 'listDeadLetters',
    method: 'GET',
    resource: '/v1/dead-letters',
    hasBody: false,
    access: 'admin',
    spansNamespaces: true,
  },
  {
    name: 'getDeadLetter',
    method: 'GET',
    resource: '/v1/dead-letters/{id}',
    hasBody: false,
    access: 'admin',
    spansNamespaces: true,
  },
  {
    name: 'deleteDeadLetter',
    method: 'DELETE',
    resource: '/v1/dead-letters/{id}',
    hasBody: false,
    access: 'admin',
    spansNamespaces: true,
  },
  {
    name: 'replayDeadLetter',
    method: 'POST',
    resource: '/v1/dead-letters/{id}/replay',
    hasBody: false,
    access: 'admin',
    spansNamespaces: true,
  },
];

/** Catch-all resource that answers `404 NotFound` for every path the contract does not define. */
export const CATCH_ALL_RESOURCE = '/{proxy+}';

/** Distinct resources, in the order they first appear. */
export function resources(): string[] {
  return [...new Set(ROUTES.map((r) => r.resource))];
}

export interface CompiledResource {
  readonly resource: string;
  readonly regex: RegExp;
  readonly params: readonly string[];
}

/**
 * Turns a resource template into a regular expression over the raw (still percent-encoded) path.
 * `{name}` matches one segment, `{name+}` the rest of the path (at least one character).
 */
export function compileResource(resource: string): CompiledResource {
  const params: string[] = [];
  const source = resource
    .split('/')
    .map((segment) => {
      const m = /^\{(\w+)(\+?)\}$/.exec(segment);
      if (!m) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(m[1]);
      return m[2] === '+' ? `(?<${m[1]}>.+)` : `(?<${m[1]}>[^/]+)`;
    })
    .join('/');
  return { resource, regex: new RegExp(`^${source}$`), params };
}

export interface ResourceMatch {
  readonly resource: string;
  /** Percent-decoded path parameters, as API Gateway passes them. */
  readonly pathParameters: Record<string, string> | null;
}

const COMPILED = resources().map(compileResource);

/**
 * Finds the resource a raw path belongs to, as API Gateway does; unknown paths fall to the
 * catch-all. Throws `URIError` when a parameter is not valid percent-encoding.
 */
export function matchResource(rawPath: string): ResourceMatch {
  for (const c of COMPILED) {
    const m = c.regex.exec(rawPath);
    if (!m) continue;
    const pathParameters: Record<string, string> = {};
    for (const p of c.params) pathParameters[p] = decodeURIComponent(m.groups![p]);
    return { resource: c.resource, pathParameters: c.params.length ? pathParameters : null };
  }
  return { resource: CATCH_ALL_RESOURCE, pathParameters: { proxy: rawPath.replace(/^\//, '') } };
}
