// Builds the @vesta/client package from src/client: one ESM bundle (its dependencies stay
// imports, installed with the package) and one declaration file. Run by the package's `build`
// and `prepack` scripts; `npm run pack` at the root packs it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'packages', 'client', 'dist');
const entry = join(root, 'src', 'client', 'index.ts');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [entry],
  outfile: join(out, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
execFileSync(
  process.execPath,
  [
    join(root, 'node_modules', 'dts-bundle-generator', 'dist', 'bin', 'dts-bundle-generator.js'),
    '--project',
    join(root, 'tsconfig.json'),
    '--no-banner',
    '--silent',
    '-o',
    join(out, 'index.d.ts'),
    entry,
  ],
  { stdio: 'inherit', cwd: root },
);
