// Builds the @vesta/client package from src/client: one ESM bundle (its dependencies stay
// imports, installed with the package) and one declaration file. Run by the package's `build`
// and `prepack` scripts; `npm run pack` at the root packs it.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeDeclarations } from './declarations.mjs';

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
writeDeclarations(entry, join(out, 'index.d.ts'));
