/**
 * The generated client of test/openapi-client/calls.ts (types generated from docs/openapi.yaml,
 * calls through openapi-fetch) run against a local stack: what it types is what the API does.
 * Run in a child process with tsx, as the consumer would run it.
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalStack } from '../../src/local/stack';
import { generateClient } from '../openapi-typed-client';
import { startQuietStack, uniqueNs } from './harness';

const TSX = join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');

let stack: LocalStack;
let dir: string;

beforeAll(async () => {
  stack = await startQuietStack();
  dir = await generateClient();
  writeFileSync(
    join(dir, 'main.ts'),
    "import { run } from './calls';\n" +
      'run(process.argv[2], process.argv[3]).then((o) => console.log(JSON.stringify(o)));\n',
  );
});

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the typed calls do what their types say against a local stack', async () => {
  const ns = uniqueNs('typed');
  const { stdout } = await promisify(execFile)(TSX, [join(dir, 'main.ts'), stack.url, ns], { cwd: dir });
  const outcome = JSON.parse(stdout);
  expect(outcome).toEqual({
    created: 201,
    etag: expect.stringMatching(/^"[^"]*"$/),
    patchedQty: 2,
    failedStatus: 412,
    failedCurrentRev: 2,
    failedEtag: expect.stringMatching(/^"[^"]*"$/),
    txnResults: 3,
    fencingToken: expect.any(Number),
    leaseKeys: 1,
    sagaStatus: 'RUNNING',
    checks: [true, true, true, true, true, true, true, true, true],
  });
});
