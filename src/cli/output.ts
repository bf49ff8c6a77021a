/**
 * How results print (`--output`): pretty JSON (the default), YAML, or a table where the command
 * has one (`--output table`, the same as `--table`). Results go to standard output; messages to
 * standard error, whatever the format. YAML is written by `yaml.ts`, loaded only when asked for,
 * so that the other formats never load the YAML library.
 */
import { stringifyJson } from '../client';
import type { CliIo } from './io';

export const OUTPUT_FORMATS = ['json', 'table', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Prints results to standard output in the format asked for. Never throws for JSON values. */
export interface Output {
  readonly format: OutputFormat;
  /** Prints a result as one document: pretty JSON, or YAML (a table format prints JSON here). */
  print(value: unknown): void;
  /** Prints `value` as `table` renders it when the format is `table`, else as `print` does. */
  printResult<T>(value: T, table: (value: T) => string): void;
  /**
   * Prints one item of a stream (`vesta watch`): one compact JSON line (NDJSON), or one YAML
   * document that starts with `---` (together, a YAML stream).
   */
  printItem(value: unknown): void;
}

/** The output of `format` to `io`; loads the YAML writer for `yaml`. Never throws. */
export function outputTo(io: CliIo, format: OutputFormat): Output {
  let document = (value: unknown) => `${stringifyJson(value, 2)}\n`;
  let item = (value: unknown) => `${stringifyJson(value)}\n`;
  if (format === 'yaml') {
    // A require, not an import: loaded on first use only, in the bundle (scripts/build-cli.mjs)
    // as under tsx and jest.
    const { toYaml }: typeof import('./yaml') = require('./yaml');
    document = toYaml;
    item = (value) => `---\n${toYaml(value)}`;
  }
  const print = (value: unknown) => io.out(document(value));
  return {
    format,
    print,
    printResult: (value, table) => (format === 'table' ? io.out(table(value)) : print(value)),
    printItem: (value) => io.out(item(value)),
  };
}
