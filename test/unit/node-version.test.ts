/**
 * The tests run on the Lambdas' Node.js major (24), not on whatever Node the machine has: the
 * `node` devDependency puts a Node 24 binary in node_modules/.bin, which npm scripts put first on
 * PATH, so `npm test` (jest and its workers) runs on it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const LAMBDA_MAJOR = 24;
const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};

test('the tests run on Node.js 24, the Lambda runtime', () => {
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== LAMBDA_MAJOR) {
    throw new Error(
      `tests run on Node.js ${process.version} (${process.execPath}), expected ${LAMBDA_MAJOR}.x: ` +
        'run them through npm (npm test) after npm ci, which installs the pinned node devDependency',
    );
  }
});

test('the pinned node devDependency is an exact 24.x version', () => {
  expect(pkg.devDependencies.node).toMatch(new RegExp(`^${LAMBDA_MAJOR}\\.\\d+\\.\\d+$`));
});
