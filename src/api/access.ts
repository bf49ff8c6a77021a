/**
 * Who may call what, from the route table: the method and path patterns that a grant of `read`,
 * `write` or `admin` access covers, for one namespace or for all. The CDK construct turns them into
 * `execute-api:Invoke` ARNs (`VestaService.grantRead` and its siblings); nothing here knows AWS.
 *
 * A path pattern is the route's resource with `{ns}` replaced by the namespace (or `*` for all) and
 * every other parameter by `*`, e.g. `/v1/ns/orders/keys/*`. A `*` in an execute-api ARN matches
 * any characters, `/` included, which is safe here because a namespace is never a prefix of
 * another's path (`/v1/ns/orders/` does not start `/v1/ns/orders2/`), and a key cannot climb out
 * of its namespace's path: `.` and `..` segments, encoded or not, are refused with 400.
 */
import { NAMESPACE_PATTERN } from '../core/name-rules';
import { type Access, type HttpMethod, ROUTES, type RouteDef } from './routes';

export type { Access } from './routes';

const RANK: Readonly<Record<Access, number>> = { read: 0, write: 1, admin: 2 };

/** One method on one path pattern. */
export interface Permission {
  readonly method: HttpMethod;
  readonly path: string;
}

/**
 * What a grant of `access` covers: every route whose access is at most `access`, on `namespace`'s
 * paths, plus the routes that name no namespace and reach none (health, leases); with no
 * namespace, every namespace and the routes that span namespaces too (sagas, snapshots, restores,
 * dead letters). In route-table order, without duplicates. Throws an `Error` that echoes the
 * namespace when it is not a valid namespace name; `isToken` names values to pass as they are
 * (CDK tokens, resolved at deploy time).
 */
export function permissions(
  access: Access,
  namespace?: string,
  isToken: (value: string) => boolean = () => false,
): Permission[] {
  if (namespace !== undefined && !isToken(namespace) && !NAMESPACE_PATTERN.test(namespace)) {
    throw new Error(
      `namespace must be a namespace name (${NAMESPACE_PATTERN.source}), or be left out for every namespace. Received: ${JSON.stringify(namespace)}`,
    );
  }
  const covered = (r: RouteDef) =>
    RANK[r.access] <= RANK[access] && (namespace === undefined || r.spansNamespaces !== true);
  const seen = new Set<string>();
  const out: Permission[] = [];
  for (const r of ROUTES.filter(covered)) {
    const path = pathPattern(r.resource, namespace ?? '*');
    const id = `${r.method} ${path}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ method: r.method, path });
  }
  return out;
}

/** `/v1/ns/{ns}/keys/{key+}` for `orders` gives `/v1/ns/orders/keys/*`. */
function pathPattern(resource: string, namespace: string): string {
  return resource.replace(/\{(\w+)\+?\}/g, (_m, name: string) => (name === 'ns' ? namespace : '*'));
}
