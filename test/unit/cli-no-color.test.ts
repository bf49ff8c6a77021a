/**
 * NO_COLOR (https://no-color.org): the CLI writes no colour at all, whatever the environment.
 * The one escape sequence it ever writes is the progress line of a snapshot wait (carriage
 * return, erase line), and only on a standard error that is a terminal.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../cli-harness';

const ESC = '\x1b';
const ROOT = join(__dirname, '..', '..');

/** The environment without any colour-forcing variable, with NO_COLOR set. */
function noColorEnv(): NodeJS.ProcessEnv {
  const { FORCE_COLOR: _force, NODE_DISABLE_COLORS: _disable, ...env } = process.env;
  return { ...env, NO_COLOR: '1', VESTA_CONFIG: join(ROOT, '.cache', 'no-such-dir', 'config.json') };
}

/** Runs `node bin/vesta.js argv` with pipes (not terminals) for its output; resolves to both streams. */
async function runPiped(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'vesta.js'), ...argv], {
      cwd: ROOT,
      env: noColorEnv(),
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw e;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

test.each([
  [['--help'], 0],
  [['--version'], 0],
  [['get', '--help'], 0],
  [['get'], 2],
  [['frobnicate'], 2],
  [['get', 'shop', 'k', '--url', 'http://127.0.0.1:1'], 1],
  [['ls', 'shop', '--output', 'yaml', '--url', 'http://127.0.0.1:1'], 1],
  [['config', 'get', '--output', 'yaml'], 0],
  [['completion', 'bash'], 0],
  [['smoke', '--url', 'http://127.0.0.1:1'], 1],
])('vesta %j with NO_COLOR and no terminal writes no escape byte (exit %d)', async (argv, code) => {
  const r = await runPiped(argv);

  expect(r.code).toBe(code);
  expect(r.stdout + r.stderr).not.toBe('');
  expect(r.stdout).not.toContain(ESC);
  expect(r.stderr).not.toContain(ESC);
});

describe('the progress line of snapshot create --wait', () => {
  /** An API whose snapshot is RUNNING for two polls, then COMPLETE. */
  function snapshotApi(): typeof fetch {
    let polls = 0;
    const snapshot = (status: string) => ({
      id: 'snap-1',
      namespace: null,
      status,
      items: 2,
      bytes: 10,
      parts: status === 'COMPLETE' ? [{ name: 'part-0', items: 2, bytes: 10, sha256: 'x' }] : [],
      segments: 1,
      startedAt: '2024-01-01T00:00:00.000Z',
    });
    return (async (input: string | URL | Request, init?: RequestInit) => {
      const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
      polls += method === 'GET' ? 1 : 0;
      const body =
        method === 'POST' ? { id: 'snap-1', status: 'RUNNING' } : snapshot(polls > 2 ? 'COMPLETE' : 'RUNNING');
      return new Response(JSON.stringify(body), {
        status: method === 'POST' ? 202 : 200,
        headers: { 'content-type': 'application/json' },
      });
    }) as typeof fetch;
  }
  const argv = ['snapshot', 'create', '--wait', '--interval', '1'];

  test.each([
    ['NO_COLOR set', { NO_COLOR: '1' }],
    ['NO_COLOR unset', {}],
  ])('is not drawn when standard error is not a terminal (%s): no escape byte', async (_name, env) => {
    const r = await runCli(argv, { url: 'http://127.0.0.1:1', fetch: snapshotApi(), errIsTty: false, env });

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe('COMPLETE');
    expect(r.stdout + r.stderr).not.toContain(ESC);
  });

  test('on a terminal is the only escape sequence, even with NO_COLOR: carriage return and erase line, no colour', async () => {
    const r = await runCli(argv, {
      url: 'http://127.0.0.1:1',
      fetch: snapshotApi(),
      errIsTty: true,
      env: { NO_COLOR: '1' },
    });

    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(ESC);
    expect(r.stderr).toContain('\r\x1b[K[');
    expect(r.stderr.replaceAll('\r\x1b[K', '')).not.toContain(ESC);
  });
});
