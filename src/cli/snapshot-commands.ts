/**
 * Commands on snapshots: create (and wait for it with --wait), list, get, import, and restore (and wait).
 * While waiting, a progress bar on standard error when it is a terminal: the parts written so
 * far of an export, the records written and skipped so far of a restore.
 */
import { isAbsolute, resolve } from 'node:path';
import type { WaitOptions } from '../client';
import { type OptionDecls, flag, str } from './options';
import { UsageError } from './errors';
import { type CliIo, waitSignal } from './io';
import type { Command, CommandContext } from './command';
import { DEFAULT_POLL_INTERVAL_MS, EXIT_INTERRUPTED, parsePollInterval } from './saga-args';
import { snapshotsTable } from './table';

/** Exit code of a wait that ended FAILED. */
export const EXIT_SNAPSHOT_FAILED = 3;

export interface SnapshotView {
  readonly id: string;
  readonly namespace: string | null;
  readonly status: 'RUNNING' | 'COMPLETE' | 'FAILED';
  readonly items: number;
  readonly bytes: number;
  readonly parts: readonly { readonly name: string; readonly items: number }[];
  readonly segments?: number;
  readonly error?: string;
}

export interface RestoreView {
  readonly id: string;
  readonly snapshotId?: string;
  readonly status: 'RUNNING' | 'COMPLETE' | 'FAILED';
  readonly written: number;
  readonly skipped: number;
  readonly error?: string;
}

const MODES = ['missing', 'newer'] as const;
const BAR_WIDTH = 24;

const count = (n: number) => n.toLocaleString('en-US');

