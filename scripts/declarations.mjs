// One declaration file for a package's entry, by dts-bundle-generator with the repository's
// tsconfig; `externals` are packages whose types stay imports (the package's peers), and the rest
// is inlined. Shared by the package builds (build-client.mjs, build-cdk.mjs).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Writes the declarations of `entry` into `outFile`; throws (and prints why) when the generator fails. */
export function writeDeclarations(entry, outFile, externals = []) {
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules', 'dts-bundle-generator', 'dist', 'bin', 'dts-bundle-generator.js'),
      '--project',
      join(root, 'tsconfig.json'),
      ...(externals.length > 0 ? ['--external-imports', ...externals] : []),
      '--no-banner',
      '--silent',
      '-o',
      outFile,
      entry,
    ],
    { stdio: 'inherit', cwd: root },
  );
}
