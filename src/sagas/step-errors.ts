/**
 * How the saga-step function names its errors for the state machines, and how it reads the error
 * a Catch hands over: the error names of the saga contract (`statemachines/README.md`).
 */
import {
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  TypeMismatchError,
  ValidationError,
} from '../core/errors';
import type { StepError } from '../core/saga-log';
import type { StepInput } from '../core/sagas';

/** Error names the state machines retry (`Vesta.Transient`) or catch (`Vesta.StepFailed`). */
export const STEP_FAILED = 'Vesta.StepFailed';
/** What `resume` raises while a saga waits for a person: the execution fails with it, and a redrive resumes. */
export const COMPENSATION_FAILED = 'Vesta.CompensationFailed';
export const TRANSIENT = 'Vesta.Transient';
/** The error a COMPENSATED saga's execution ends with (a Fail state): a business outcome, not a fault. */
export const SAGA_COMPENSATED = 'Vesta.SagaCompensated';

/** An error named `name` (the state machines match errors by name). */
export const named = (name: string, message: string, cause?: unknown) =>
  Object.assign(new Error(message, { cause }), { name });

/** The action cannot take effect as the saga defines it: a failed require, a conflict, bad data. */
export function isStepFailure(e: unknown): boolean {
  return (
    e instanceof PreconditionFailedError ||
    e instanceof ConflictError ||
    e instanceof TypeMismatchError ||
    e instanceof PayloadTooLargeError ||
    e instanceof ValidationError ||
    e instanceof NotFoundError
  );
}

/** Names an error for the state machine: StepFailed (not retried), Transient (retried), or as is (a bug). */
export function stepError(e: unknown): Error {
  const name = (e as { name?: string })?.name ?? '';
  if (name.startsWith('Vesta.')) return e as Error;
  const message = String((e as Error)?.message ?? e);
  if (isStepFailure(e)) return named(STEP_FAILED, `${name.replace(/Error$/, '')}: ${message}`, e);
  if (e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError) && !(e instanceof SyntaxError)) {
    return named(TRANSIENT, `${name || 'Error'}: ${message}`, e);
  }
  return e as Error;
}

/** The error a Catch hands over, as the log keeps it. Lambda errors carry a JSON `Cause`. */
export function describeError(err: StepInput['error']): StepError {
  const error = err?.Error ?? 'Error';
  let cause = err?.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed?.errorMessage === 'string') cause = parsed.errorMessage;
  } catch {
    // a plain message
  }
  return { error, cause: cause.slice(0, 2048) };
}
