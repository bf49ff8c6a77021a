/**
 * What the snapshot worker (export and restore Tasks of `statemachines/snapshot.asl.json` and
 * `statemachines/restore.asl.json`) needs. Built by the wiring; the Lambda entry and the local
 * stack pass the same.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { BlobStore, Clock, DeadLetterStore, SnapshotStore, WorkflowStarter } from '../core/ports';
import type { RecordState } from '../core/record-view';
import type { SetAside } from '../core/dead-letters';

export interface SnapshotWorkerDeps {
  readonly client: DynamoDBClient;
  /** The records table (physical name). */
  readonly recordsTable: string;
  /** The control table (physical name): the restore checkpoints. */
  readonly controlTable: string;
  readonly blobs: BlobStore;
  readonly store: SnapshotStore;
  readonly clock: Clock;
  /** The replica id a restore writes its new dots with (as the record store's writes). */
  readonly replica: string;
  /** Resolves a stored state whose lease may have expired (as reads see it). */
  resolve(s: RecordState | undefined): Promise<RecordState | undefined>;
  /** Starts the scheduled snapshot's execution. */
  readonly workflows?: WorkflowStarter;
  /** Where records that cannot be exported or restored are set aside (`deadLetterSink`). */
  readonly setAside: SetAside;
  /** The dead-letter entries (replays read and remove them). */
  readonly deadLetters: DeadLetterStore;
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: Pick<Metrics, 'addMetric'>;
}
