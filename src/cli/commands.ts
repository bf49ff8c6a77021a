/**
 * The registry of commands, in the order `vesta --help` lists them, and the options every
 * command accepts.
 */
import type { Command } from './command';
import { DEFAULT_URL } from './connection';
import type { OptionDecls } from './options';
import { SHELLS, type Shell, completionScript } from './completion';
import { UsageError } from './errors';
import { OUTPUT_FORMATS, type OutputFormat } from './output';
import { configGetCommand, configSetCommand, configUnsetCommand } from './config-commands';
import { healthCommand } from './health-command';
import { smokeCommand } from './smoke-command';
import { leaseGetCommand, leaseGrantCommand, leaseKeepaliveCommand, leaseRevokeCommand } from './lease-commands';
import { lockAcquireCommand, lockLsCommand, lockReleaseCommand } from './lock-commands';
import { lsCommand, nsGetCommand, nsSetCommand, txnCommand } from './namespace-commands';
import { deleteCommand, getCommand, patchCommand, putCommand } from './record-commands';
import { ttlCommand } from './ttl-command';
import { sagaGetCommand, sagaLsCommand, sagaRetryCommand, sagaStartCommand, sagaWatchCommand } from './saga-commands';
import {
  snapshotCreateCommand,
  snapshotGetCommand,
  snapshotImportCommand,
  snapshotListCommand,
  snapshotRestoreCommand,
  snapshotRestoreStatusCommand,
} from './snapshot-commands';
import { watchCommand } from './watch-commands';
import {
  deadLetterGetCommand,
  deadLetterLsCommand,
  deadLetterReplayCommand,
  deadLetterRmCommand,
} from './dead-letter-commands';

export const COMMANDS: readonly Command[] = [
  getCommand,
  putCommand,
  patchCommand,
  deleteCommand,
  ttlCommand,
  lsCommand,
  txnCommand,
  nsGetCommand,
  nsSetCommand,
  leaseGrantCommand,
  leaseKeepaliveCommand,
  leaseGetCommand,
  leaseRevokeCommand,
  lockLsCommand,
  lockAcquireCommand,
  lockReleaseCommand,
  sagaStartCommand,
  sagaLsCommand,
  sagaGetCommand,
  sagaWatchCommand,
  sagaRetryCommand,
  snapshotCreateCommand,
  snapshotListCommand,
  snapshotGetCommand,
  snapshotImportCommand,
  snapshotRestoreCommand,
  snapshotRestoreStatusCommand,
  watchCommand,
  deadLetterLsCommand,
  deadLetterGetCommand,
  deadLetterReplayCommand,
  deadLetterRmCommand,
  healthCommand,
  smokeCommand,
  configSetCommand,
  configGetCommand,
  configUnsetCommand,
  completionCommand(),
];

/** `vesta completion bash|zsh`: the completion script of the commands above. */
function completionCommand(): Command {
  return {
    name: 'completion',
    args: ['shell'],
    summary: 'print a shell completion script (bash or zsh)',
    about: [
      'Prints the completion script for <shell> (bash or zsh). Load it in the shell, or from its',
      'startup file: source <(vesta completion bash)',
    ].join('\n'),
    options: {},
    async run({ args: [shell], io }) {
      if (!(SHELLS as readonly string[]).includes(shell))
        throw new UsageError(`completion expects bash or zsh. Received: ${JSON.stringify(shell)}`, 'completion');
      io.out(completionScript(shell as Shell, COMMANDS, COMMON_OPTIONS));
    },
  };
}

/** Command words that take a second word (`ns get`, `lease grant`), in the order first listed. */
export const GROUPS: readonly string[] = [
  ...new Set(COMMANDS.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0])),
];

/** Options of every command, accepted before or after the command words. */
export const COMMON_OPTIONS: OptionDecls = {
  url: {
    type: 'string',
    value: 'URL',
    help: [
      'the Vesta API, with or without /v1 (default: $VESTA_URL, else',
      `\`vesta config get url\`, else ${DEFAULT_URL}); a deployed`,
      'https://<api-id>.execute-api.<region>.amazonaws.com/<stage> URL',
      'is signed with SigV4',
    ],
  },
  regions: {
    type: 'string',
    value: 'R=URL,...',
    help: [
      'the API of each Region of a deployment, e.g.',
      'eu-west-1=https://...,us-east-1=https://... (default: `vesta config',
      'get regions`); requests go to --region, else the first, and fail over',
      'to the others in order when it is unavailable. --url wins over it',
    ],
  },
  profile: {
    type: 'string',
    value: 'NAME',
    help: [
      'AWS profile whose credentials sign requests to a deployed stack',
      '(default: $AWS_PROFILE, else `vesta config get profile`, else the',
      'default credential chain)',
    ],
  },
  region: {
    type: 'string',
    value: 'REGION',
    help: [
      "AWS region to sign for (default: the execute-api URL's, else",
      '`vesta config get region`, else $AWS_REGION); with --regions (or',
      'the regions setting), the Region to prefer',
    ],
  },
  table: { type: 'boolean', help: ['a readable table instead of JSON, where the command has one'] },
  output: {
    type: 'string',
    choices: OUTPUT_FORMATS,
    help: {
      json: ['results as pretty JSON (the default); numbers digit for digit'],
      table: ['the same as --table'],
      yaml: [
        'results as YAML: numbers digit for digit and unquoted, strings',
        'that would read as numbers, booleans or null quoted',
      ],
    } satisfies Record<OutputFormat, readonly string[]>,
  },
  help: { type: 'boolean', short: 'h', help: ['show help'] },
};

/** The command named by `words` (`['get']`, `['ns', 'set']`), or undefined. Never throws. */
export function findCommand(words: readonly string[]): Command | undefined {
  return COMMANDS.find((c) => c.name === words.join(' '));
}
