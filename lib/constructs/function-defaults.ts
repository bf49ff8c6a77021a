/**
 * What every Vesta Lambda function shares: Node.js 24 on arm64, active tracing, its own role and
 * log group (no AWSLambdaBasicExecutionRole), code bundled with only the AWS SDK left external,
 * and the environment that the shared wiring reads at start-up. In this repository the code is
 * bundled from `lambdas/*.ts` at synth time by the local esbuild; the `@vesta/cdk` package ships
 * the same bundles made when it was packed (`lambdas/<name>/index.js`), so an app that uses it
 * needs neither esbuild nor Docker. Each capability
 * construct (`Api`, `Leases`, ...) builds its functions through `createVestaFunction` and adds only
 * what differs: entry, memory, timeout, extra environment and its own grants.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { type Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import type { MetricName } from '../../src/core/metric-names';
import { LOG_WRITE_ACTIONS } from '../perms';
import type { LogSettings } from './stage-construct';
import type { StateTables } from './state-tables';

import { ASSET_ROOT } from '../../src/asset-root';
import lambdaBundling from './lambda-bundling.json';

/**
 * How `lambdas/` is bundled, at synth time here and when `@vesta/cdk` is packed
 * (`scripts/build-cdk.mjs` reads the same file): minified with source maps, for Node 24, with the
 * AWS SDK v3 left out (the runtime has it; Powertools and zod are not in it, so they are bundled).
 */
export const LAMBDA_BUNDLING = lambdaBundling as {
  readonly minify: boolean;
  readonly sourceMap: boolean;
  readonly sourcesContent: boolean;
  readonly target: string;
  readonly externalModules: readonly string[];
};

/** Powertools service name (the `service` dimension of every metric) and metrics namespace. */
export const POWERTOOLS_SERVICE_NAME = 'vesta';
export const METRICS_NAMESPACE = 'Vesta';

/**
 * A `Vesta` metric with the default `service` dimension that Powertools Metrics adds, and the
 * `dimensions` of a metric emitted with more (`METRIC_DIMENSIONS`). Never throws.
 */
export function vestaMetric(
  metricName: MetricName,
  statistic: string,
  period: Duration,
  dimensions: Readonly<Record<string, string>> = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: POWERTOOLS_SERVICE_NAME, ...dimensions },
    statistic,
    period,
  });
}

export interface VestaFunctionOptions extends LogSettings {
  /** File name of the entry under `lambdas/`, e.g. `api.ts`; it exports `handler`. */
  readonly entry: string;
  /** Description of the function and, with "role" appended, of its role. */
  readonly description: string;
  /** The tables whose names the function gets in its environment (all of them, as the wiring reads all). */
  readonly tables: StateTables;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** Variables added to (or overriding) the shared environment. */
  readonly environment?: Record<string, string>;
  /** @default - no reserved concurrency */
  readonly reservedConcurrentExecutions?: number;
}

export interface VestaFunction {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

/**
 * Creates `<id>Role`, `<id>Logs` and the function `<id>` in `scope`. The role may write to the
 * function's log group and (through active tracing) to X-Ray, nothing else: the caller grants
 * table access through the intent-named grants of `StateTables`.
 */
export function createVestaFunction(scope: Construct, id: string, opts: VestaFunctionOptions): VestaFunction {
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `${opts.description}: its log group, X-Ray, and the actions of lib/perms.ts granted to it`,
  });
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: opts.logRetention,
    removalPolicy: opts.logRemovalPolicy,
  });
  logGroup.grant(role, ...LOG_WRITE_ACTIONS);
  const common: Omit<lambda.FunctionProps, 'code' | 'handler'> = {
    description: opts.description,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: opts.memorySize,
    timeout: opts.timeout,
    tracing: lambda.Tracing.ACTIVE,
    reservedConcurrentExecutions: opts.reservedConcurrentExecutions,
    role,
    logGroup,
    environment: {
      ...opts.tables.environment(),
      VESTA_REPLICA: Stack.of(scope).region,
      POWERTOOLS_SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
      ...opts.environment,
    },
  };
  const source = path.join(ASSET_ROOT, 'lambdas', opts.entry);
  const fn = existsSync(source)
    ? new nodejs.NodejsFunction(scope, id, {
        ...common,
        entry: source,
        handler: 'handler',
        projectRoot: ASSET_ROOT,
        depsLockFilePath: path.join(ASSET_ROOT, 'package-lock.json'),
        bundling: {
          ...LAMBDA_BUNDLING,
          externalModules: [...LAMBDA_BUNDLING.externalModules],
          forceDockerBundling: false,
          // esbuild reports warnings and errors only: a synth prints nothing when all is well.
          logLevel: nodejs.LogLevel.WARNING,
        },
      })
    : new lambda.Function(scope, id, {
        ...common,
        code: lambda.Code.fromAsset(prebundled(opts.entry)),
        handler: 'index.handler',
      });
  NagSuppressions.addResourceSuppressions(
    role,
    [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions; every other statement names its table, index or log group.',
        appliesTo: ['Resource::*'],
      },
    ],
    true,
  );
  return { function: fn, role, logGroup };
}

/**
 * The folder of an entry's packed bundle (`lambdas/api.ts` gives `lambdas/api/`). Throws an
 * `Error` naming both places when neither the source nor the bundle is there.
 */
function prebundled(entry: string): string {
  const dir = path.join(ASSET_ROOT, 'lambdas', entry.replace(/\.ts$/, ''));
  if (!existsSync(path.join(dir, 'index.js'))) {
    throw new Error(
      `Lambda code for ${entry} not found: neither ${path.join(ASSET_ROOT, 'lambdas', entry)} nor ${path.join(dir, 'index.js')} exists`,
    );
  }
  return dir;
}
