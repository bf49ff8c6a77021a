/**
 * Checks real responses against docs/openapi.yaml. The document is loaded once; its component
 * schemas are registered with Ajv (JSON Schema 2020-12) under one `$id`, with `#/components/...`
 * references rewritten to point there, and each response or request schema is compiled on first
 * use.
 *
 * `expectMatchesOpenApi` throws a readable error when the status is not documented for the
 * operation, a documented required header (e.g. `ETag`) or the `Content-Type` is missing, or the
 * body does not match its schema. A method the path does not define is checked against the path's
 * `x-amazon-apigateway-any-method` 405 response, whose `Allow` header must list exactly the
 * documented methods.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

export const OPENAPI_PATH = join(__dirname, '..', 'docs', 'openapi.yaml');

const SCHEMAS_ID = 'urn:vesta:openapi:components';
/** The path-item extension that documents API Gateway's ANY method (a method no operation defines). */
export const ANY_METHOD = 'x-amazon-apigateway-any-method';
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type Obj = Record<string, any>;

export interface OpenApiReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

interface Loaded {
  readonly doc: Obj;
  readonly ajv: Ajv2020;
  readonly compiled: Map<string, ValidateFunction>;
}

let loaded: Loaded | undefined;

/** Rewrites `#/components/schemas/X` references to the registered components schema. */
function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  const out: Obj = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] =
      k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
        ? `${SCHEMAS_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`
        : rewriteRefs(v);
  }
  return out;
}

function load(): Loaded {
  if (loaded) return loaded;
  const doc = parse(readFileSync(OPENAPI_PATH, 'utf8')) as Obj;
  const ajv = new Ajv2020({
    strict: true,
    strictTypes: false,
    strictRequired: false,
    allowUnionTypes: true,
    allErrors: true,
  });
  addFormats(ajv);
  ajv.addSchema({ $id: SCHEMAS_ID, $defs: rewriteRefs(doc.components?.schemas ?? {}) as Obj });
  loaded = { doc, ajv, compiled: new Map() };
  return loaded;
}

/** The parsed document (loaded once). */
export function openApiDocument(): Obj {
  return load().doc;
}

/** Follows a local `$ref` (`#/components/...`) within the document. */
function deref(node: Obj): Obj {
  let cur = node;
  for (let i = 0; cur && typeof cur.$ref === 'string' && i < 10; i++) {
    const ref: string = cur.$ref;
    if (!ref.startsWith('#/')) throw new Error(`openapi: unsupported $ref ${ref}`);
    cur = ref
      .slice(2)
      .split('/')
      .reduce<Obj>((o, p) => o?.[p.replace(/~1/g, '/').replace(/~0/g, '~')], load().doc);
    if (!cur) throw new Error(`openapi: dangling $ref ${ref}`);
  }
  return cur;
}

function validator(cacheKey: string, schema: unknown): ValidateFunction {
  const { ajv, compiled } = load();
  let v = compiled.get(cacheKey);
  if (!v) {
    v = ajv.compile(rewriteRefs(schema) as Obj);
    compiled.set(cacheKey, v);
  }
  return v;
}

/**
 * The document's path of a route template: API Gateway's greedy `{key+}` is `{key}` in the
 * document, the form OpenAPI tools understand (a key's slashes are percent-encoded there, which
 * names the same key). Never throws.
 */
export function documentPath(resource: string): string {
  return resource.replace('{key+}', '{key}');
}

/** The route template of a document path (the inverse of `documentPath`). Never throws. */
function routeResource(path: string): string {
  return path.replace('{key}', '{key+}');
}

/** The documented operations as `METHOD resource` pairs (route templates), e.g. `GET /v1/health`. */
export function documentedOperations(): { method: string; resource: string; operationId: string }[] {
  const out: { method: string; resource: string; operationId: string }[] = [];
  for (const [path, item] of Object.entries(load().doc.paths ?? {})) {
    for (const m of HTTP_METHODS) {
      const op = (item as Obj)[m];
      if (op) out.push({ method: m.toUpperCase(), resource: routeResource(path), operationId: op.operationId });
    }
  }
  return out;
}

