/**
 * `vesta health`: whether the API answers and its store is reachable; a quick check of the URL,
 * profile and region a deployed stack is reached with.
 */
import type { Command } from './command';

/** Exit code when the API answers but reports itself degraded. */
export const EXIT_DEGRADED = 3;

export const healthCommand: Command = {
  name: 'health',
  args: [],
  summary: 'check that the API answers, and print its health',
  about: [
    'Prints {"status": "ok"|"degraded", "checks": {"store", "latestSnapshotAgeSeconds",',
    '"leaseReaperLagSeconds", "fieldSweeperLagSeconds"}}. Useful after `vesta config set url` to',
    'check the URL and, for a deployed stack, the credentials that sign the requests.',
  ].join('\n'),
  exitCodes: [
    `Exit codes: 0 ok; ${EXIT_DEGRADED} degraded; 1 the API answered with an error or could not be reached;`,
    '2 the command line is wrong (nothing was sent).',
  ].join('\n'),
  options: {},
  async run({ client, output }) {
    const health = await client.health();
    output.print(health);
    return health.status === 'ok' ? 0 : EXIT_DEGRADED;
  },
};
