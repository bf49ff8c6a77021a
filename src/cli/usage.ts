/**
 * Help texts: the tool's (`vesta --help`) and each command's (`vesta <command> --help`).
 */
import { type Command, hasTable } from './command';
import { COMMANDS, COMMON_OPTIONS } from './commands';
import { optionHelp, optionUsage } from './options';

const COMMON = ['Options of every command:', ...optionHelp(COMMON_OPTIONS)].join('\n');

const EXIT_CODES = [
  'Exit codes: 0 success; 1 the API answered with an error, or could not be reached;',
  '2 the command line is wrong (nothing was sent).',
].join('\n');

/** Every exit code of the tool, for `vesta --help`; each command's help says which of them it uses. */
const ALL_EXIT_CODES = [
  'Exit codes:',
  '  0    success',
  '  1    the API answered with an error, or could not be reached; `smoke`: a step failed',
  '  2    the command line is wrong (nothing was sent)',
  '  3    the outcome a command waited for or checked is a failure: saga COMPENSATED, snapshot or',
  '       restore FAILED, dead letter failed again, health degraded, watch cursor expired',
  '  4    saga COMPENSATION_FAILED',
  '  130  Ctrl-C stopped a --wait, `saga watch` or `watch` (the work itself runs on), or `smoke`',
  '       (after its clean-up)',
].join('\n');

const TABLED = COMMANDS.filter(hasTable).map((c) => c.name);

const OUTPUT = [
  'Results print on standard output: pretty JSON by default, or YAML with --output yaml, numbers',
  'digit for digit as the API sent them; with --table (--output table), a table for',
  `${TABLED.slice(0, -1).join(', ')} and ${TABLED[TABLED.length - 1]}.`,
  'Errors, hints, notes and progress go to standard error. `vesta watch` prints one compact JSON',
  'object per line (NDJSON), one per change (--output yaml: one YAML document per change).',
  'No colour is ever written (so NO_COLOR is always honoured); a snapshot --wait draws a progress',
  'line only when standard error is a terminal.',
].join('\n');

function synopsis(c: Command): string {
  const optional = (c.optionalArgs ?? []).map((a) => `[<${a}>]`);
  return ['vesta', c.name, ...c.args.map((a) => `<${a}>`), ...optional, c.usage ?? optionUsage(c.options)]
    .filter(Boolean)
    .join(' ');
}

/** The usage of the whole tool, or of the commands of one group (`ns`). Never throws. */
export function toolUsage(group?: string): string {
  const listed = group ? COMMANDS.filter((c) => c.name.startsWith(`${group} `)) : COMMANDS;
  const width = Math.max(...listed.map((c) => c.name.length));
  return [
    `usage: vesta ${group ? `${group} ` : ''}<command> [arguments] [options]`,
    '',
    'Commands:',
    ...listed.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    COMMON,
    '',
    OUTPUT,
    '',
    ALL_EXIT_CODES,
    '',
    'Run `vesta <command> --help` for the arguments and options of a command, `vesta --version` for the version.',
    '',
  ].join('\n');
}

/** The usage of one command. Never throws. */
export function commandUsage(c: Command): string {
  const summary = `${c.summary[0].toUpperCase()}${c.summary.slice(1)}.`;
  const details = [c.about, ...optionHelp(c.options), ...(c.notes ? [c.notes] : [])].join('\n');
  return [`usage: ${synopsis(c)}`, '', summary, details, '', COMMON, '', c.exitCodes ?? EXIT_CODES, ''].join('\n');
}