/** `[#########---------------]` for `done` of `total` (an empty bar when the total is unknown). */
export function progressBar(done: number, total: number | undefined, width = BAR_WIDTH): string {
  const filled = total && total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** The progress line of an export. */
export function snapshotProgress(s: SnapshotView, elapsedMs: number): string {
  const total = s.segments;
  const parts = total !== undefined ? `${s.parts.length}/${total} parts` : `${s.parts.length} parts`;
  return `${progressBar(s.status === 'COMPLETE' ? 1 : s.parts.length, s.status === 'COMPLETE' ? 1 : total)} ${s.id} ${s.status}: ${parts}, ${count(s.items)} records, ${Math.round(elapsedMs / 1000)} s`;
}

/** The progress line of a restore (its total is not known before it ends). */
export function restoreProgress(r: RestoreView, elapsedMs: number): string {
  return `${r.id} ${r.status}: ${count(r.written)} written, ${count(r.skipped)} skipped, ${Math.round(elapsedMs / 1000)} s`;
}

/** Validates `--mode`. Throws `UsageError`. */
export function parseMode(text: string | undefined): (typeof MODES)[number] {
  if (text === undefined)
    throw new UsageError(
      '--mode is required: missing (write absent records only) or newer (also replace older ones)',
      'snapshot restore',
    );
  if (!(MODES as readonly string[]).includes(text))
    throw new UsageError(`--mode expects missing or newer. Received: ${JSON.stringify(text)}`, 'snapshot restore');
  return text as (typeof MODES)[number];
}

/** Draws one progress line in place on a terminal; a no-op elsewhere. */
function progressLine(io: CliIo): { draw(line: string): void; done(): void } {
  let drawn = false;
  return {
    draw(line) {
      if (!io.errIsTty) return;
      io.err(`\r\x1b[K${line}`);
      drawn = true;
    },
    done() {
      if (drawn) io.err('\n');
      drawn = false;
    },
  };
}

/**
 * Waits with `wait` (the client's `snapshots.wait` or `waitRestore`) until the work leaves RUNNING
 * or Ctrl-C, drawing `render` of each state the client reports; prints the ended view as `--output` asks and
 * returns the exit code (0 COMPLETE, 3 FAILED, 130 interrupted). Throws the client's `ApiError`
 * or `NetworkError`.
 */
async function untilDone<T extends { readonly status: string; readonly error?: string }>(
  { io, output }: CommandContext,
  what: string,
  wait: (opts: WaitOptions<T>) => Promise<T>,
  intervalMs: number,
  render: (view: T, elapsedMs: number) => string,
  again: string,
): Promise<number> {
  const started = Date.now();
  const line = progressLine(io);
  const signal = waitSignal(io);
  let last: T | undefined;
  let ended: T;
  try {
    ended = await wait({
      intervalMs,
      signal,
      onProgress: (view) => {
        last = view;
        line.draw(render(view, Date.now() - started));
      },
    });
  } catch (e) {
    if (!signal.aborted) throw e;
    line.done();
    io.err(
      `stopped waiting; ${what} is ${last ? `still ${last.status}` : 'not read yet'} and runs on: \`${again}\` shows it\n`,
    );
    return EXIT_INTERRUPTED;
  } finally {
    line.done();
  }
  output.print(ended);
  if (ended.status === 'FAILED') {
    io.err(`${what} FAILED: ${ended.error ?? 'no error recorded'}\n`);
    return EXIT_SNAPSHOT_FAILED;
  }
  return 0;
}

const WAIT_EXIT_CODES = [
  'With --wait: 0 COMPLETE; 3 FAILED (the error on standard error); 1 the API answered with an',
  'error or could not be reached; 2 the command line is wrong (nothing was sent); 130 Ctrl-C stopped',
  'the wait (the work runs on). Without --wait: 0 started, 1 and 2 as for every command.',
].join('\n');

const WAIT_OPTIONS: OptionDecls = {
  wait: {
    type: 'boolean',
    help: [
      'poll until it is COMPLETE or FAILED, with a progress bar on a terminal,',
      'then print it; Ctrl-C stops waiting (exit 130)',
    ],
  },
  interval: {
    type: 'string',
    value: '<ms>',
    within: true,
    help: [`pause between polls, with --wait (default ${DEFAULT_POLL_INTERVAL_MS})`],
  },
};

export const snapshotCreateCommand: Command = {
  name: 'snapshot create',
  args: [],
  summary: 'take a snapshot of a namespace, or of every namespace',
  about: [
    'Prints {"id", "status": "RUNNING"}: the export runs as a workflow; follow it with',
    '`vesta snapshot get <id>` or --wait. Parts and manifest go to the snapshot bucket (locally',
    '$VESTA_DATA_DIR/snapshots/<id>/).',
  ].join('\n'),
  exitCodes: WAIT_EXIT_CODES,
  options: {
    namespace: { type: 'string', value: '<ns>', help: ['only this namespace (one part); default every namespace'] },
    ...WAIT_OPTIONS,
  },
  async run(ctx) {
    const { values, client, io, output } = ctx;
    const intervalMs = parsePollInterval(str(values, 'interval'));
    const ns = str(values, 'namespace');
    const started = await client.snapshots.create({ namespace: ns });
    if (!flag(values, 'wait')) {
      output.print(started);
      return;
    }
    io.err(`started snapshot ${started.id}; waiting for it, Ctrl-C to stop waiting\n`);
    return untilDone(
      ctx,
      `snapshot ${started.id}`,
      (o) => client.snapshots.wait(started.id, o),
      intervalMs,
      snapshotProgress,
      `vesta snapshot get ${started.id}`,
    );
  },
};

export const snapshotListCommand: Command = {
  name: 'snapshot list',
  args: [],
  summary: 'list snapshots, newest first',
  about: 'Prints {"items": [snapshot...]}, newest first, each as `vesta snapshot get` prints it.',
  options: {
    namespace: {
      type: 'string',
      value: '<ns>',
      help: ['the snapshots that hold this namespace (its own and whole-store ones)'],
    },
    table: { type: 'boolean', help: ['one row per snapshot: id, namespace, status, records, bytes, parts, times'] },
  },
  async run({ values, client, output }) {
    const items = await client.snapshots.list({ namespace: str(values, 'namespace') });
    output.printResult({ items }, (v) => snapshotsTable(v.items));
  },
};

export const snapshotGetCommand: Command = {
  name: 'snapshot get',
  args: ['id'],
  summary: 'print a snapshot: status, and once COMPLETE its manifest',
  about: [
    'Prints {"id", "namespace", "status", "items", "bytes", "parts": [{"name", "items", "bytes",',
    '"sha256"}], "segments", "startedAt", "finishedAt", "format"}; status RUNNING (parts: those',
    'written so far), COMPLETE or FAILED (with "error").',
  ].join('\n'),
  options: {},
  async run({ args: [id], client, output }) {
    output.print(await client.snapshots.get(id));
  },
};

export const snapshotRestoreCommand: Command = {
  name: 'snapshot restore',
  args: ['id'],
  summary: 'restore a snapshot without overwriting newer records',
  about: [
    "Checks every part's sha256 first (a damaged snapshot writes nothing and ends FAILED), then",
    'writes each record with a condition. Prints {"id", "status": "RUNNING", "snapshotId"};',
    'follow it with --wait (prints {"id", "status", "written", "skipped", ...}).',
  ].join('\n'),
  exitCodes: WAIT_EXIT_CODES,
  options: {
    mode: {
      type: 'string',
      required: true,
      choices: MODES,
      help: {
        missing: ['write only records that are absent (or deleted)'],
        newer: [
          "also replace records whose rev is lower than the snapshot's;",
          "a record at or above the snapshot's rev is never touched",
        ],
      } satisfies Record<(typeof MODES)[number], readonly string[]>,
    },
    namespace: {
      type: 'string',
      value: '<ns>',
      help: ['restore into <ns> (a namespace snapshot), or only <ns> (a whole-store one)'],
    },
    ...WAIT_OPTIONS,
  },
  async run(ctx) {
    const {
      args: [id],
      values,
      client,
      io,
      output,
    } = ctx;
    const mode = parseMode(str(values, 'mode'));
    const intervalMs = parsePollInterval(str(values, 'interval'));
    const started = await client.snapshots.restore(id, { mode, namespace: str(values, 'namespace') });
    if (!flag(values, 'wait')) {
      output.print(started);
      return;
    }
    io.err(`started restore ${started.id} of snapshot ${id}; waiting for it, Ctrl-C to stop waiting\n`);
    return untilDone(
      ctx,
      `restore ${started.id}`,
      (o) => client.snapshots.waitRestore(started.id, o),
      intervalMs,
      restoreProgress,
      `vesta snapshot restore-status ${started.id}`,
    );
  },
};

/** A location as the API takes it: a relative folder path is made absolute here (the local stack runs here). */
export function importLocation(location: string): string {
  if (location === '') throw new UsageError('the location is empty', 'snapshot import');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) || isAbsolute(location)) return location;
  return resolve(location);
}

