/**
 * The shape of one CLI command and of what it runs with.
 */
import type { VestaClient } from '../client';
import type { Connector } from './connection';
import type { CliIo } from './io';
import type { OptionSpecs, OptionValues } from './options';

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
}

export interface Command {
  /** As typed after `vesta`, e.g. `get` or `ns set`. */
  readonly name: string;
  /** Names of the positional arguments, all required, e.g. `['ns', 'key']`. */
  readonly args: readonly string[];
  /**
   * True when `run` checks the positionals itself and takes any number of them
   * (`saga start --transfer <ns> <from> <to> <field> <amount>`); else exactly `args` are required.
   */
  readonly checksOwnArgs?: boolean;
  /** The options after the positionals, as shown in usage, e.g. `[--fields a,b] [--etag]`. */
  readonly synopsis: string;
  /** One line for the tool's command list. */
  readonly summary: string;
  /** Further lines of `vesta <command> --help`: what it does and each option. */
  readonly details: string;
  /** The exit codes of `vesta <command> --help`, when they are not the tool's usual ones. */
  readonly exitCodes?: string;
  readonly options: OptionSpecs;
  /** Whether `--table` prints its result as a table instead of JSON. @default false */
  readonly table?: boolean;
  /**
   * Runs the command, writing its result to `io.out`, and resolves to its exit code when that
   * is not 0 (a saga's outcome). Throws the CLI's errors (`errors.ts`).
   */
  run(ctx: CommandContext): Promise<number | void>;
}
