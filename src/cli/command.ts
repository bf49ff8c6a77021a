/**
 * The shape of one CLI command and of what it runs with. A command is declared once, with its
 * options (`options.ts`); the parser, the usage line and `--help` are made from that.
 */
import type { VestaClient } from '../client';
import type { Connector } from './connection';
import type { CliIo } from './io';
import type { OptionDecls, OptionValues } from './options';
import type { Output } from './output';

export interface CommandContext {
  /** The positional arguments, exactly as many as `Command.args` names. */
  readonly args: readonly string[];
  readonly values: OptionValues;
  /** The client of the API the command talks to (`--url`, `--profile`, `--region`). */
  readonly client: VestaClient;
  /**
   * Another client of the same API with other retries or timeout. Both this and `client` connect
   * on first use and throw `UsageError` for a URL that is not http(s), `ConfigError` for a
   * settings file that cannot be read.
   */
  readonly connect: Connector;
  readonly io: CliIo;
  /** How results print: `--output json` (the default), `yaml`, or `table` (`--table`). */
  readonly output: Output;
}

export interface Command {
  /** As typed after `vesta`, e.g. `get` or `ns set`. */
  readonly name: string;
  /** Names of the positional arguments, all required, e.g. `['ns', 'key']`. */
  readonly args: readonly string[];
  /** Names of positional arguments that may follow `args` (`patch <ns> <key> [<body>]`). @default none */
  readonly optionalArgs?: readonly string[];
  /**
   * True when `run` checks the positionals itself and takes any number of them
   * (`saga start --transfer <ns> <from> <to> <field> <amount>`); else exactly `args` are required.
   */
  readonly checksOwnArgs?: boolean;
  /** One line for the tool's command list. */
  readonly summary: string;
  /** What `vesta <command> --help` says before the options. */
  readonly about: string;
  /** The options after the positionals, in the order `--help` lists them. */
  readonly options: OptionDecls;
  /** What `vesta <command> --help` says after the options. */
  readonly notes?: string;
  /**
   * The usage line after the arguments, for the few whose options are alternatives across the
   * order they are explained in (`put`, `saga start`). @default made from `options`
   */
  readonly usage?: string;
  /** The exit codes of `vesta <command> --help`, when they are not the tool's usual ones. */
  readonly exitCodes?: string;
  /**
   * Runs the command, writing its result to `io.out`, and resolves to its exit code when that
   * is not 0 (a saga's outcome). Throws the CLI's errors (`errors.ts`).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: most commands return nothing (exit 0); a few return their exit code
  run(ctx: CommandContext): Promise<number | void>;
}

/** Whether `--table` (`--output table`) prints the command's result as a table: it declares the option. Never throws. */
export function hasTable(command: Command): boolean {
  return command.options.table !== undefined;
}
