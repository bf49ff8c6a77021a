/**
 * The saga-step handler: what every Task of `statemachines/saga.asl.json` and
 * `statemachines/transfer.asl.json` invokes (the contract is in `statemachines/README.md`). The
 * Lambda entry (`lambdas/saga-step.ts`) and the local workflow runner call this same function.
 *
 * Exactly once: an action or compensation commits with its saga-log entry in one transaction
 * (`SagaLog.settlement`). Before writing, the step's status is read; after any failure it
 * is read again, so a call whose write already committed (a retry after a lost acknowledgement,
 * a concurrent duplicate, a redrive) answers as the committed call did.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { NotFoundError } from '../core/errors';
import { type DimensionedMetrics, METRIC_DIMENSIONS, METRIC_NAMES, type MetricEmitter } from '../core/metric-names';
import type { SettingsStore } from '../core/ports';
import {
  type SagaAction,
  type SagaStatus,
  type SagaView,
  type StepStatus,
  actionTxn,
  stepBack,
  stepInput,
} from '../core/sagas';
import {
  type SagaLog,
  type SagaRecordWriter,
  type StepError,
  StepSettledError,
  type StoredStep,
} from '../core/saga-log';
import type { StateMachineId } from './state-machines';
import {
  COMPENSATION_FAILED,
  SAGA_COMPENSATED,
  STEP_FAILED,
  describeError,
  isStepFailure,
  named,
  stepError,
} from './step-errors';

export interface SagaStepDeps {
  readonly sagas: SagaLog;
  readonly records: SagaRecordWriter;
  readonly settings: Pick<SettingsStore, 'get'>;
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** `singleMetric` counts the executions that end failed by an outcome, by machine. */
  readonly metrics?: MetricEmitter & Partial<DimensionedMetrics>;
}

export interface Cursor {
  readonly next: number;
  readonly done: boolean;
}

/**
 * A generic saga's execution state (`statemachines/saga.asl.json`), what `load` and `resume`
 * return: the saga, the names of its steps (so that every Task names the step it works on in
 * the execution history) and the cursor.
 */
export interface SagaState {
  readonly sagaId: string;
  readonly steps: readonly string[];
  readonly cursor: Cursor;
}

/** What `finish` gives a COMPENSATED saga's execution to end with: its Fail state's error and cause. */
export interface SagaOutcome {
  readonly error: string;
  readonly cause: string;
}

/** The highest step still applied (DONE, or COMPENSATION_FAILED before): where a reverse undo stopped. */
function highestApplied(saga: SagaView): number | undefined {
  const i = saga.steps.findLastIndex((s) => s.status === 'DONE' || s.status === 'COMPENSATION_FAILED');
  return i < 0 ? undefined : i;
}

/** The state machine that runs a saga of this type (`STATE_MACHINES`). */
const machineOf = (type: SagaView['type']): StateMachineId => (type === 'transfer' ? 'transfer' : 'saga');

/**
 * The cause a COMPENSATED saga's execution ends with: the step that failed and why, and what was
 * undone, in the words of the saga log.
 */
export function compensatedCause(saga: SagaView): string {
  const at = saga.steps.findIndex((s) => s.status === 'FAILED');
  const failed = at < 0 ? undefined : saga.steps[at];
  const why = failed
    ? `step ${at} (${failed.name}) failed: ${failed.error?.cause || failed.error?.error || 'see the saga log'}`
    : 'a step failed; see the saga log';
  const undone = saga.steps.flatMap((s, i) => (s.status === 'COMPENSATED' ? [`${i} (${s.name})`] : []));
  const what = undone.length ? `undone: step ${undone.reverse().join(', step ')}` : 'nothing to undo';
  return `${why}; ${what}. Saga ${saga.id} is COMPENSATED.`.slice(0, 32768);
}

class SagaSteps {
  public constructor(
    private readonly deps: SagaStepDeps,
    private readonly id: string,
  ) {}