/** `vesta snapshot import <location>`: registers the snapshots found there. */
export const snapshotImportCommand: Command = {
  name: 'snapshot import',
  args: ['location'],
  summary: 'import the snapshots found in a bucket prefix or a folder, so they can be restored here',
  about: [
    'Reads every snapshots/<id>/manifest.json at <location> (s3://<bucket>/<prefix> of the',
    "deployment's own bucket; locally a folder, e.g. another stack's $VESTA_DATA_DIR), checks every",
    "part's size and sha256, copies them into this deployment's store and registers them.",
    'Prints {"items": [manifest...]}. A damaged part imports nothing (SnapshotDamaged, naming the',
    'snapshot and the part); importing the same snapshots again is harmless. A relative folder is',
    'taken from the current directory.',
  ].join('\n'),
  options: {},
  async run({ args: [location], client, output }) {
    output.print({ items: await client.snapshots.import(importLocation(location)) });
  },
};

/** `vesta snapshot restore-status <id>`: a restore's status and counts. */
export const snapshotRestoreStatusCommand: Command = {
  name: 'snapshot restore-status',
  args: ['id'],
  summary: 'print a restore: status, records written and skipped',
  about: 'Prints {"id", "snapshotId", "namespace", "mode", "status", "written", "skipped", "startedAt", "finishedAt"}.',
  options: {},
  async run({ args: [id], client, output }) {
    output.print(await client.snapshots.getRestore(id));
  },
};
