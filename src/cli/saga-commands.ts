/**
 * Commands on sagas: start (and wait for the outcome with --wait), get, watch (one line per
 * change until the saga ends or Ctrl-C), and retry (a COMPENSATION_FAILED saga's compensation).
 */
import { SAGA_STATUSES, type Saga, type SagaStatus, type SagaSummary } from '../client';
import type { Command, CommandContext } from './command';
import { flag, str } from './options';
import { readJsonObject } from './input';
import { waitSignal } from './io';
import {
  DEFAULT_POLL_INTERVAL_MS,
  type EndedStatus,
  EXIT_INTERRUPTED,
  TRANSFER_ARGS,
  type SagaView,
  finalLine,
  parsePollInterval,
  parseStartSource,
  sagaChanges,
  sagaExitCode,
  transferBody,
  withSagaId,
} from './saga-args';
import { UsageError } from './errors';
import { parseListLimit } from './namespace-commands';
import { sagaTable, sagasTable } from './table';

export const sagaLsCommand: Command = {
  name: 'saga ls',
  args: [],
  summary: 'list sagas, newest first',
  about: [
    'Prints {"items": [{"id", "status", "type", "startedAt", "finishedAt"}], "cursor"}, newest',
    'first; pass the cursor back to continue. A saga started or ended a moment ago may be listed a',
    'moment later (or under its previous status).',
  ].join('\n'),
  options: {
    status: { type: 'string', value: '<status>', choices: SAGA_STATUSES, help: ['only sagas in this status'] },
    limit: { type: 'string', value: 'n', help: ['page size, 1 to 1000 (default 100)'] },
    all: { type: 'boolean', help: ['follow cursors and print every page as one list'] },
    cursor: { type: 'string', value: 'c', or: true, help: ['continue after a previous page'] },
    table: {
      type: 'boolean',
      help: ['one row per saga: id, status, type, start, end; the cursor of the', 'next page goes to standard error'],
    },
  },
  async run({ values, client, io, output }) {
    const status = str(values, 'status');
    if (status !== undefined && !(SAGA_STATUSES as readonly string[]).includes(status))
      throw new UsageError(
        `--status must be one of ${SAGA_STATUSES.join(', ')}. Received: ${JSON.stringify(status)}`,
        'saga ls',
      );
    const limit = parseListLimit(str(values, 'limit'), 'saga ls');
    const items: SagaSummary[] = [];
    let cursor = str(values, 'cursor');
    do {
      const page = await client.sagas.list({
        status: status as SagaStatus | undefined,
        limit: flag(values, 'all') ? 1000 : limit,
        cursor,
      });
      items.push(...page.items);
      cursor = page.cursor ?? undefined;
    } while (flag(values, 'all') && cursor !== undefined);
    const page = { items, cursor: cursor ?? null };
    output.printResult(page, (v) => sagasTable(v.items));
    if (output.format === 'table' && page.cursor)
      io.err(`more sagas: \`vesta saga ls --cursor ${page.cursor}\` lists the next page\n`);
  },
};

/** The saga as the API sends it: the client's `Saga` with the members the CLI prints. */
const asView = (saga: Saga): SagaView => saga as unknown as SagaView;

/**
 * Waits for saga `id` with the client until it ends or Ctrl-C, and returns the exit code. With
 * `log`, logs what `sagaChanges` finds in each new state the client reports, then `finalLine`;
 * without, prints the ended saga as `--output` asks. Throws the client's `ApiError` or `NetworkError`.
 */
async function untilEnded(
  { client, io, output }: CommandContext,
  id: string,
  intervalMs: number,
  log?: (line: string) => void,
): Promise<number> {
  const signal = waitSignal(io);
  let last: SagaView | undefined;
  let ended: SagaView;
  try {
    ended = asView(
      await client.sagas.wait(id, {
        intervalMs,
        signal,
        onProgress: (saga) => {
          if (log) for (const line of sagaChanges(last, asView(saga))) log(line);
          last = asView(saga);
        },
      }),
    );
  } catch (e) {
    if (!signal.aborted) throw e;
    const state = last ? `saga ${id} is still ${last.status}` : `saga ${id} was not read yet`;
    io.err(`stopped at ${new Date().toISOString()}; ${state}: \`vesta saga watch ${id}\` follows it again\n`);
    return EXIT_INTERRUPTED;
  }
  if (log) log(finalLine(ended));
  else output.print(ended);
  return sagaExitCode(ended.status as EndedStatus);
}

const OUTCOME_EXIT_CODES = [
  'Exit codes: 0 the saga SUCCEEDED; 3 it was COMPENSATED; 4 COMPENSATION_FAILED; 1 the API answered',
  'with an error or could not be reached; 2 the command line is wrong (nothing was sent); 130 Ctrl-C',
  'stopped the wait before the saga ended (the saga runs on).',
].join('\n');

const INTERVAL_HELP = `pause between polls (default ${DEFAULT_POLL_INTERVAL_MS})`;

