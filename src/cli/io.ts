/**
 * What the CLI touches outside itself: its output streams, standard input and environment.
 * `main` takes one so that tests capture output in-process.
 */
import { setMaxListeners } from 'node:events';

export interface CliIo {
  /** Writes to standard output (results: JSON, YAML, tables, ETags). */
  readonly out: (text: string) => void;
  /** Writes to standard error (errors, hints, notes). */
  readonly err: (text: string) => void;
  /** Reads all of standard input. Rejects when it cannot be read. */
  readonly readStdin: () => Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * A signal that aborts on the first Ctrl-C (SIGINT) after the call, for commands that run
   * until stopped (`lease keepalive --watch`). Without it they run until they fail.
   */
  readonly interrupt?: () => AbortSignal;
  /** Whether standard error is a terminal (progress bars are drawn only then). */
  readonly errIsTty?: boolean;
  /** What the client sends requests with. @default the global `fetch` */
  readonly fetch?: typeof fetch;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Aborts on the next SIGINT; a second Ctrl-C ends the process as usual. Never throws. */
function onNextSigint(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  return controller.signal;
}

/** The process's own streams, environment and Ctrl-C. */
export function processIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    readStdin: () => readAll(process.stdin),
    env: process.env,
    interrupt: onNextSigint,
    errIsTty: process.stderr.isTTY === true,
  };
}

/**
 * The Ctrl-C signal of `io` for a wait of the client (`sagas.wait`, `snapshots.wait`), or one that
 * never aborts. The client adds an abort listener to it per poll and leaves it there, so the
 * listener limit is lifted: else Node warns of a leak after ten polls. Never throws.
 */
export function waitSignal(io: CliIo): AbortSignal {
  const signal = io.interrupt?.() ?? new AbortController().signal;
  setMaxListeners(0, signal);
  return signal;
}
