/**
 * The one list of Vesta's state machines: the ASL file, the environment variable that carries the
 * deployed state machine's ARN to the API function, and the one definition substitution. The CDK
 * stack (`lib/constructs/sagas.ts`) and the local runner (`src/local/workflows.ts`) both read it.
 * Plain data only: no AWS SDK or CDK import here.
 */
import { join } from 'node:path';

export type StateMachineId = 'saga' | 'transfer';

export interface StateMachineDef {
  readonly id: StateMachineId;
  /** ASL file, relative to the project root. */
  readonly file: string;
  /** Environment variable with the state machine's ARN (API function). */
  readonly envVar: string;
  readonly description: string;
}

/** Every Task of every state machine invokes the saga-step function: `${SagaStepFunctionArn}`. */
export const STEP_FUNCTION_SUBSTITUTION = 'SagaStepFunctionArn';

export const STATE_MACHINES: readonly StateMachineDef[] = [
  {
    id: 'saga',
    file: 'statemachines/saga.asl.json',
    envVar: 'VESTA_SAGA_STATE_MACHINE_ARN',
    description: 'Generic saga runner: steps in order, compensation in reverse order on failure.',
  },
  {
    id: 'transfer',
    file: 'statemachines/transfer.asl.json',
    envVar: 'VESTA_TRANSFER_STATE_MACHINE_ARN',
    description: 'Built-in transfer saga: Debit, Credit, and RefundDebit when the credit fails.',
  },
];

/** Absolute path of a state machine's ASL file. */
export function aslPath(def: StateMachineDef): string {
  return join(__dirname, '..', '..', def.file);
}

/** Replaces every `${name}` in an ASL text; throws when a placeholder is left unsubstituted. */
export function substitute(asl: string, values: Readonly<Record<string, string>>): string {
  const out = asl.replace(/\$\{([A-Za-z0-9_]+)\}/g, (m, name: string) => values[name] ?? m);
  const left = /\$\{([A-Za-z0-9_]+)\}/.exec(out);
  if (left) throw new Error(`ASL placeholder ${left[0]} has no value`);
  return out;
}
