/**
 * The registry of commands, in the order `vesta --help` lists them, and the options every
 * command accepts.
 */
import type { Command } from './command';
import type { OptionSpecs } from './options';
import { configGetCommand, configSetCommand, configUnsetCommand } from './config-commands';
import { healthCommand } from './health-command';
import { leaseGetCommand, leaseGrantCommand, leaseKeepaliveCommand, leaseRevokeCommand } from './lease-commands';
import { lockAcquireCommand, lockReleaseCommand } from './lock-commands';
import { lsCommand, nsGetCommand, nsSetCommand, txnCommand } from './namespace-commands';
import { deleteCommand, getCommand, patchCommand, putCommand } from './record-commands';
import { sagaGetCommand, sagaStartCommand, sagaWatchCommand } from './saga-commands';
import {
  snapshotCreateCommand,
  snapshotGetCommand,
  snapshotListCommand,
  snapshotRestoreCommand,
  snapshotRestoreStatusCommand,
} from './snapshot-commands';
import { watchCommand } from './watch-commands';
import { deadLetterGetCommand, deadLetterLsCommand, deadLetterReplayCommand, deadLetterRmCommand } from './dead-letter-commands';

export const COMMANDS: readonly Command[] = [
  getCommand,
  putCommand,
  patchCommand,
  deleteCommand,
  lsCommand,
  txnCommand,
  nsGetCommand,
  nsSetCommand,
  leaseGrantCommand,
  leaseKeepaliveCommand,
  leaseGetCommand,
  leaseRevokeCommand,
  lockAcquireCommand,
  lockReleaseCommand,
  sagaStartCommand,
  sagaGetCommand,
  sagaWatchCommand,
  snapshotCreateCommand,
  snapshotListCommand,
  snapshotGetCommand,
  snapshotRestoreCommand,
  snapshotRestoreStatusCommand,
  watchCommand,
  deadLetterLsCommand,
  deadLetterGetCommand,
  deadLetterReplayCommand,
  deadLetterRmCommand,
  healthCommand,
  configSetCommand,
  configGetCommand,
  configUnsetCommand,
];

/** Command words that take a second word (`ns get`, `lease grant`). */
export const GROUPS: readonly string[] = ['ns', 'lease', 'lock', 'saga', 'snapshot', 'dead-letter', 'config'];

/** Options of every command, accepted before or after the command words. */
export const COMMON_OPTIONS: OptionSpecs = {
  url: { type: 'string' },
  profile: { type: 'string' },
  region: { type: 'string' },
  table: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** The command named by `words` (`['get']`, `['ns', 'set']`), or undefined. Never throws. */
export function findCommand(words: readonly string[]): Command | undefined {
  return COMMANDS.find((c) => c.name === words.join(' '));
}
