// Builds the @vesta/cli package from src/cli: one ES module with the `vesta` entry, in which the
// client (src/client) stays an import of the @vesta/client package and the `yaml` library (for
// `--output yaml`) is bundled, so that the package depends on the client alone. Run by the
// package's `build` and `prepack` scripts; `npm run pack` at the root packs it.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
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

/** Packages bundled into the CLI instead of left as imports. */
const BUNDLED = ['yaml'];

/**
 * Bundles `BUNDLED`. The `yaml` library is CommonJS: bundled, it is evaluated only when first
 * required (`src/cli/output.ts` requires it for `--output yaml` only), so `vesta --version` never
 * loads it.
 */
const bundledPackages = {
  name: 'bundled-packages',
  setup(b) {
    const require = createRequire(join(root, 'package.json'));
    const filter = new RegExp(`^(${BUNDLED.join('|')})$`);
    b.onResolve({ filter }, (args) => ({ path: require.resolve(args.path) }));
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
  plugins: [clientPackage, bundledPackages],
  // A bundled CommonJS package requires Node's built-in modules (`yaml` requires `process`): an
  // ES module has no `require` of its own.
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __vestaCreateRequire } from 'node:module';",
      'const require = __vestaCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  legalComments: 'none',
  logLevel: 'warning',
});
chmodSync(join(out, 'vesta.js'), 0o755);
