/**
 * The local stand-in for Step Functions: runs the very ASL files of `statemachines/`, loaded as
 * the CDK stack deploys them (`loadDefinition`: the task contract applied), through
 * `aws-local-stepfunctions`, every Task answered by the handler its Lambda runs (saga step,
 * snapshot export, snapshot restore). Starting
 * a name twice starts it once, as with Step Functions; execution statuses go to `LocalExecutions`
 * (the lease renewer reads them).
 */
import type { StateMachine as StateMachineType } from 'aws-local-stepfunctions';
import { ConflictError } from '../core/errors';
import type { WorkflowId, WorkflowStarter } from '../core/ports';
import {
  ALL_MACHINES,
  SNAPSHOT_EXPORT_SUBSTITUTION,
  STEP_FUNCTION_SUBSTITUTION,
  loadDefinition,
  substitute,
} from '../sagas/state-machines';
import { SAGA_COMPENSATED } from '../sagas/step-errors';
import type { LocalExecutions } from './executions';
import type { LocalLog } from './log';

// aws-local-stepfunctions 3.0.0 calls Promise.withResolvers (Node 22); provide it on Node 20
// before the library loads.
const P = Promise as unknown as { withResolvers?: () => unknown };
if (!P.withResolvers) {
  P.withResolvers = () => {
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
export const { StateMachine } = require('aws-local-stepfunctions') as { StateMachine: typeof StateMachineType };

const localFunctionArn = (placeholder: string) =>
  `arn:aws:lambda:us-east-1:000000000000:function:vesta-local-${placeholder}`;

type StateDef = { Type: string; ItemProcessor?: Definition; Iterator?: Definition; Branches?: Definition[] };
type Definition = { StartAt: string; States: Record<string, StateDef> };

/** Names of every Task state, those inside Map and Parallel states included. */
function taskNames(d: Definition): string[] {
  return Object.entries(d.States).flatMap(([name, s]) => [
    ...(s.Type === 'Task' ? [name] : []),
    ...[s.ItemProcessor, s.Iterator, ...(s.Branches ?? [])].flatMap((inner) => (inner ? taskNames(inner) : [])),
  ]);
}

/** A state machine's definition as the local runner takes it: `loadDefinition`'s, placeholders substituted. */
export function localDefinition(workflow: WorkflowId): Definition {
  const { def, substitution } = ALL_MACHINES.find((m) => m.def.id === workflow)!;
  return JSON.parse(
    substitute(JSON.stringify(loadDefinition(def)), { [substitution]: localFunctionArn(substitution) }),
  );
}

/** Which function answers the Tasks of a workflow. */
function functionOf(workflow: WorkflowId): 'step' | 'export' | 'restore' {
  const { substitution } = ALL_MACHINES.find((m) => m.def.id === workflow)!;
  if (substitution === STEP_FUNCTION_SUBSTITUTION) return 'step';
  return substitution === SNAPSHOT_EXPORT_SUBSTITUTION ? 'export' : 'restore';
}

/** A failure's cause as text (the runner hands over the thrown error's message, or any value). */
function causeText(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return cause === undefined ? '' : JSON.stringify(cause);
}

export type StepHandler = (input: unknown) => Promise<unknown>;

/**
 * Calls a Task's handler as Lambda would: a failure reaches the state machine as its error name
 * and message only (Lambda's `errorType` and `errorMessage`), never as the error object it wraps.
 */
async function asLambda(handler: StepHandler, input: unknown): Promise<unknown> {
  try {
    return await handler(input);
  } catch (e) {
    if (!(e instanceof Error) || e.cause === undefined) throw e;
    throw Object.assign(new Error(e.message), { name: e.name });
  }
}

export interface LocalWorkflowsOptions {
  /** The saga-step handler (what the Lambda runs). */
  readonly step: StepHandler;
  /** The snapshot export function's handler (Tasks of the snapshot workflow). */
  readonly export?: StepHandler;
  /** The snapshot restore function's handler (Tasks of the restore workflow). */
  readonly restore?: StepHandler;
  readonly executions: LocalExecutions;
  /** Milliseconds every retry waits, instead of the ASL's backoff (tests). @default the ASL's */
  readonly retryIntervalMs?: number;
  /** Where each execution's end is logged: `INFO`, or a warning when it failed. */
  readonly log?: Pick<LocalLog, 'info' | 'warn'>;
}

export interface ExecutionOutcome {
  readonly executionArn: string;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  /** States entered, in order. */
  readonly states: readonly string[];
  /**
   * Every failure of a state, in order, as the execution history shows it (a Task's error name
   * and cause, caught or not): `{state: "ApplyStep", error: "Vesta.StepFailed", cause: "..."}`.
   */
  readonly failures: readonly StateFailure[];
  /** The events a person reads in the console's execution history, in order. */
  readonly history: readonly HistoryEvent[];
  /** A failed execution's error (a Fail state's `Error`, or the uncaught Task error's name). */
  readonly error?: string;
  /** A failed execution's cause. */
  readonly cause?: string;
}

/**
 * One event of an execution's history, as the Step Functions console lists it: a state entered,
 * a Task scheduled with its parameters (where the saga step's name shows), a state's failure,
 * and how the execution ended.
 */
export type HistoryEvent =
  | { readonly type: 'StateEntered'; readonly state: string }
  | { readonly type: 'TaskScheduled'; readonly state: string; readonly parameters: unknown }
  | { readonly type: 'StateFailed'; readonly state: string; readonly error: string; readonly cause: string }
  | { readonly type: 'ExecutionSucceeded' }
  | { readonly type: 'ExecutionFailed'; readonly error: string; readonly cause: string };

/** An execution's history as lines of text, one event each (the local log and the docs show it). */
export function formatHistory(history: readonly HistoryEvent[]): string[] {
  return history.map((e) => {
    const column = e.type.padEnd(19);
    if (e.type === 'StateEntered') return `${column}${e.state}`;
    if (e.type === 'TaskScheduled') return `${column}${e.state} ${JSON.stringify(e.parameters)}`;
    if (e.type === 'StateFailed') return `${column}${e.state} ${e.error}: ${e.cause}`;
    if (e.type === 'ExecutionFailed') return `${column}${e.error}: ${e.cause}`;
    return e.type;
  });
}

/** A state that failed: its name, the error name and the cause. */
export interface StateFailure {
  readonly state: string;
  readonly error: string;
  readonly cause: string;
}

/** Where an execution failed: the state it stopped at (top level) and the input that state had. */
interface FailurePoint {
  readonly state: string;
  readonly input: unknown;
}

export class LocalWorkflows implements WorkflowStarter {
  private readonly running = new Map<string, Promise<ExecutionOutcome>>();
  private readonly failedAt = new Map<string, FailurePoint>();
  private readonly aborts = new Set<() => void>();
  private stopped = false;
  private readonly definitions = new Map<WorkflowId, Definition>();

  public constructor(private readonly opts: LocalWorkflowsOptions) {}

  public executionArn(workflow: WorkflowId, name: string): string {
    return `arn:aws:states:us-east-1:000000000000:execution:vesta-local-${workflow}:${name}`;
  }

  public async start(workflow: WorkflowId, name: string, input: Readonly<Record<string, unknown>>): Promise<void> {
    const arn = this.executionArn(workflow, name);
    if (this.stopped) throw new Error('the local workflows are stopped');
    if (!this.running.has(arn)) this.running.set(arn, this.run(workflow, arn, input));
  }

  /**
   * Starts again, from the beginning, executions that a previous process left unfinished (a
   * redrive): every step that already took effect answers from the saga log without writing.
   */
  public async resume(unfinished: AsyncIterable<{ id: string; type: 'steps' | 'transfer' }>): Promise<number> {
    let n = 0;
    for await (const s of unfinished) {
      await this.start(s.type === 'transfer' ? 'transfer' : 'saga', s.id, { sagaId: s.id });
      n++;
    }
    return n;
  }

  /**
   * A redrive, as Step Functions does it: the failed execution goes on from the state it failed
   * at, with the input that state had; the states before it are not run again. An execution
   * still running is redriven when it ends, if it fails. After a restart of the local stack,
   * which forgets where executions failed, a saga's execution is redriven from its machine's
   * `redriveFrom` Task (where a failed compensation stops) with the saga's id as input. Throws
   * `ConflictError` (`SagaNotRetryable`) when there is nothing to redrive.
   */
  public async redrive(workflow: WorkflowId, name: string): Promise<void> {
    const arn = this.executionArn(workflow, name);
    if (this.stopped) throw new Error('the local workflows are stopped');
    const previous = this.running.get(arn);
    const fallback = (): FailurePoint | undefined => {
      const { def } = ALL_MACHINES.find((m) => m.def.id === workflow)!;
      return def.redriveFrom && (workflow === 'saga' || workflow === 'transfer')
        ? { state: def.redriveFrom, input: { sagaId: name } }
        : undefined;
    };
    if (!previous && !fallback())
      throw new ConflictError(
        'SagaNotRetryable',
        `execution ${name} of ${workflow} is not known here; nothing to redrive`,
      );
    const again = (before?: ExecutionOutcome): Promise<ExecutionOutcome> => {
      if (before?.status === 'SUCCEEDED') return Promise.resolve(before);
      const at = this.failedAt.get(arn) ?? fallback();
      if (!at) return Promise.resolve(before!);
      this.failedAt.delete(arn);
      return this.run(workflow, arn, at.input as Readonly<Record<string, unknown>>, at.state);
    };
    this.running.set(arn, previous ? previous.then(again) : again());
  }

  /** Aborts every running execution (the local stack is stopping); they resume on the next start. */
  public async stop(): Promise<void> {
    this.stopped = true;
    for (const abort of this.aborts) abort();
    await Promise.all(this.running.values());
  }

  /** The outcome of a started execution (resolves when it ends); undefined if never started. */
  public outcome(executionArn: string): Promise<ExecutionOutcome> | undefined {
    return this.running.get(executionArn);
  }

  /** Waits for every execution started so far to end. */
  public async settled(): Promise<ExecutionOutcome[]> {
    return Promise.all(this.running.values());
  }

  private definition(workflow: WorkflowId): Definition {
    let d = this.definitions.get(workflow);
    if (!d) {
      d = localDefinition(workflow);
      this.definitions.set(workflow, d);
    }
    return d;
  }

  private async run(
    workflow: WorkflowId,
    arn: string,
    input: Readonly<Record<string, unknown>>,
    startAt?: string,
  ): Promise<ExecutionOutcome> {
    const loaded = this.definition(workflow);
    const definition = startAt ? { ...loaded, StartAt: startAt } : loaded;
    const tasks = taskNames(definition);
    const { retryIntervalMs, executions, log } = this.opts;
    const handler = this.opts[functionOf(workflow)];
    if (!handler) throw new Error(`no local handler for the ${workflow} workflow`);
    executions.record(arn, 'RUNNING');
    // A redrive starts at a later state of the same, already validated definition, which leaves
    // the states before it unreachable: the validator would refuse that.
    const options = startAt ? { validationOptions: { noValidate: true } } : undefined;
    const history: HistoryEvent[] = [];
    const execution = new StateMachine(definition as never, options).run(input as never, {
      overrides: {
        taskResourceLocalHandlers: Object.fromEntries(
          tasks.map((t) => [
            t,
            async (i: unknown) => {
              // The runner queues its events for a reader that runs later: let it read them, so
              // that the Task's parameters follow the state's entry in the history.
              await new Promise((resolve) => setImmediate(resolve));
              history.push({ type: 'TaskScheduled', state: t, parameters: i });
              return asLambda(handler, i);
            },
          ]),
        ) as never,
        ...(retryIntervalMs !== undefined
          ? { retryIntervalOverrides: Object.fromEntries(tasks.map((t) => [t, retryIntervalMs])) }
          : {}),
      },
      context: { Execution: { Id: arn, Name: arn.split(':').at(-1) } } as never,
      noThrowOnAbort: true,
    });
    this.aborts.add(execution.abort);
    const states: string[] = [];
    const failures: StateFailure[] = [];
    let ended: { error: string; cause: string } | undefined;
    let last: FailurePoint | undefined;
    const events = (async () => {
      for await (const e of execution.eventLogs) {
        if (e.type === 'StateFailed') {
          const failure = { state: e.state.name, error: e.Error, cause: causeText(e.Cause) };
          failures.push(failure);
          history.push({ type: 'StateFailed', ...failure });
        }
        if (e.type === 'ExecutionFailed') ended = { error: e.Error, cause: causeText(e.Cause) };
        if (e.type !== 'StateEntered') continue;
        states.push(e.state.name);
        history.push({ type: 'StateEntered', state: e.state.name });
        // The top-level state entered last: where a failed execution stopped (Map iterations carry an index).
        if (e.index === undefined) last = { state: e.state.name, input: e.state.input };
      }
    })();
    let failed: unknown;
    let aborted = false;
    try {
      await execution.result;
      aborted = this.stopped;
    } catch (e) {
      failed = e;
    } finally {
      this.aborts.delete(execution.abort);
    }
    await events.catch(() => undefined);
    let outcome: ExecutionOutcome;
    if (failed === undefined) {
      if (!aborted) history.push({ type: 'ExecutionSucceeded' });
      outcome = { executionArn: arn, status: aborted ? 'ABORTED' : 'SUCCEEDED', states, failures, history };
    } else {
      const { error, cause } = ended ?? { error: 'States.Runtime', cause: (failed as Error).message };
      history.push({ type: 'ExecutionFailed', error, cause });
      outcome = { executionArn: arn, status: 'FAILED', states, failures, history, error, cause };
    }
    if (outcome.status === 'FAILED' && last) this.failedAt.set(arn, last);
    executions.record(arn, outcome.status);
    const line = `${workflow} ${arn.split(':').at(-1)} ended ${outcome.status} at ${states.at(-1) ?? startAt ?? '-'}`;
    // A compensated saga is an outcome, not a fault: said, not warned about.
    if (outcome.error === SAGA_COMPENSATED) log?.info(line, { error: outcome.error, cause: outcome.cause });
    else if (outcome.status === 'FAILED') log?.warn(line, { error: outcome.error, cause: outcome.cause });
    else log?.info(line);
    return outcome;
  }
}
