/**
 * The local stack a CLI test file runs `vesta` against: started before the file's tests on the
 * shared test tables (no saga resumption, no change feed), stopped after them, and the CLI run
 * in-process against its URL. Call it at the top level of a test file.
 */
import type { LocalStack } from '../../src/local/stack';
import { type CliOptions, type CliRun, type CliRunning, runCliJson, startCli } from '../cli-harness';
import { startQuietStack } from './harness';

export interface CliAgainstStack {
  /** The running stack (only inside tests and hooks). */
  readonly stack: LocalStack;
  /** Starts the CLI; `extra` adds to its io (env, interrupt, stdin). */
  start(argv: string[], extra?: CliOptions): CliRunning;
  /** Runs the CLI to its end, with `stdin` as standard input. */
  vesta(argv: string[], stdin?: string): Promise<CliRun>;
  /** Runs the CLI and parses its standard output; rejects with its standard error when it fails. */
  json(argv: string[], stdin?: string): Promise<any>;
}

export function cliAgainstLocalStack(): CliAgainstStack {
  let stack: LocalStack | undefined;
  beforeAll(async () => {
    stack = await startQuietStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });
  const running = (): LocalStack => {
    if (!stack) throw new Error('the local stack runs only inside tests and hooks');
    return stack;
  };
  const start = (argv: string[], extra: CliOptions = {}) => startCli(argv, { url: running().url, ...extra });
  return {
    get stack() {
      return running();
    },
    start,
    vesta: (argv, stdin = '') => start(argv, { stdin }).done,
    json: (argv, stdin) => runCliJson(argv, { url: running().url, stdin }),
  };
}
