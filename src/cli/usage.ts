/**
 * Help texts: the tool's (`vesta --help`) and each command's (`vesta <command> --help`).
 */
import type { Command } from './command';
import { COMMANDS } from './commands';
import { DEFAULT_URL } from './connection';

const COMMON = [
  'Options of every command:',
  '  --url URL               the Vesta API (default: $VESTA_URL, else `vesta config get url`,',
  `                          else ${DEFAULT_URL}); a deployed https://<api-id>.execute-api.`,
  '                          <region>.amazonaws.com/<stage> URL is signed with SigV4',
  '  --profile NAME          AWS profile whose credentials sign requests to a deployed stack',
  '                          (default: $AWS_PROFILE, else `vesta config get profile`, else the',
  '                          default credential chain)',
  '  --region REGION         AWS region to sign for (default: the execute-api URL\'s, else',
  '                          `vesta config get region`, else $AWS_REGION)',
  '  --table                 a readable table instead of JSON, where the command has one',
  '  -h, --help              show help',
].join('\n');

const EXIT_CODES = [
  'Exit codes: 0 success; 1 the API answered with an error, or could not be reached;',
  '2 the command line is wrong (nothing was sent).',
].join('\n');

function synopsis(c: Command): string {
  return ['vesta', c.name, ...c.args.map((a) => `<${a}>`), c.synopsis].filter(Boolean).join(' ');
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
    'Run `vesta <command> --help` for the arguments and options of a command.',
    '',
  ].join('\n');
}

/** The usage of one command. Never throws. */
export function commandUsage(c: Command): string {
  const summary = `${c.summary[0].toUpperCase()}${c.summary.slice(1)}.`;
  return [`usage: ${synopsis(c)}`, '', summary, c.details, '', COMMON, '', c.exitCodes ?? EXIT_CODES, ''].join('\n');
}
