// Builds the @vesta/cdk package from lib/, lambdas/ and statemachines/: the construct library as
// one CommonJS bundle (aws-cdk-lib, constructs and cdk-nag stay imports) with one declaration
// file; every Lambda entry bundled as the CDK app bundles it at synth time (same esbuild options),
// into lambdas/<name>/index.js; and the ASL files. An app that installs the package synthesizes
// without esbuild or Docker. Run by the package's `build` and `prepack` scripts.
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeDeclarations } from './declarations.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'packages', 'cdk');
const dist = join(pkg, 'dist');
const entry = join(root, 'lib', 'index.ts');

for (const dir of ['dist', 'lambdas', 'statemachines']) rmSync(join(pkg, dir), { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

// The library. `src/asset-root.ts` is inlined here, one folder below the package root, so the
// lambdas/ and statemachines/ it points at are the package's own.
await build({
  entryPoints: [entry],
  outfile: join(dist, 'index.js'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'cdk-nag'],
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
writeDeclarations(entry, join(dist, 'index.d.ts'), ['aws-cdk-lib', 'constructs', 'cdk-nag']);

// The Lambda code, with the options the app's synth-time bundling uses (lib/constructs/
// lambda-bundling.json), passed to esbuild as NodejsFunction passes them: CommonJS for Node,
// `module` before `main`.
const LAMBDA_BUNDLING = JSON.parse(readFileSync(join(root, 'lib', 'constructs', 'lambda-bundling.json'), 'utf8'));
for (const file of readdirSync(join(root, 'lambdas')).filter((f) => f.endsWith('.ts'))) {
  await build({
    entryPoints: [join(root, 'lambdas', file)],
    outfile: join(pkg, 'lambdas', file.replace(/\.ts$/, ''), 'index.js'),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    mainFields: ['module', 'main'],
    target: LAMBDA_BUNDLING.target,
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourceMap,
    sourcesContent: LAMBDA_BUNDLING.sourcesContent,
    external: [...LAMBDA_BUNDLING.externalModules],
    legalComments: 'none',
    logLevel: 'warning',
  });
}

cpSync(join(root, 'statemachines'), join(pkg, 'statemachines'), {
  recursive: true,
  filter: (src) => !/\.md$/.test(src),
});