  public async load(): Promise<SagaState> {
    const saga = await this.view();
    return {
      sagaId: this.id,
      steps: saga.steps.map((s) => s.name),
      cursor: { next: 0, done: saga.steps.length === 0 },
    };
  }

  /** The saga as it stands, from one consistent read. */
  private async view(): Promise<SagaView> {
    const saga = await this.deps.sagas.view(this.id);
    if (!saga) throw named(STEP_FAILED, `no saga ${this.id} in the saga log`);
    return saga;
  }

  /**
   * The step the state machine names (`step`, from the names `load` gave) must be the step at
   * that index: a mismatch is a bug of the definition, never applied.
   */
  private expect(step: StoredStep, name: string | undefined): void {
    if (name !== undefined && name !== step.name)
      throw named(STEP_FAILED, `step ${step.index} is ${step.name}, not ${name}; nothing was written`);
  }

  /** Applies step `index` once; a step already DONE answers as its first application did. */
  public async apply(index: number, name?: string): Promise<Cursor> {
    const { sagas } = this.deps;
    const step = await sagas.attempt(this.id, index, 'apply');
    this.expect(step, name);
    const after = { next: index + 1, done: index + 1 >= step.count };
    if (step.status === 'DONE') return after;
    if (step.status !== 'PENDING') throw named(STEP_FAILED, `step ${index} (${step.name}) is ${step.status}`);
    try {
      await this.write(step, step.action, 'apply');
    } catch (e) {
      const now = await sagas.step(this.id, index);
      if (now.status === 'DONE') return after;
      if (now.status !== 'PENDING' && (isStepFailure(e) || e instanceof StepSettledError)) {
        throw named(STEP_FAILED, `step ${index} (${step.name}) is ${now.status}`);
      }
      throw e;
    }
    return after;
  }

  /**
   * Step `index` failed: FAILED with the error, later steps SKIPPED. When its action had in fact
   * committed (the acknowledgement was lost and the retries ran out) it stays DONE and the
   * compensation starts at it.
   */
  public async abort(index: number, error: StepError): Promise<Cursor> {
    const { sagas } = this.deps;
    const failed = await sagas.setStepStatus(this.id, index, ['PENDING'], 'FAILED', error);
    const step = await sagas.step(this.id, index);
    const applied = !failed && ['DONE', 'COMPENSATED', 'COMPENSATION_FAILED'].includes(step.status);
    for (let j = index + 1; j < step.count; j++) await sagas.setStepStatus(this.id, j, ['PENDING'], 'SKIPPED');
    if (applied)
      this.deps.logger?.warn('saga step committed although its call failed; it will be compensated', {
        sagaId: this.id,
        index,
      });
    return applied ? { next: index, done: false } : stepBack(index);
  }

  /** Undoes step `index` once if it was applied; a step never applied is SKIPPED (nothing to undo). */
  public async compensate(index: number, name?: string): Promise<Cursor> {
    const { sagas } = this.deps;
    let step = await sagas.attempt(this.id, index, 'undo');
    this.expect(step, name);
    if (step.status === 'PENDING') {
      // Never applied: SKIPPED, so that a late call of its action cannot commit any more.
      if (await sagas.setStepStatus(this.id, index, ['PENDING'], 'SKIPPED')) return stepBack(index);
      step = await sagas.step(this.id, index);
    }
    if (step.status !== 'DONE' && step.status !== 'COMPENSATION_FAILED') return stepBack(index);
    try {
      if (step.compensation) await this.write(step, step.compensation, 'undo');
      else await sagas.settleWithoutWrite(this.id, index, 'undo');
    } catch (e) {
      const now = await sagas.step(this.id, index);
      if (now.status === 'COMPENSATED') return stepBack(index);
      throw e;
    }
    return stepBack(index);
  }

