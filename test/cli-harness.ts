/**
 * Runs the `vesta` command line for tests: in-process through `main` with an io that captures
 * standard output and error, or as the installed `bin/vesta.js` in a child process. Unit tests
 * point it at a fake fetch or an unreachable URL; integration tests at the local stack.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CliIo } from '../src/cli/io';
import { main } from '../src/cli/main';

/** What one run of the CLI left behind. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A run still going: its output so far, and its end. */
export interface CliRunning {
  stdout(): string;
  stderr(): string;
  readonly done: Promise<CliRun>;
}

export interface CliOptions extends Partial<Omit<CliIo, 'out' | 'err'>> {
  /** Sets `VESTA_URL`, under anything `env` says. */
  readonly url?: string;
  /** What standard input holds. @default '' */
  readonly stdin?: string;
  /** Called after each write to standard output or error, with all of both so far (to stop a watch). */
  readonly onWrite?: (stdout: string, stderr: string) => void;
}

/** Starts `vesta argv` in-process with `opts`; never rejects (`main` does not). */
export function startCli(argv: readonly string[], opts: CliOptions = {}): CliRunning {
  const { url, stdin = '', onWrite, env, ...io } = opts;
  let stdout = '';
  let stderr = '';
  const cli: CliIo = {
    readStdin: async () => stdin,
    ...io,
    out: (t) => {
      stdout += t;
      onWrite?.(stdout, stderr);
    },
    err: (t) => {
      stderr += t;
      onWrite?.(stdout, stderr);
    },
    env: { ...(url === undefined ? {} : { VESTA_URL: url }), ...env },
  };
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    done: main(argv, cli).then((code) => ({ code, stdout, stderr })),
  };
}

/** Runs `vesta argv` in-process to its end; never rejects. */
export function runCli(argv: readonly string[], opts: CliOptions = {}): Promise<CliRun> {
  return startCli(argv, opts).done;
}

/** Runs `vesta argv` and parses its standard output; throws with its standard error when it exits non-zero. */
export async function runCliJson(argv: readonly string[], opts: CliOptions = {}) {
  const r = await runCli(argv, opts);
  if (r.code !== 0) throw new Error(`vesta ${argv.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const ROOT = join(__dirname, '..');

/**
 * Runs the installed command, `node bin/vesta.js argv`, in a child process, to its exit code.
 * Rejects only when the process could not be started or was killed by a signal.
 */
export async function runBin(argv: readonly string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'vesta.js'), ...argv], {
      cwd: ROOT,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw e;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}
