/**
 * The `vesta` command line: finds the command, parses its options with `util.parseArgs`, runs it
 * with a client of the API at `--url` (see `connection.ts`) and turns failures into messages and
 * exit codes.
 */
import { parseArgs } from 'node:util';
import type { VestaClient } from '../client';
import { type Command, type CommandContext, hasTable } from './command';
import { type OptionValues, parserOptions } from './options';
import { COMMANDS, COMMON_OPTIONS, GROUPS, findCommand } from './commands';
import { SigningError, UsageError } from './errors';
import { describeError, isSigningError } from './hints';
import { type Connector, type Target, connector, resolveTarget } from './connection';
import { type CliIo, processIo } from './io';
import { OUTPUT_FORMATS, type OutputFormat, outputTo } from './output';
import { closest } from './suggest';
import { commandUsage, toolUsage } from './usage';
import { VERSION } from './version';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const TABLED = COMMANDS.filter(hasTable)
  .map((c) => c.name)
  .join(', ');

interface Split {
  /** The command words (`['get']`, `['ns', 'set']`, `['help', 'get']`); empty when none. */
  readonly words: string[];
  /** Every other argument, in order. */
  readonly rest: string[];
}

/** The common options that take a value (`--url X`), as they may precede the command words. */
const VALUED = Object.entries(COMMON_OPTIONS)
  .filter(([, spec]) => spec.type === 'string')
  .map(([name]) => `--${name}`);

/** Separates the command words from the options that may precede them (`--url X`, `--help`). */
function split(argv: readonly string[]): Split {
  let i = 0;
  while (i < argv.length && argv[i].startsWith('-')) i += VALUED.includes(argv[i]) ? 2 : 1;
  const most = argv[i] === 'help' ? 3 : GROUPS.includes(argv[i]) ? 2 : 1;
  let n = 0;
  while (n < most && i + n < argv.length && !argv[i + n].startsWith('-')) n += 1;
  return { words: argv.slice(i, i + n), rest: [...argv.slice(0, i), ...argv.slice(i + n)] };
}

function parse(command: Command | undefined, rest: string[]): { positionals: string[]; values: OptionValues } {
  try {
    const options = parserOptions({ ...COMMON_OPTIONS, ...(command?.options ?? {}) });
    return parseArgs({ args: rest, options, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError((e as Error).message, command?.name, { cause: e });
  }
}

/**
 * Answers `vesta`, `vesta --help`, `vesta help [command]` and `vesta ns [--help]`: help on
 * standard output when asked for, else the usage on standard error with exit code 2.
 * Throws `UsageError` for an unknown command.
 */
function help(words: string[], rest: string[], io: CliIo): number {
  const asked = words[0] === 'help' ? words.slice(1) : words;
  const command = findCommand(asked);
  const group = GROUPS.includes(asked[0]) ? asked[0] : undefined;
  if (!command && asked.length > (group ? 1 : 0)) {
    const typed = asked.join(' ');
    const guess = closest(typed, [...COMMANDS.map((c) => c.name), ...GROUPS]);
    throw new UsageError(`unknown command ${JSON.stringify(typed)}${guess ? `; did you mean "${guess}"?` : ''}`);
  }
  const wanted = words[0] === 'help' || parse(undefined, rest).values.help === true;
  if (command) io.out(commandUsage(command));
  else (wanted ? io.out : io.err)(toolUsage(group));
  return wanted || command ? EXIT_OK : EXIT_USAGE;
}

/**
 * The format `--output` asks for: `json` (the default), `table` (the same as `--table`) or `yaml`.
 * Throws `UsageError` for another format, or for `--output json` or `yaml` with `--table`.
 */
function outputFormat(values: OptionValues, command: Command): OutputFormat {
  const output = values.output;
  const table = values.table === true;
  if (output === undefined) return table ? 'table' : 'json';
  if (!(OUTPUT_FORMATS as readonly unknown[]).includes(output))
    throw new UsageError(
      `--output expects ${OUTPUT_FORMATS.join(', ')}. Received: ${JSON.stringify(output)}`,
      command.name,
    );
  if (table && output !== 'table')
    throw new UsageError(`--output ${output} and --table ask for two formats; give one`, command.name);
  return output as OutputFormat;
}

/**
 * Runs one command. Throws `UsageError` (also for a `--url` that is not an http(s) URL, or
 * `--table` on a command that has no table), `ConfigError`, or the client's `ApiError` or
 * `NetworkError`.
 */
async function run(command: Command, rest: string[], io: CliIo): Promise<number> {
  const parsed = parse(command, rest);
  const { positionals, values } = parsed;
  const format = outputFormat(values, command);
  if (values.help === true) {
    io.out(commandUsage(command));
    return EXIT_OK;
  }
  const most = command.args.length + (command.optionalArgs?.length ?? 0);
  if (!command.checksOwnArgs && (positionals.length < command.args.length || positionals.length > most)) {
    const optional = (command.optionalArgs ?? []).map((a) => ` [<${a}>]`).join('');
    const expected = command.args.map((a) => `<${a}>`).join(' ') + optional;
    throw new UsageError(
      `${command.name} expects ${expected}; received ${positionals.length} argument(s)`,
      command.name,
    );
  }
  if (format === 'table' && !hasTable(command)) {
    throw new UsageError(
      `${command.name} has no table form; it prints JSON or YAML (--table works with ${TABLED})`,
      command.name,
    );
  }
  const output = outputTo(io, format);
  // Connected on first use: `vesta config` works whatever URL is stored.
  let target: Target | undefined;
  let connect: Connector | undefined;
  let client: VestaClient | undefined;
  const ctx: CommandContext = {
    args: positionals,
    values,
    io,
    output,
    connect: (overrides) => {
      target ??= resolveTarget(values, io);
      connect ??= connector(target, io);
      return connect(overrides);
    },
    get client() {
      client ??= ctx.connect();
      return client;
    },
  };
  try {
    return (await command.run(ctx)) ?? EXIT_OK;
  } catch (e) {
    // The client passes signing failures on as the credential chain throws them: name the profile.
    if (isSigningError(e)) throw new SigningError(target?.profile, { cause: e as Error });
    throw e;
  }
}

/**
 * Runs `vesta` with `argv` (without the node and script paths) and resolves to the exit code
 * (`vesta --version` prints the version):
 * 0 on success, 1 when the API answered with an error or could not be reached, 2 for a usage
 * error, or the code the command resolved to (a saga's outcome, 130 after Ctrl-C). Never
 * rejects: every failure is written to `io.err`.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  if (argv.length === 1 && argv[0] === '--version') {
    io.out(`vesta ${VERSION}\n`);
    return EXIT_OK;
  }
  const { words, rest } = split(argv);
  const command = words[0] === 'help' ? undefined : findCommand(words);
  try {
    return command ? await run(command, rest, io) : help(words, rest, io);
  } catch (e) {
    io.err(describeError(e, command?.name));
    return e instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
  }
}