  /**
   * Ends the saga with `status`. A COMPENSATED saga's execution then ends in a Fail state: this
   * returns its error and a cause naming the step that failed and why, and counts the execution
   * as ended by an outcome (`SagaExecutionsFailedByOutcome`), which its alarm does not count.
   */
  public async finish(status: SagaStatus): Promise<SagaOutcome | Record<string, never>> {
    const { sagas } = this.deps;
    // A redrive after COMPENSATION_FAILED may complete the compensation.
    const from: SagaStatus[] = status === 'COMPENSATED' ? ['RUNNING', 'COMPENSATION_FAILED'] : ['RUNNING'];
    if (await sagas.finish(this.id, status, from)) {
      this.deps.metrics?.addMetric(
        status === 'SUCCEEDED' ? METRIC_NAMES.sagaSucceeded : METRIC_NAMES.sagaCompensated,
        MetricUnit.Count,
        1,
      );
      this.deps.logger?.info('saga ended', { sagaId: this.id, status });
    } else {
      const saga = await sagas.saga(this.id);
      if (saga?.status !== status)
        throw named(STEP_FAILED, `saga ${this.id} already ended ${saga?.status ?? 'unknown'}`);
    }
    if (status !== 'COMPENSATED') return {};
    const saga = await this.view();
    this.countOutcome(saga);
    return { error: SAGA_COMPENSATED, cause: compensatedCause(saga) };
  }

  /** One execution that ends failed on purpose, by a saga outcome: its machine's alarm leaves it out. */
  private countOutcome(saga: SagaView): void {
    try {
      const m = this.deps.metrics?.singleMetric?.();
      m?.addDimension(METRIC_DIMENSIONS[METRIC_NAMES.sagaExecutionsFailedByOutcome], machineOf(saga.type));
      m?.addMetric(METRIC_NAMES.sagaExecutionsFailedByOutcome, MetricUnit.Count, 1);
    } catch {
      // Counting is best effort; the outcome is recorded.
    }
  }

  /** A compensation failed after its retries: the step and the saga COMPENSATION_FAILED, alarmed. */
  public async fail(given: number | undefined, error: StepError): Promise<void> {
    const { sagas } = this.deps;
    // Without an index (the transfer's refund undoes the credit, if it had committed, then the
    // debit): the undo that failed is the highest step still applied, as undos run in reverse.
    const index = given ?? highestApplied(await this.view());
    if (index !== undefined && index >= 0) {
      // COMPENSATION_FAILED again after a retry: the step keeps that status with the new error.
      const from: StepStatus[] = ['DONE', 'COMPENSATION_FAILED'];
      await sagas.setStepStatus(this.id, index, from, 'COMPENSATION_FAILED', error).catch((e: unknown) => {
        if (!(e instanceof NotFoundError)) throw e;
      });
    }
    await sagas.finish(this.id, 'COMPENSATION_FAILED', ['RUNNING']);
    // Emitted on every call (at least once): the alarm fires on any count.
    this.deps.metrics?.addMetric(METRIC_NAMES.compensationFailed, MetricUnit.Count, 1);
    this.deps.logger?.error('saga compensation failed; a person must look at it', { sagaId: this.id, index, error });
  }

