/**
 * The HTTP API: a REST API in API Gateway, IAM (SigV4) authorization on every method, in front of
 * one Lambda function that routes with the same route table as the local stack.
 */
import { Duration, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { type Access, permissions } from '../../src/api/access';
import { CATCH_ALL_RESOURCE, ROUTES, resources } from '../../src/api/routes';
import { DEAD_LETTER_SOURCES, type DeadLetterSource } from '../../src/core/dead-letters';
import { REPLAY_FUNCTION_ENV } from '../../src/adapters/lambda/dead-letter-replay';
import { API_INVOKE_ACTIONS, DEAD_LETTER_REPLAY_ACTIONS } from '../perms';
import { createVestaFunction } from './function-defaults';
import { addProblemResponses } from './problem-responses';
import { StageConstruct, type StageProps } from './stage-construct';
import type { StateTables } from './state-tables';

/** API Gateway gives up on the integration after 29 s; running longer would only waste work. */
export const API_FUNCTION_TIMEOUT_SECONDS = 29;

export interface ApiProps extends StageProps {
  /** Deployment stage: the API Gateway stage name, and `VESTA_STAGE` for the function. */
  readonly stage: string;
  /** The tables the function reads and writes. */
  readonly tables: StateTables;
  /**
   * Steady-state request rate of the whole stage, requests per second.
   * @default 1000
   */
  readonly throttlingRateLimit?: number;
  /**
   * Burst of requests the stage accepts above the steady rate.
   * @default 2000
   */
  readonly throttlingBurstLimit?: number;
  /**
   * API Gateway execution logs (level ERROR) for every method. Needs the account-wide API Gateway
   * CloudWatch role to be set in the Region already; without it the deployment fails with
   * "CloudWatch Logs role ARN must be set in account settings to enable logging".
   * @default false (access logs only)
   */
  readonly executionLogging?: boolean;
}

function assertLimit(name: string, value: number, integer: boolean): void {
  if (Token.isUnresolved(value)) return;
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be a non-negative ${integer ? 'integer' : 'number'}. Received: ${value}`);
  }
}

/** Required path parameters of a resource template, e.g. `{ 'method.request.path.ns': true }`. */
function pathParameters(resourcePath: string): Record<string, boolean> {
  const names = [...resourcePath.matchAll(/\{(\w+)\+?\}/g)].map((m) => m[1]);
  return Object.fromEntries(names.map((n) => [`method.request.path.${n}`, true]));
}

/** Every ancestor of a resource path: `/v1/ns/{ns}` gives `/v1`, `/v1/ns`. */
function ancestors(resourcePath: string): string[] {
  const segments = resourcePath.split('/').filter(Boolean);
  return segments.slice(1).map((_s, i) => `/${segments.slice(0, i + 1).join('/')}`);
}

/**
 * The API function and the REST API in front of it. Every path the gateway can match has a
 * method that reaches the function, so an undefined method answers the function's
 * `405 MethodNotAllowed` and an unknown path its `404 NotFound`, as the local stack does, instead
 * of API Gateway's `403 Missing Authentication Token`.
 */
export class Api extends StageConstruct {
  readonly function: lambda.Function;
  readonly restApi: apigw.RestApi;
  /** Invoke URL of the stage, ending in `/`; the contract's paths (`v1/...`) follow it. */
  readonly url: string;
  /** The API Gateway stage: the deployment stage's name. */
  readonly stageName: string;

  /**
   * `execute-api:Invoke` for `grantee` on what `access` covers (`permissions` of
   * `src/api/access.ts`): the methods and paths of one namespace, or of every namespace and the
   * service-wide routes when `namespace` is left out. Throws an `Error` that echoes a malformed
   * namespace.
   */
  grantInvoke(grantee: iam.IGrantable, access: Access, namespace?: string): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...API_INVOKE_ACTIONS],
      resourceArns: permissions(access, namespace, Token.isUnresolved).map((p) =>
        this.restApi.arnForExecuteApi(p.method, p.path, this.stageName),
      ),
    });
  }

  /** Throws an `Error` when `stage` or a throttling limit is malformed; the message echoes it. */
  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id, props);
    this.stageName = props.stage;
    const rateLimit = props.throttlingRateLimit ?? 1000;
    const burstLimit = props.throttlingBurstLimit ?? 2000;
    assertLimit('throttlingRateLimit', rateLimit, false);
    assertLimit('throttlingBurstLimit', burstLimit, true);

    this.function = createVestaFunction(this, 'Function', {
      ...this.log,
      entry: 'api.ts',
      description: 'Vesta API function',
      tables: props.tables,
      memorySize: 1024,
      timeout: Duration.seconds(API_FUNCTION_TIMEOUT_SECONDS),
      environment: { VESTA_STAGE: props.stage },
    }).function;
    props.tables.grant(
      this.function,
      'recordsReadWrite',
      'controlReadWrite',
      'idempotencyReadWrite',
      'sagaLogApi',
      'changeLogRead',
      'deadLetterOperations',
    );

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: this.log.logRetention,
      removalPolicy: this.log.logRemovalPolicy,
    });
    const executionLogging = props.executionLogging ?? false;
    this.restApi = new apigw.RestApi(this, 'RestApi', {
      restApiName: `vesta-${props.stage}`,
      description: 'Vesta state service, HTTP API v1',
      // Callers are AWS workloads that sign with SigV4, usually in the same Region.
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      cloudWatchRole: false,
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      deployOptions: {
        stageName: props.stage,
        tracingEnabled: true,
        throttlingRateLimit: rateLimit,
        throttlingBurstLimit: burstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: executionLogging ? apigw.MethodLoggingLevel.ERROR : apigw.MethodLoggingLevel.OFF,
        dataTraceEnabled: false,
      },
    });
    this.url = this.restApi.url;
    // RestApi adds an output of its URL by itself; the stack's own `ApiUrl` says the same, once.
    this.restApi.node.tryRemoveChild('Endpoint');
    this.addRoutes();
    addProblemResponses(this.restApi);
    this.suppressFindings(executionLogging);
  }

  /**
   * Lets the API replay dead letters where they were set aside: names each background function in
   * the API function's environment (`REPLAY_FUNCTION_ENV`) and allows it to invoke those functions,
   * and no other.
   */
  grantDeadLetterReplay(functions: Readonly<Record<DeadLetterSource, lambda.IFunction>>): iam.Grant {
    for (const source of DEAD_LETTER_SOURCES)
      this.function.addEnvironment(REPLAY_FUNCTION_ENV[source], functions[source].functionName);
    return iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: [...DEAD_LETTER_REPLAY_ACTIONS],
      resourceArns: DEAD_LETTER_SOURCES.map((source) => functions[source].functionArn),
    });
  }

  private addRoutes(): void {
    const integration = new apigw.LambdaIntegration(this.function, {
      proxy: true,
      // One invoke permission for the whole API instead of one per method.
      scopePermissionToMethod: false,
    });
    // Only path parameters are checked here. Bodies are validated inside the function by the same
    // zod schemas the local stack uses, so error documents are identical in AWS and locally.
    const validator = this.restApi.addRequestValidator('ParameterValidator', {
      validateRequestParameters: true,
      validateRequestBody: false,
    });
    const options = (resourcePath: string, operationName?: string): apigw.MethodOptions => ({
      requestValidator: validator,
      requestParameters: pathParameters(resourcePath),
      operationName,
    });

    // A path that matches a resource without the request's method gets API Gateway's
    // 403 Missing Authentication Token; it does not fall through to the catch-all. So every
    // resource the gateway can match, ancestors such as `/v1` included, gets an ANY as well.
    const routed = resources();
    const intermediate = new Set(routed.flatMap(ancestors).filter((p) => !routed.includes(p)));
    for (const resourcePath of routed) {
      const resource = this.restApi.root.resourceForPath(resourcePath);
      for (const route of ROUTES.filter((r) => r.resource === resourcePath)) {
        resource.addMethod(route.method, integration, options(resourcePath, route.name));
      }
      resource.addMethod('ANY', integration, options(resourcePath));
    }
    for (const resourcePath of [...intermediate, CATCH_ALL_RESOURCE]) {
      this.restApi.root.resourceForPath(resourcePath).addMethod('ANY', integration, options(resourcePath));
    }
    this.restApi.root.addMethod('ANY', integration, options('/'));
  }

  private suppressFindings(executionLogging: boolean): void {
    NagSuppressions.addResourceSuppressions(this.restApi, [
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Path parameters are validated by API Gateway; bodies are validated in the function by the same zod schemas the local stack uses, so a 400 ValidationError document is the same in AWS and locally (a gateway model would answer in its own format).',
      },
    ]);
    NagSuppressions.addResourceSuppressions(this.restApi.methods, [
      {
        id: 'AwsSolutions-COG4',
        reason:
          'Every method uses IAM (SigV4) authorization: callers are AWS principals (workloads, CI, the CLI), not users of a Cognito user pool.',
      },
    ]);
    const stageFindings = [
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'WAF is chosen per account (Firewall Manager or a shared web ACL), not per stack; every request must already carry a valid SigV4 signature and the stage is throttled.',
      },
    ];
    if (!executionLogging) {
      stageFindings.push({
        id: 'AwsSolutions-APIG6',
        reason:
          'Execution logs need the account-wide API Gateway CloudWatch role, which this stack must not take over; JSON access logs record every request, and the function logs every error. Turn on with executionLogging where the role is set.',
      });
    }
    NagSuppressions.addResourceSuppressions(this.restApi.deploymentStage, stageFindings);
  }
}
