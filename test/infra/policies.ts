/** IAM policy statements of a synthesized role, for the least-privilege tests. */
import type { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { resourcesOf } from './synth';

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

export const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

/** The logical id of a construct's default child in `stack`. */
export const logicalIdOf = (stack: Stack, c: { node: { defaultChild?: unknown } }): string =>
  stack.getLogicalId(c.node.defaultChild as any);

/** Statements of every policy attached to the role `roleId`, inline ones included, and its role resource. */
export function roleStatements(template: Template, roleId: string) {
  const role = resourcesOf(template, 'AWS::IAM::Role')[roleId];
  const policies = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).filter((p) =>
    p.Properties.Roles.some((r: any) => r.Ref === roleId),
  );
  const statements: Statement[] = [
    ...policies.flatMap((p) => p.Properties.PolicyDocument.Statement),
    ...(role.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement),
  ];
  return { role, statements };
}

/** Every allowed (action, resource) pair, so that merged or split statements compare the same. */
export function grantPairs(statements: Statement[]): string[] {
  return statements
    .flatMap((st) => list(st.Action).flatMap((a) => list(st.Resource).map((r) => `${a} on ${JSON.stringify(r)}`)))
    .sort();
}

/** The pairs of `grantPairs` for `actions` on one resource. */
export function pairsOf(actions: readonly string[], resource: unknown): string[] {
  return actions.map((a) => `${a} on ${JSON.stringify(resource)}`);
}