export const sagaStartCommand: Command = {
  name: 'saga start',
  args: [],
  checksOwnArgs: true,
  summary: 'start a saga: steps from a file, or a built-in transfer',
  about: [
    'Prints {"id", "status": "RUNNING", "executionArn"}; a saga with that id already started prints',
    'as it stands (as `vesta saga get`) and is not started again; if that saga has another',
    'definition, nothing starts and the answer is 409 Conflict (SagaIdReused).',
  ].join('\n'),
  options: {
    file: {
      type: 'string',
      value: '<path>',
      help: [
        'the saga, {"id"?, "namespace", "steps": [{"name", "action",',
        '"compensation"?}]} or {"id"?, "type": "transfer", "input": {...}};',
        '--file - reads it from standard input',
      ],
    },
    transfer: {
      type: 'boolean',
      value: TRANSFER_ARGS.map((a) => `<${a}>`).join(' '),
      help: ['move <amount> of numeric <field> from record <from> to record <to>'],
    },
    id: { type: 'string', value: '<id>', help: ["the saga id (replaces the file's); the same id never runs twice"] },
    wait: {
      type: 'boolean',
      help: [
        'poll until the saga ends, then print it as `vesta saga get` does',
        'and exit with its outcome (below); Ctrl-C stops waiting (exit 130)',
      ],
    },
    interval: { type: 'string', value: '<ms>', help: [`${INTERVAL_HELP}, with --wait`] },
  },
  // One of --file and --transfer is required, and the usage line shows what --file reads.
  usage: '--file <saga.json|-> | --transfer <ns> <from> <to> <field> <amount> [--id <id>] [--wait [--interval <ms>]]',
  exitCodes: [OUTCOME_EXIT_CODES, 'Without --wait: 0 the saga was started, 1 and 2 as for every command.'].join('\n'),
  async run(ctx) {
    const { args, values, client, io, output } = ctx;
    const source = parseStartSource(args, values);
    const intervalMs = parsePollInterval(str(values, 'interval'));
    const base =
      source.kind === 'transfer'
        ? transferBody(source.args)
        : await readJsonObject(source.path === '-' ? '-' : `@${source.path}`, io, 'the saga');
    const body = withSagaId(base, str(values, 'id'));
    // The API validates the saga and names what is wrong with it.
    const { created: _created, ...started } = await client.sagas.start(
      body as unknown as Parameters<typeof client.sagas.start>[0],
    );
    if (!flag(values, 'wait')) {
      output.print(started);
      return;
    }
    io.err(`started saga ${started.id}; waiting for it to end, Ctrl-C to stop waiting\n`);
    return untilEnded(ctx, started.id, intervalMs);
  },
};

export const sagaGetCommand: Command = {
  name: 'saga get',
  args: ['id'],
  summary: 'print a saga and the status of each step',
  about: [
    'Prints {"id", "type", "namespace", "status", "executionArn", "steps": [{"name", "status",',
    '"error", "attempts"}], "startedAt", "finishedAt"}. status: RUNNING, SUCCEEDED, COMPENSATED or',
    "COMPENSATION_FAILED; a step's: PENDING, DONE, FAILED, COMPENSATED, COMPENSATION_FAILED or SKIPPED.",
  ].join('\n'),
  options: { table: { type: 'boolean', help: ['the saga, then one row per step (numbered from 0)'] } },
  async run({ args: [id], client, output }) {
    output.printResult(await client.sagas.get(id), sagaTable);
  },
};

export const sagaWatchCommand: Command = {
  name: 'saga watch',
  args: ['id'],
  summary: 'follow a saga step by step until it ends',
  about: [
    "Prints the saga's status, then one line per change as it is seen: each step's",
    '(`step 1 credit: PENDING -> DONE`, with the error of a FAILED or COMPENSATION_FAILED step)',
    "and the saga's. When the saga has ended, prints `saga <id> ended <status> at <time>` and",
    'exits with its outcome (below). Steps are numbered from 0.',
  ].join('\n'),
  exitCodes: OUTCOME_EXIT_CODES,
  options: { interval: { type: 'string', value: '<ms>', help: [INTERVAL_HELP] } },
  async run(ctx) {
    const intervalMs = parsePollInterval(str(ctx.values, 'interval'));
    return untilEnded(ctx, ctx.args[0], intervalMs, (line) => ctx.io.out(`${line}\n`));
  },
};

export const sagaRetryCommand: Command = {
  name: 'saga retry',
  args: ['id'],
  summary: "resume a COMPENSATION_FAILED saga's compensation once its cause is fixed",
  about: [
    'For a saga whose compensation failed, after you fixed the cause (`vesta saga get <id>` shows',
    "the step's error): the saga is RUNNING again and its compensation goes on where it stopped,",
    'each undo still applied exactly once. Prints the saga as `vesta saga get` does. A saga in any',
    'other status is refused (409 Conflict, reason SagaNotRetryable).',
  ].join('\n'),
  options: {
    wait: {
      type: 'boolean',
      help: ['poll until the saga ends, then print it and exit with its outcome (below)'],
    },
    interval: { type: 'string', value: '<ms>', help: [`${INTERVAL_HELP}, with --wait`] },
  },
  exitCodes: [OUTCOME_EXIT_CODES, 'Without --wait: 0 the retry was accepted, 1 and 2 as for every command.'].join('\n'),
  async run(ctx) {
    const { args, values, client, io, output } = ctx;
    const intervalMs = parsePollInterval(str(values, 'interval'));
    const saga = await client.sagas.retry(args[0]);
    if (!flag(values, 'wait')) {
      output.print(saga);
      return;
    }
    io.err(`retrying saga ${saga.id}; waiting for it to end, Ctrl-C to stop waiting\n`);
    return untilEnded(ctx, saga.id, intervalMs);
  },
};
