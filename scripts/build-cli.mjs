// Builds the @vesta/cli package from src/cli: one ES module with the `vesta` entry, in which the
// client (src/client) stays an import of the @vesta/client package. Run by the package's `build`
// and `prepack` scripts; `npm run pack` at the root packs it.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'packages', 'cli', 'dist');
const clientDir = join(root, 'src', 'client');

/** Every import of src/client becomes an import of the published client package. */
const clientPackage = {
  name: 'client-package',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = resolve(args.resolveDir, args.path);
      return relative(clientDir, target).startsWith('..') ? undefined : { path: '@vesta/client', external: true };
    });
  },
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  stdin: {
    contents:
      "import { main } from './main';\nmain(process.argv.slice(2)).then((code) => { process.exitCode = code; });\n",
    resolveDir: join(root, 'src', 'cli'),
    loader: 'ts',
    sourcefile: 'vesta.ts',
  },
  outfile: join(out, 'vesta.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  plugins: [clientPackage],
  banner: { js: '#!/usr/bin/env node' },
  legalComments: 'none',
  logLevel: 'warning',
});
chmodSync(join(out, 'vesta.js'), 0o755);
