/**
 * The one list of Vesta's state machines: the ASL file, the class of each of its Tasks (the task
 * contract of `task-contract.ts`), the environment variable that carries the deployed state
 * machine's ARN to the API function, and the one definition substitution. The CDK stack
 * (`lib/constructs/asl-state-machine.ts`) and the local runner (`src/local/workflows.ts`) both
 * read a definition through `loadDefinition`. No AWS SDK or CDK import here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ASSET_ROOT } from '../asset-root';
import { type AslDefinition, type TaskClassName, applyTaskContract } from './task-contract';

export type StateMachineId = 'saga' | 'transfer';
export type SnapshotMachineId = 'snapshot' | 'restore';

export interface StateMachineDef<Id extends string = StateMachineId> {
  readonly id: Id;
  /** ASL file, relative to the project root. */
  readonly file: string;
  /** The class of every Task of the file, by state name (`TASK_CLASSES`): its timeout and retries. */
  readonly tasks: Readonly<Record<string, TaskClassName>>;
  /** Environment variable with the state machine's ARN (API function). */
  readonly envVar: string;
  readonly description: string;
  /**
   * The Task a failed execution stops at on purpose, without a Catch, so that a redrive runs it
   * again (`POST /v1/sagas/{id}/retry`): the one Task the task contract lets go uncaught. The local
   * runner starts a redrive there when it no longer knows where the execution failed.
   */
  readonly redriveFrom?: string;
}

/** Every Task of every state machine invokes the saga-step function: `${SagaStepFunctionArn}`. */
export const STEP_FUNCTION_SUBSTITUTION = 'SagaStepFunctionArn';

export const STATE_MACHINES: readonly StateMachineDef[] = [
  {
    id: 'saga',
    file: 'statemachines/saga.asl.json',
    tasks: {
      LoadSaga: 'action',
      ApplyStep: 'action',
      RecordSucceeded: 'outcome',
      RecordStepFailed: 'outcome',
      CompensateStep: 'outcome',
      RecordCompensated: 'outcome',
      RecordCompensationFailed: 'outcome',
      AwaitRetry: 'outcome',
    },
    redriveFrom: 'AwaitRetry',
    envVar: 'VESTA_SAGA_STATE_MACHINE_ARN',
    description: 'Generic saga runner: steps in order, compensation in reverse order on failure.',
  },
  {
    id: 'transfer',
    file: 'statemachines/transfer.asl.json',
    tasks: {
      Debit: 'action',
      Credit: 'action',
      RecordTransferred: 'outcome',
      RecordDebitFailed: 'outcome',
      RefundDebit: 'outcome',
      RecordCompensated: 'outcome',
      RecordCompensationFailed: 'outcome',
      AwaitRetry: 'outcome',
      RetryRefund: 'outcome',
    },
    redriveFrom: 'AwaitRetry',
    envVar: 'VESTA_TRANSFER_STATE_MACHINE_ARN',
    description: 'Built-in transfer saga: Debit, Credit, and RefundDebit when the credit fails.',
  },
];

/** Every Task of the snapshot machine invokes the export function: `${SnapshotExportFunctionArn}`. */
export const SNAPSHOT_EXPORT_SUBSTITUTION = 'SnapshotExportFunctionArn';
/** Every Task of the restore machine invokes the restore function: `${SnapshotRestoreFunctionArn}`. */
export const SNAPSHOT_RESTORE_SUBSTITUTION = 'SnapshotRestoreFunctionArn';

/** The snapshot workflows (`lib/constructs/snapshots.ts` deploys them). */
export const SNAPSHOT_MACHINES: readonly StateMachineDef<SnapshotMachineId>[] = [
  {
    id: 'snapshot',
    file: 'statemachines/snapshot.asl.json',
    tasks: { PlanExport: 'action', ExportSegment: 'long', WriteManifest: 'outcome', RecordExportFailed: 'outcome' },
    envVar: 'VESTA_SNAPSHOT_STATE_MACHINE_ARN',
    description: 'Snapshot export: a Map over scan segments, one gzip part each, then the manifest.',
  },
  {
    id: 'restore',
    file: 'statemachines/restore.asl.json',
    tasks: { VerifyParts: 'long', RestorePart: 'long', FinishRestore: 'outcome', RecordRestoreFailed: 'outcome' },
    envVar: 'VESTA_RESTORE_STATE_MACHINE_ARN',
    description: 'Snapshot restore: verify every part, then write each part with conditions.',
  },
];

/** Every state machine, with the one placeholder its Tasks use. */
export const ALL_MACHINES: readonly {
  def: StateMachineDef<StateMachineId | SnapshotMachineId>;
  substitution: string;
}[] = [
  ...STATE_MACHINES.map((def) => ({ def, substitution: STEP_FUNCTION_SUBSTITUTION })),
  ...SNAPSHOT_MACHINES.map((def) => ({
    def,
    substitution: def.id === 'snapshot' ? SNAPSHOT_EXPORT_SUBSTITUTION : SNAPSHOT_RESTORE_SUBSTITUTION,
  })),
];

/** Absolute path of a state machine's ASL file. */
export function aslPath(def: StateMachineDef<string>): string {
  return join(ASSET_ROOT, def.file);
}

/**
 * A state machine's definition as it is deployed and run locally: its ASL file with the task
 * contract applied (`applyTaskContract`), placeholders (`${...}`) left in. Throws when the file
 * cannot be read or parsed, or breaks the task contract (the message names the state).
 */
export function loadDefinition(def: StateMachineDef<string>): AslDefinition {
  return applyTaskContract(
    def.file,
    JSON.parse(readFileSync(aslPath(def), 'utf8')) as AslDefinition,
    def.tasks,
    def.redriveFrom,
  );
}

/** Replaces every `${name}` in an ASL text; throws when a placeholder is left unsubstituted. */
export function substitute(asl: string, values: Readonly<Record<string, string>>): string {
  const out = asl.replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, name: string) => values[name] ?? m);
  const left = /\$\{([A-Za-z0-9_]+)\}/.exec(out);
  if (left) throw new Error(`ASL placeholder ${left[0]} has no value`);
  return out;
}
