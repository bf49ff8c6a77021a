/**
 * What the CLI touches outside itself: its output streams, standard input and environment.
 * `main` takes one so that tests capture output in-process.
 */

export interface CliIo {
  /** Writes to standard output (results: JSON, ETags). */
  readonly out: (text: string) => void;
  /** Writes to standard error (errors, hints, notes). */
  readonly err: (text: string) => void;
  /** Reads all of standard input. Rejects when it cannot be read. */
  readonly readStdin: () => Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** The process's own streams and environment. */
export function processIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    readStdin: () => readAll(process.stdin),
    env: process.env,
  };
}

/** Pretty-prints a JSON value with a trailing newline, for piping to `jq` and friends. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}
