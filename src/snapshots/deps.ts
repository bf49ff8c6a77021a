/**
 * What the snapshot worker (export and restore Tasks of `statemachines/snapshot.asl.json` and
 * `statemachines/restore.asl.json`) needs. Built by the wiring; the Lambda entry and the local
 * stack pass the same.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { BlobStore, Clock, DeadLetterStore, SnapshotStore, WorkflowStarter } from '../core/ports';
import type { RecordScan, RestoreWriter, SnapshotCuts } from '../core/snapshot-ports';
import type { SetAside } from '../core/dead-letters';
import type { MetricEmitter } from '../core/metric-names';
import type { WritesInFlight } from '../core/snapshot-cut';

export interface SnapshotWorkerDeps {
  /** Reads the records an export writes out. */
  readonly scan: RecordScan;
  /** Writes the records a restore reads in. */
  readonly restoreWriter: RestoreWriter;
  readonly blobs: BlobStore;
  readonly store: SnapshotStore;
  /** Open cuts and the pre-images the publisher keeps for them (`src/core/snapshot-cut.ts`). */
  readonly cuts: SnapshotCuts;
  /** How long after its cut an export starts reading: every write stamped before it has committed. */
  readonly settleMs: number;
  /** The record writes of this process, when every writer runs in it: then `settleMs` may be 0. */
  readonly inFlight?: WritesInFlight;
  /** How long an export waits for a pre-image before the snapshot fails (the publisher is behind). */
  readonly preImageWaitMs: number;
  readonly clock: Clock;
  /** Starts the scheduled snapshot's execution. */
  readonly workflows?: WorkflowStarter;
  /** Where records that cannot be exported or restored are set aside (`deadLetterSink`). */
  readonly setAside: SetAside;
  /** The dead-letter entries (replays read and remove them). */
  readonly deadLetters: DeadLetterStore;
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: MetricEmitter;
}
