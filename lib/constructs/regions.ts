/**
 * The Regions a deployment spans (docs/regions.md): from the `regions` prop, else the CDK context
 * `regions` (the contract's name), else `vesta:regions`. The first Region owns the records table,
 * a global table with a replica in each other Region; the stacks of the other Regions use their
 * replica. Without any of them the deployment is one Region, the stack's own, as it always was.
 */
import { Stack, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** Context keys (`cdk deploy -c regions='["eu-west-1","us-east-1"]'`); the first one set wins. */
export const REGIONS_CONTEXT = ['regions', 'vesta:regions'] as const;

/** A Region name such as `eu-west-1` or `us-gov-west-1`. */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** Where the deployment's Regions come from, and where this stack's Region stands among them. */
export interface DeploymentRegions {
  /** Every Region of the deployment, the first one first. */
  readonly regions: readonly string[];
  /** The Region whose stack creates the records table (and its replicas): `regions[0]`. */
  readonly primary: string;
  /** Whether this stack is deployed in the primary Region (and so creates the records table). */
  readonly isPrimary: boolean;
}

const FORMAT =
  'a JSON array or a comma-separated list of distinct Region names, at least one (e.g. ["eu-west-1","us-east-1"])';

/**
 * The Region names of a prop or context value: an array of strings, or a string holding a JSON
 * array or a comma-separated list. Throws an `Error` that names `source` and echoes the value
 * when it is anything else, empty, holds a name that is not a Region's, or a Region twice.
 */
export function parseRegions(source: string, raw: unknown): string[] {
  const fail = (why: string): never => {
    throw new Error(`${source} must be ${FORMAT}; ${why}. Received: ${JSON.stringify(raw)}`);
  };
  let value: unknown = raw;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text.startsWith('[')) {
      try {
        value = JSON.parse(text);
      } catch {
        fail('it is not valid JSON');
      }
    } else {
      value = text === '' ? [] : text.split(',').map((s) => s.trim());
    }
  }
  if (!Array.isArray(value)) return fail('it is neither a list nor a string');
  if (value.length === 0) fail('it is empty');
  const seen = new Set<string>();
  for (const region of value as unknown[]) {
    if (typeof region !== 'string' || !REGION_PATTERN.test(region)) {
      fail(`${JSON.stringify(region)} is not a Region name`);
    }
    if (seen.has(region as string)) fail(`it lists ${region} twice`);
    seen.add(region as string);
  }
  return [...seen];
}

/**
 * The deployment's Regions from `given`, else the context; `undefined` when none is set (one
 * Region, the stack's own). Throws an `Error` that echoes the value when it is malformed
 * (`parseRegions`), when it lists more than one Region and the stack's Region is not concrete,
 * or when the stack's Region is concrete and not in the list.
 */
export function resolveRegions(scope: Construct, given?: readonly string[]): DeploymentRegions | undefined {
  let source = 'regions';
  let raw: unknown = given;
  if (raw === undefined) {
    for (const key of REGIONS_CONTEXT) {
      raw = scope.node.tryGetContext(key);
      if (raw !== undefined) {
        source = `context ${key}`;
        break;
      }
    }
  }
  if (raw === undefined) return undefined;
  const regions = parseRegions(source, raw);
  const here = Stack.of(scope).region;
  if (Token.isUnresolved(here)) {
    if (regions.length > 1) {
      throw new Error(
        `${source} lists several Regions, so the stack needs a concrete Region (env.region, -c region=... or CDK_DEFAULT_REGION). Received: ${JSON.stringify(raw)}`,
      );
    }
    return { regions, primary: regions[0], isPrimary: true };
  }
  if (!regions.includes(here)) {
    throw new Error(`${source} must list the stack's Region ${here}. Received: ${JSON.stringify(raw)}`);
  }
  return { regions, primary: regions[0], isPrimary: here === regions[0] };
}
