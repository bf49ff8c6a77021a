/**
 * The conventions of command lines people know (etcdctl, the AWS CLI, gh): "did you mean" for a
 * mistyped command, `--version`, `--output`, and shell completion made from the declared commands.
 */
import { execFile } from 'node:child_process';
import fc from 'fast-check';
import { promisify } from 'node:util';
import { closest, editDistance } from '../../src/cli/suggest';
import { runCli } from '../cli-harness';

test.each([
  ['get', 'get', 0],
  ['gte', 'get', 1],
  ['lese', 'lease', 1],
  ['', 'abc', 3],
  ['snapshto', 'snapshot', 1],
  ['kitten', 'sitting', 3],
])('the edit distance of %j and %j is %d', (a, b, d) => {
  expect(editDistance(a, b)).toBe(d);
  expect(editDistance(b, a)).toBe(d);
});

test('only a candidate within a third of the letters is suggested', () => {
  expect(closest('gte', ['get', 'put', 'ls'])).toBe('get');
  expect(closest('deleet', ['delete', 'get'])).toBe('delete');
  expect(closest('frobnicate', ['get', 'put', 'delete'])).toBeUndefined();
});

test('a mistyped command exits 2 and names the command it looks like', async () => {
  const r = await runCli(['pacth', 'shop', 'k'], { url: 'http://127.0.0.1:1' });

  expect(r.code).toBe(2);
  expect(r.stderr).toContain('unknown command "pacth"; did you mean "patch"?');
});

test('a word like no command gets no suggestion', async () => {
  const r = await runCli(['frobnicate'], { url: 'http://127.0.0.1:1' });

  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/unknown command "frobnicate"\n/);
});

test('vesta --version prints the version and sends nothing', async () => {
  const r = await runCli(['--version'], { url: 'http://127.0.0.1:1' });

  expect(r).toEqual({ code: 0, stdout: `vesta ${require('../../package.json').version}\n`, stderr: '' });
});

test('--output table is --table, --output json the default; another format is a usage error', async () => {
  const xml = await runCli(['ls', 'shop', '--output', 'xml'], { url: 'http://127.0.0.1:1' });
  const both = await runCli(['ls', 'shop', '--output', 'json', '--table'], { url: 'http://127.0.0.1:1' });
  const yamlAndTable = await runCli(['ls', 'shop', '--output', 'yaml', '--table'], { url: 'http://127.0.0.1:1' });
  const none = await runCli(['put', 'shop', 'k', '{}', '--output', 'table'], { url: 'http://127.0.0.1:1' });

  expect([xml.code, both.code, yamlAndTable.code, none.code]).toEqual([2, 2, 2, 2]);
  expect(xml.stderr).toContain('--output expects json, table, yaml. Received: "xml"');
  expect(both.stderr).toContain('give one');
  expect(yamlAndTable.stderr).toContain('give one');
  expect(none.stderr).toContain('put has no table form');
});

test('--output yaml is accepted by every command, before or after the command words', async () => {
  const before = await runCli(['--output', 'yaml', 'config', 'get'], {
    env: { VESTA_CONFIG: '/nonexistent/vesta.json' },
  });
  const after = await runCli(['ls', 'shop', '--output', 'yaml'], { url: 'http://127.0.0.1:1' });

  expect(before).toEqual({ code: 0, stdout: '{}\n', stderr: '' });
  // Past the options: the API cannot be reached (exit 1), not a usage error (exit 2).
  expect(after.code).toBe(1);
  expect(after.stderr).toContain('could not reach');
});

/** What the bash completion script offers for the words typed so far (the last one being completed). */
async function complete(words: string[]): Promise<string[]> {
  const script = (await runCli(['completion', 'bash'])).stdout;
  const line = `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _vesta; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await promisify(execFile)('bash', ['-c', `${script}\n${line}`]);
  return stdout.split('\n').filter(Boolean).sort();
}

test("bash completion offers command words, the second word of a group and a command's options", async () => {
  expect(await complete(['vesta', 'pa'])).toEqual(['patch']);
  expect(await complete(['vesta', 'lease', 'g'])).toEqual(['get', 'grant']);
  expect(await complete(['vesta', '--url', 'http://x', 'dead-letter', ''])).toEqual(['get', 'ls', 'replay', 'rm']);
  expect(await complete(['vesta', 'lease', 'grant', '--t'])).toEqual(['--table', '--ttl']);
  expect(await complete(['vesta', 'get', 'shop', 'k', '--et'])).toEqual(['--etag']);
});

test('bash completion offers the values of --output and of the options that declare theirs', async () => {
  expect(await complete(['vesta', 'get', 'shop', 'k', '--output', ''])).toEqual(['json', 'table', 'yaml']);
  expect(await complete(['vesta', '--output', 'y'])).toEqual(['yaml']);
  expect(await complete(['vesta', 'ns', 'set', 'shop', '--conflicts', ''])).toEqual(['reject', 'siblings']);
  expect(await complete(['vesta', '--output', 'yaml', 'lease', 'g'])).toEqual(['get', 'grant']);
});

test('completion for another shell than bash or zsh is a usage error', async () => {
  const r = await runCli(['completion', 'fish']);

  expect(r.code).toBe(2);
  expect(r.stderr).toContain('completion expects bash or zsh');
});

describe('generated command lines', () => {
  // Words that look like commands, options and values, odd ones included.
  const word = fc.oneof(
    fc.constantFrom('get', 'put', 'patch', 'lease', 'ns', 'completion', '--output', '--version', '--table', '-h'),
    fc.string({ maxLength: 12 }),
    fc.constantFrom('__proto__', 'constructor', '%2F..', ' ', '%', '..', 'yaml', 'table', 'json', 'bash'),
    fc.constantFrom('--output yaml', '--output json', '--output table').map((w) => w.split(' ')),
  );

  test('never throw, answer within the documented exit codes, and send nothing when the line is wrong', async () => {
    let sent = 0;
    // Whatever reaches the API is refused at once (no retry), so no generated line waits or loops.
    const fetch = (async () => {
      sent += 1;
      const problem = { type: 'urn:vesta:problem:ValidationError', title: 't', status: 400, code: 'ValidationError' };
      return new Response(JSON.stringify(problem), {
        status: 400,
        headers: { 'content-type': 'application/problem+json' },
      });
    }) as unknown as typeof globalThis.fetch;
    await fc.assert(
      fc.asyncProperty(
        fc.array(word, { maxLength: 6 }).map((words) => words.flat()),
        async (argv) => {
          const before = sent;
          const r = await runCli(argv, {
            url: 'http://127.0.0.1:1',
            fetch,
            env: { VESTA_CONFIG: '/nonexistent/vesta.json' },
          });
          expect([0, 1, 2]).toContain(r.code);
          if (r.code === 2) {
            // A usage error names itself and the help to read; no command at all prints the usage.
            expect(r.stderr).toMatch(/^(error: [\s\S]*\nhint: see `vesta( [^`]+)? --help`\n|usage: vesta )/);
            expect(sent).toBe(before);
          }
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });

  test('a suggestion is always a command or group within a third of the letters typed', () => {
    const known = ['get', 'put', 'patch', 'delete', 'lease', 'snapshot', 'dead-letter'];
    fc.assert(
      fc.property(fc.string({ maxLength: 15 }), (typed) => {
        const guess = closest(typed, known);
        if (guess !== undefined) {
          expect(known).toContain(guess);
          expect(editDistance(typed, guess)).toBeLessThanOrEqual(Math.max(1, Math.floor(typed.length / 3)));
        }
      }),
      { numRuns: 1000, seed: 42 },
    );
  });
});
