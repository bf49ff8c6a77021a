/**
 * "Did you mean": a mistyped command is answered with the closest command, when there is one
 * close enough to be a typo, and the usage exit code.
 */
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