  /**
   * Where a saga waits after its compensation failed (the Task the execution fails at, which a
   * redrive runs again). While the saga is COMPENSATION_FAILED it raises `Vesta.CompensationFailed`,
   * naming the step and why. Once a person has retried it (`POST /v1/sagas/{id}/retry` set it
   * RUNNING), it returns the compensation cursor at the highest step still to undo (DONE or
   * COMPENSATION_FAILED): the steps above it were undone already and are not undone again.
   */
  public async resume(): Promise<SagaState> {
    const saga = await this.view();
    let failed: number | undefined;
    let next = -1;
    for (let i = saga.steps.length - 1; i >= 0; i--) {
      const { status } = saga.steps[i];
      if (status === 'COMPENSATION_FAILED') failed ??= i;
      if (next < 0 && (status === 'DONE' || status === 'COMPENSATION_FAILED')) next = i;
    }
    const steps = saga.steps.map((s) => s.name);
    if (saga.status === 'RUNNING') {
      this.deps.logger?.info('saga compensation retried', { sagaId: this.id, from: next });
      return { sagaId: this.id, steps, cursor: { next, done: next < 0 } };
    }
    const step = failed === undefined ? undefined : saga.steps[failed];
    const what = step
      ? `step ${failed} (${step.name}) could not be undone: ${step.error?.cause || step.error?.error || 'see the saga log'}`
      : 'a compensation could not be applied; see the saga log';
    this.countOutcome(saga);
    throw named(
      COMPENSATION_FAILED,
      `${what}. Saga ${this.id} is ${saga.status}; once the cause is fixed, POST /v1/sagas/${this.id}/retry resumes its compensation.`,
    );
  }

  /** Transfer: the credit failed. Step 1 FAILED (undone first if it had in fact committed), then the debit undone. */
  public async refund(error: StepError): Promise<void> {
    const cursor = await this.abort(1, error);
    if (cursor.next === 1) await this.compensate(1);
    await this.compensate(0);
  }

  private async write(step: StoredStep, action: SagaAction, kind: 'apply' | 'undo'): Promise<void> {
    const { records, settings, sagas } = this.deps;
    const mode = (await settings.get(step.namespace)).conflicts;
    await records.transactWith(step.namespace, actionTxn(action), mode, sagas.settlement(this.id, step.index, kind));
  }
}

/** The handler: validates the input, runs the action, names its errors for the state machine. */
export function createSagaStepHandler(
  deps: SagaStepDeps,
): (event: unknown) => Promise<Cursor | SagaState | SagaOutcome | Record<string, never>> {
  return async (event) => {
    const parsed = stepInput.safeParse(event);
    if (!parsed.success) throw named(STEP_FAILED, `bad saga-step input: ${parsed.error.issues[0].message}`);
    const input = parsed.data;
    const steps = new SagaSteps(deps, input.sagaId);
    const index = () => {
      if (input.index === undefined) throw named(STEP_FAILED, `action ${input.action} needs an index`);
      return input.index;
    };
    try {
      switch (input.action) {
        case 'load':
          return await steps.load();
        case 'apply':
          return await steps.apply(index(), input.step);
        case 'abort':
          return await steps.abort(index(), describeError(input.error));
        case 'compensate':
          return await steps.compensate(index(), input.step);
        case 'finish':
          if (!input.status) throw named(STEP_FAILED, 'finish needs a status');
          return await steps.finish(input.status);
        case 'fail':
          await steps.fail(input.index, describeError(input.error));
          return {};
        case 'resume':
          return await steps.resume();
        case 'debit':
          return await steps.apply(0);
        case 'credit':
          return await steps.apply(1);
        case 'refund':
          await steps.refund(describeError(input.error));
          return {};
      }
    } catch (e) {
      const err = stepError(e);
      // Failed on purpose (the state machine catches it, or waits for a person): not a fault.
      if (err.name === STEP_FAILED || err.name === COMPENSATION_FAILED)
        deps.metrics?.addMetric(METRIC_NAMES.sagaStepsRefused, MetricUnit.Count, 1);
      deps.logger?.warn('saga step failed', {
        sagaId: input.sagaId,
        action: input.action,
        index: input.index,
        error: err.name,
        detail: err.message,
      });
      throw err;
    }
  };
}

/** The handler with its metrics published after every call (the Lambda entry and the local runner). */
export function meteredStepHandler(
  deps: SagaStepDeps & { readonly metrics: Metrics },
): (event: unknown) => Promise<unknown> {
  const step = createSagaStepHandler(deps);
  return async (event) => {
    try {
      return await step(event);
    } finally {
      if (deps.metrics.hasStoredMetrics()) deps.metrics.publishStoredMetrics();
    }
  };
}