/** The statuses documented for an operation, as numbers. */
export function documentedStatuses(method: string, resource: string): number[] {
  const op = operation(method, resource);
  if (!op) throw new Error(`openapi: no operation ${method} ${resource}`);
  return Object.keys(op.responses ?? {}).map(Number);
}

function operation(method: string, resource: string): Obj | undefined {
  const item = load().doc.paths?.[documentPath(resource)];
  if (!item) throw new Error(`openapi: the document has no path ${resource}`);
  return item[method.toLowerCase()];
}

function describeBody(body: unknown): string {
  const s = body === undefined ? '(no body)' : JSON.stringify(body);
  return s.length > 600 ? `${s.slice(0, 600)}...` : s;
}

/** Statuses (as `METHOD resource status`) that passed `expectMatchesOpenApi`, for coverage checks. */
export const seenStatuses = new Set<string>();

/**
 * Throws unless `reply` is a documented response of `method resource` (`resource` is the
 * template, e.g. `/v1/ns/{ns}/keys/{key+}`): its status is listed, every required header is
 * present and matches its schema, the `Content-Type` is one the response documents and the body
 * matches that media type's schema (or there is no body when no content is documented).
 */
export function expectMatchesOpenApi(method: string, resource: string, reply: OpenApiReply): void {
  const where = `${method.toUpperCase()} ${resource} -> ${reply.status}`;
  const fail = (why: string): never => {
    throw new Error(
      `OpenAPI mismatch: ${where}: ${why}\n  headers: ${JSON.stringify(reply.headers)}\n  body: ${describeBody(reply.body)}`,
    );
  };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(reply.headers)) headers[k.toLowerCase()] = v;

  const doc = load().doc;
  const item = doc.paths?.[documentPath(resource)];
  if (!item) fail(`the document has no path ${resource}`);
  const op = item[method.toLowerCase()];
  let response: Obj;
  let cacheKey: string;
  if (!op) {
    if (reply.status !== 405)
      fail(`the document defines no ${method.toUpperCase()} operation for this path, so only 405 is expected`);
    // The document says what a method it does not define gets where API Gateway does: the path's
    // `x-amazon-apigateway-any-method` (the ANY method every resource has).
    const anyMethod = item[ANY_METHOD]?.responses?.['405'];
    if (!anyMethod) fail(`the path documents no ${ANY_METHOD} with a 405 response`);
    response = deref(anyMethod);
    cacheKey = `${ANY_METHOD} ${resource} 405`;
    const allowed = HTTP_METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
    const allow = (headers.allow ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if ([...allow].sort().join(',') !== [...allowed].sort().join(',')) {
      fail(`Allow is ${JSON.stringify(headers.allow)}; the document defines ${allowed.join(', ')}`);
    }
  } else {
    const responses: Obj = op.responses ?? {};
    const raw = responses[String(reply.status)] ?? responses[`${String(reply.status)[0]}XX`];
    if (!raw) fail(`status ${reply.status} is not documented (documented: ${Object.keys(responses).join(', ')})`);
    response = deref(raw);
    cacheKey = `${method.toUpperCase()} ${resource} ${reply.status}`;
  }

  for (const [name, rawHeader] of Object.entries<Obj>(response.headers ?? {})) {
    if (name.toLowerCase() === 'content-type') continue;
    const h = deref(rawHeader);
    const value = headers[name.toLowerCase()];
    if (value === undefined) {
      if (h.required) fail(`required header ${name} is missing`);
      continue;
    }
    if (h.schema) {
      const v = validator(`${cacheKey} header ${name}`, h.schema);
      if (!v(value)) fail(`header ${name} ${JSON.stringify(value)} does not match: ${load().ajv.errorsText(v.errors)}`);
    }
  }

  const content: Obj | undefined = response.content;
  const hasBody = reply.body !== undefined && reply.body !== '';
  if (!content || Object.keys(content).length === 0) {
    if (hasBody) fail('the document says this response has no body');
  } else {
    const type = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!type) fail(`Content-Type is missing (documented: ${Object.keys(content).join(', ')})`);
    const media = content[type];
    if (!media) fail(`Content-Type ${type} is not documented (documented: ${Object.keys(content).join(', ')})`);
    if (!hasBody) fail('the body is missing');
    if (media.schema) {
      const v = validator(`${cacheKey} ${type}`, media.schema);
      if (!v(reply.body))
        fail(`the body does not match the schema: ${load().ajv.errorsText(v.errors, { separator: '; ' })}`);
    }
  }
  seenStatuses.add(`${method.toUpperCase()} ${resource} ${reply.status}`);
}

