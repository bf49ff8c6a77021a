#!/usr/bin/env node
// The `vesta` command. Installed from the package, it runs the compiled dist/vesta.js. Inside the
// Vesta repository, where npm links this package into node_modules, it runs the TypeScript
// sources through the repository's own bin/vesta.js instead, so `npx vesta` there never runs a
// stale build.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const repository = new URL('../../../', import.meta.url);
if (existsSync(new URL('src/cli/main.ts', repository)) && existsSync(new URL('bin/vesta.js', repository))) {
  createRequire(import.meta.url)(fileURLToPath(new URL('bin/vesta.js', repository)));
} else {
  await import('../dist/vesta.js');
}
