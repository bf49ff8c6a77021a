/**
 * Help texts: the tool's (`vesta --help`) and each command's (`vesta <command> --help`).
 */
import type { Command } from './command';
import { COMMANDS, COMMON_OPTIONS } from './commands';
import { optionHelp, optionUsage } from './options';

const COMMON = ['Options of every command:', ...optionHelp(COMMON_OPTIONS)].join('\n');

const EXIT_CODES = [
  'Exit codes: 0 success; 1 the API answered with an error, or could not be reached;',
  '2 the command line is wrong (nothing was sent).',
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
    'Records print as pretty JSON on standard output (--table: a table, for ls, get, lease get,',
    'saga get and snapshot list); errors and hints go to standard error.',
    '`vesta watch` prints one compact JSON object per line (NDJSON), one per change.',
    EXIT_CODES,
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