/**
 * Documented statuses (`METHOD resource status`) of the operations on `resources` that no call
 * in this test file has produced, leaving out `unreachable` ones. `seenStatuses` is per test file,
 * so each file checks the operations it exercises.
 */
export function unseenStatuses(
  resources: (resource: string) => boolean,
  unreachable: readonly string[] = [],
): string[] {
  return documentedOperations()
    .filter((o) => resources(o.resource))
    .flatMap((o) => documentedStatuses(o.method, o.resource).map((s) => `${o.method} ${o.resource} ${s}`))
    .filter((k) => !seenStatuses.has(k) && !unreachable.includes(k));
}

/** The lease and lock resources, exercised by test/integ/openapi-leases.test.ts. */
export const LEASE_RESOURCES: readonly string[] = [
  '/v1/leases',
  '/v1/leases/{id}',
  '/v1/leases/{id}/keepalive',
  '/v1/ns/{ns}/locks',
  '/v1/ns/{ns}/locks/{name}',
];

/** The saga resources, exercised by test/integ/openapi-sagas.test.ts. */
export const SAGA_RESOURCES: readonly string[] = ['/v1/sagas', '/v1/sagas/{id}', '/v1/sagas/{id}/retry'];

/** The snapshot and restore resources, exercised by test/integ/openapi-snapshots.test.ts. */
export const SNAPSHOT_RESOURCES: readonly string[] = [
  '/v1/snapshots',
  '/v1/snapshots/import',
  '/v1/snapshots/{id}',
  '/v1/snapshots/{id}/restore',
  '/v1/restores/{id}',
];

/** The dead-letter resources, exercised by test/integ/openapi-dead-letters.test.ts. */
export const DEAD_LETTER_RESOURCES: readonly string[] = [
  '/v1/dead-letters',
  '/v1/dead-letters/{id}',
  '/v1/dead-letters/{id}/replay',
];

/** The changes resource, exercised by test/integ/openapi-changes.test.ts. */
export const CHANGE_RESOURCES: readonly string[] = ['/v1/ns/{ns}/changes'];

/** A validator for an operation's JSON request body schema. */
export function requestBodyValidator(
  method: string,
  resource: string,
): (body: unknown) => { valid: boolean; errors: string } {
  const op = operation(method, resource);
  const schema = op && deref(op.requestBody ?? {}).content?.['application/json']?.schema;
  if (!schema) throw new Error(`openapi: ${method} ${resource} documents no JSON request body`);
  const v = validator(`${method.toUpperCase()} ${resource} request`, schema);
  return (body) => {
    const valid = v(body) as boolean;
    return { valid, errors: valid ? '' : load().ajv.errorsText(v.errors) };
  };
}

/**
 * Problems with the document itself: local `$ref`s that resolve to nothing, component schemas
 * that do not compile, and `examples` that do not match their own schema. Empty when sound.
 */
export function documentProblems(): string[] {
  const { doc, ajv } = load();
  const problems: string[] = [];
  const walk = (node: unknown, at: string): void => {
    if (Array.isArray(node)) {
      node.forEach((x, i) => {
        walk(x, `${at}/${i}`);
      });
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') {
        try {
          deref({ $ref: v });
        } catch (e) {
          problems.push(`${at}: ${(e as Error).message}`);
        }
      } else walk(v, `${at}/${k}`);
    }
  };
  walk(doc, '#');
  for (const [name, schema] of Object.entries<Obj>(doc.components?.schemas ?? {})) {
    let v: ValidateFunction | undefined;
    try {
      v = ajv.getSchema(`${SCHEMAS_ID}#/$defs/${name}`);
      if (!v) throw new Error('not found');
    } catch (e) {
      problems.push(`components/schemas/${name} does not compile: ${(e as Error).message}`);
      continue;
    }
    for (const [i, example] of (schema.examples ?? []).entries()) {
      if (!v(example)) problems.push(`components/schemas/${name} examples[${i}]: ${ajv.errorsText(v.errors)}`);
    }
  }
  return problems;
}
