import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { CATCH_ALL_RESOURCE, ROUTES, resources } from '../../src/api/routes';
import { TABLE_DEFS } from '../../src/adapters/dynamodb/table-defs';
import { Api } from '../../lib/constructs/api';
import { GATEWAY_PROBLEMS } from '../../lib/constructs/problem-responses';
import { StateTables } from '../../lib/constructs/state-tables';
import { bareStack, resourcesOf, synthesize, type Synthesized } from './synth';

let s: Synthesized;

beforeAll(() => {
  s = synthesize({ stage: 'dev', throttling: { rateLimit: 123, burstLimit: 456 } }, { bundle: true });
});
afterAll(() => s.dispose());

interface MethodView {
  readonly path: string;
  readonly httpMethod: string;
  readonly props: any;
}

/** Every API Gateway method with the full resource path it hangs on. */
function methods(): MethodView[] {
  const res = resourcesOf(s.template, 'AWS::ApiGateway::Resource');
  const pathOf = (ref: any): string => {
    if (ref['Fn::GetAtt']) return '/';
    const r = res[ref.Ref].Properties;
    const parent = pathOf(r.ParentId);
    return `${parent === '/' ? '' : parent}/${r.PathPart}`;
  };
  return Object.values(resourcesOf(s.template, 'AWS::ApiGateway::Method')).map((m) => ({
    path: pathOf(m.Properties.ResourceId),
    httpMethod: m.Properties.HttpMethod,
    props: m.Properties,
  }));
}

function functionLogicalId(): string {
  return s.stack.getLogicalId(s.stack.api.function.node.defaultChild as any);
}

describe('Api: routes and authorization', () => {
  test('every API Gateway method requires IAM (SigV4) authorization', () => {
    const all = methods();
    expect(all.length).toBeGreaterThan(0);
    for (const m of all)
      expect({ path: m.path, method: m.httpMethod, auth: m.props.AuthorizationType }).toEqual({
        path: m.path,
        method: m.httpMethod,
        auth: 'AWS_IAM',
      });
  });

  test('every route of ROUTES has its method on its resource path', () => {
    const defined = new Set(methods().map((m) => `${m.httpMethod} ${m.path}`));
    for (const r of ROUTES) expect(defined).toContain(`${r.method} ${r.resource}`);
  });

  test('routed resources, their ancestors, the root and the catch-all have an ANY fallback', () => {
    const withAny = new Set(
      methods()
        .filter((m) => m.httpMethod === 'ANY')
        .map((m) => m.path),
    );
    const expected = new Set<string>(['/', CATCH_ALL_RESOURCE]);
    for (const r of resources()) {
      const segments = r.split('/').filter(Boolean);
      for (let i = 0; i < segments.length; i++) expected.add(`/${segments.slice(0, i + 1).join('/')}`);
    }
    expect(withAny).toEqual(expected);
  });

  test('there are no methods beyond the routes and the ANY fallbacks', () => {
    const routeKeys = new Set(ROUTES.map((r) => `${r.method} ${r.resource}`));
    const extra = methods().filter((m) => m.httpMethod !== 'ANY' && !routeKeys.has(`${m.httpMethod} ${m.path}`));
    expect(extra).toEqual([]);
  });

  test('every method is a Lambda proxy integration of the api function', () => {
    const fnId = functionLogicalId();
    for (const m of methods()) {
      expect(m.props.Integration.Type).toBe('AWS_PROXY');
      expect(m.props.Integration.IntegrationHttpMethod).toBe('POST');
      expect(JSON.stringify(m.props.Integration.Uri)).toContain(fnId);
    }
  });

  test('every method requires its path parameters and uses the parameter validator', () => {
    const validators = resourcesOf(s.template, 'AWS::ApiGateway::RequestValidator');
    expect(Object.values(validators).map((v) => v.Properties.ValidateRequestParameters)).toEqual([true]);
    const validatorId = Object.keys(validators)[0];
    for (const m of methods()) {
      expect(m.props.RequestValidatorId).toEqual({ Ref: validatorId });
      const names = [...m.path.matchAll(/\{(\w+)\+?\}/g)].map((x) => `method.request.path.${x[1]}`);
      expect(Object.keys(m.props.RequestParameters ?? {}).sort()).toEqual(names.sort());
    }
  });

  test('API Gateway may invoke the function from this API only', () => {
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [functionLogicalId(), 'Arn'] },
      SourceArn: {
        'Fn::Join': [
          '',
          Match.arrayWith([{ Ref: s.stack.getLogicalId(s.stack.api.restApi.node.defaultChild as any) }]),
        ],
      },
    });
  });
});

