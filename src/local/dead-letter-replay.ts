/**
 * Replays in the local stack (and in tests): the same replay code the background functions run in
 * AWS, called in process with the local stack's own parts. Parts may be filled in after the API is
 * built (the change feed starts later); a source whose part is missing cannot be replayed
 * (`400 ValidationError`), e.g. the publisher when the change feed is off.
 */
import { type DeadLetterSource, replayDeadLetter } from '../core/dead-letters';
import type { DeadLetterReplay, DeadLetterReplayer, DeadLetterStore } from '../core/ports';
import type { LeaseReaper } from '../adapters/dynamodb/lease-reaper';
import type { LeaseRenewer } from '../adapters/dynamodb/lease-renewer';
import type { FieldSweeper } from '../adapters/dynamodb/field-sweeper';
import { type PublisherDeps, replayPublisherEntry } from '../events/publisher';
import type { SnapshotWorkerDeps } from '../snapshots/deps';
import { replayRestoreEntry } from '../snapshots/restore';
import { replaySnapshotEntry } from '../snapshots/replay';

export interface LocalReplayParts {
  publisher?: Pick<PublisherDeps, 'decoder' | 'log' | 'bus'>;
  snapshots?: SnapshotWorkerDeps;
  reaper?: LeaseReaper;
  renewer?: LeaseRenewer;
  sweeper?: FieldSweeper;
}

/** Replayers of the parts present now. */
function replayersOf(p: LocalReplayParts): Partial<Record<DeadLetterSource, DeadLetterReplayer>> {
  const { publisher, snapshots, reaper, renewer, sweeper } = p;
  return {
    ...(publisher ? { publisher: (e) => replayPublisherEntry(e, publisher) } : {}),
    ...(snapshots
      ? { snapshot: (e) => replaySnapshotEntry(e, snapshots), restore: (e) => replayRestoreEntry(e, snapshots) }
      : {}),
    ...(reaper ? { reaper: async (e) => void (await reaper.reap(String(e.item.leaseId))) } : {}),
    ...(renewer
      ? {
          renewer: async (e) =>
            void (await renewer.renew(
              String(e.item.leaseId),
              String((e.payload as { executionArn?: string }).executionArn ?? ''),
            )),
        }
      : {}),
    ...(sweeper
      ? { sweeper: async (e) => void (await sweeper.sweep(String(e.item.namespace), String(e.item.key))) }
      : {}),
  };
}

/** A `DeadLetterReplay` over `parts` (read at each replay). */
export function localDeadLetterReplay(store: DeadLetterStore, parts: LocalReplayParts): DeadLetterReplay {
  return { replay: (id) => replayDeadLetter(id, { store, replayers: replayersOf(parts) }) };
}