describe('Api: stage', () => {
  test('the stage is named after the Vesta stage, traced, throttled from props, with JSON access logs', () => {
    s.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'dev',
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 123,
          ThrottlingBurstLimit: 456,
          DataTraceEnabled: false,
        }),
      ],
    });
  });

  test('throttling defaults to 1000 requests per second with bursts of 2000', () => {
    const stack = bareStack();
    const tables = new StateTables(stack, 'T', { stage: 'dev', tableNamePrefix: 'vesta-dev' });
    const api = new Api(stack, 'A', { stage: 'dev', tables });
    const stage = stack.resolve((api.restApi.deploymentStage.node.defaultChild as any).methodSettings);
    expect(stage[0]).toMatchObject({ throttlingRateLimit: 1000, throttlingBurstLimit: 2000 });
  });

  test('a malformed throttling limit is refused with the received value in the message', () => {
    const stack = bareStack();
    const tables = new StateTables(stack, 'T', { stage: 'dev', tableNamePrefix: 'vesta-dev' });
    expect(() => new Api(stack, 'A', { stage: 'dev', tables, throttlingBurstLimit: 1.5 })).toThrow(/Received: 1.5/);
    expect(() => new Api(stack, 'B', { stage: 'dev', tables, throttlingRateLimit: -1 })).toThrow(/Received: -1/);
  });

  test('execution logging at ERROR level is off unless asked for', () => {
    const levels = (executionLogging?: boolean) => {
      const stack = bareStack();
      const tables = new StateTables(stack, 'T', { stage: 'dev', tableNamePrefix: 'vesta-dev' });
      const api = new Api(stack, 'A', { stage: 'dev', tables, executionLogging });
      return stack.resolve((api.restApi.deploymentStage.node.defaultChild as any).methodSettings)[0].loggingLevel;
    };
    expect(levels()).toBe('OFF');
    expect(levels(true)).toBe('ERROR');
  });

  test('the API URL is an output named ApiUrl: the invoke URL of the stage, https://<api-id>.execute-api.<region>.<suffix>/<stage>/', () => {
    const value = s.template.findOutputs('ApiUrl').ApiUrl?.Value;
    expect(value).toEqual({
      'Fn::Join': [
        '',
        [
          'https://',
          { Ref: expect.stringMatching(/RestApi/) },
          '.execute-api.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
          '/',
          { Ref: expect.stringMatching(/DeploymentStage/) },
          '/',
        ],
      ],
    });
  });
});

describe('Api: gateway errors', () => {
  const responses = () => Object.values(resourcesOf(s.template, 'AWS::ApiGateway::GatewayResponse'));

  test('every gateway response is an RFC 9457 problem document with its status', () => {
    expect(responses()).toHaveLength(GATEWAY_PROBLEMS.length);
    for (const r of responses()) {
      const p = r.Properties;
      expect(p.ResponseParameters['gatewayresponse.header.Content-Type']).toBe("'application/problem+json'");
      const body = JSON.parse(p.ResponseTemplates['application/json'].replace('$context.error.messageString', '"msg"'));
      expect(body).toMatchObject({
        type: `urn:vesta:problem:${body.code}`,
        title: expect.any(String),
        status: Number(p.StatusCode),
        detail: 'msg',
      });
      if (body.code === 'ValidationError') expect(body.field).toEqual(expect.any(String));
    }
  });

  test.each([
    ['THROTTLED', '429', 'Throttled', 'Too Many Requests'],
    ['REQUEST_TOO_LARGE', '413', 'PayloadTooLarge', 'Content Too Large'],
    ['MISSING_AUTHENTICATION_TOKEN', '403', 'Unauthenticated', expect.any(String)],
    ['ACCESS_DENIED', '403', 'Forbidden', expect.any(String)],
    ['DEFAULT_5XX', '500', 'InternalError', 'Internal Server Error'],
  ])('%s answers %s with code %s', (type, status, code, title) => {
    const r = responses().find((x) => x.Properties.ResponseType === type);
    expect(r?.Properties.StatusCode).toBe(status);
    const body = JSON.parse(
      r!.Properties.ResponseTemplates['application/json'].replace('$context.error.messageString', '"m"'),
    );
    expect(body).toMatchObject({ code, status: Number(status), title });
  });

  test('throttling answers carry Retry-After', () => {
    const r = responses().find((x) => x.Properties.ResponseType === 'THROTTLED');
    expect(r?.Properties.ResponseParameters['gatewayresponse.header.Retry-After']).toBe("'1'");
  });
});

describe('Api: function', () => {
  test('runs nodejs24.x on arm64 with active tracing, 1024 MB and a 29 s timeout', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      MemorySize: 1024,
      Timeout: 29,
      Handler: 'index.handler',
    });
  });

  test('gets each table name, the replica, the stage and the Powertools settings from its environment', () => {
    const fn = resourcesOf(s.template, 'AWS::Lambda::Function')[functionLogicalId()];
    const vars = fn.Properties.Environment.Variables;
    for (const def of TABLE_DEFS) expect(vars[def.envVar]).toBeDefined();
    expect(vars).toMatchObject({
      VESTA_REPLICA: { Ref: 'AWS::Region' },
      VESTA_STAGE: 'dev',
      POWERTOOLS_SERVICE_NAME: 'vesta',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
  });

  test('logs to its own log group with a retention', () => {
    const fn = resourcesOf(s.template, 'AWS::Lambda::Function')[functionLogicalId()];
    const groupId = fn.Properties.LoggingConfig.LogGroup.Ref;
    expect(resourcesOf(s.template, 'AWS::Logs::LogGroup')[groupId].Properties.RetentionInDays).toBeGreaterThan(0);
  });

  test('the bundle leaves only the AWS SDK and Node built-ins external (Powertools and zod inside)', () => {
    // The function's own asset: the stack holds other bundles, and file assets (the ASL definitions).
    const key: string = resourcesOf(s.template, 'AWS::Lambda::Function')[functionLogicalId()].Properties.Code.S3Key;
    const assetDir = `asset.${key.replace(/\.zip$/, '')}`;
    expect(readdirSync(s.outdir)).toContain(assetDir);
    const code = readFileSync(join(s.outdir, assetDir, 'index.js'), 'utf8');
    const required = new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
    expect([...required].filter((r) => !r.startsWith('@aws-sdk/') && !r.startsWith('node:'))).toEqual([]);
    expect(code).toContain('ZodError');
  });
});
