/**
 * The contract of every Task state of `statemachines/*.asl.json`, written once: how long one
 * invocation may take (`TimeoutSeconds`) and how it is retried (`Retry`). The ASL files leave both
 * out; `applyTaskContract` adds them where the files are loaded (`loadDefinition` in
 * `state-machines.ts`), so the CDK stack and the local runner run the same definition. Each Task
 * belongs to one `TaskClass`, named per state machine in `STATE_MACHINES` and `SNAPSHOT_MACHINES`.
 *
 * Catches stay in the files (where a failure goes is the workflow's own logic), but the contract
 * requires one: every Task must be caught by a `States.ALL` Catch of its own or of the Map or
 * Parallel state around it. The one exception is a machine's redrive point (`redriveFrom`): the
 * Task a failed execution is meant to stop at, so that a redrive runs it again. `statemachines/README.md` describes the contract.
 * Plain data and pure functions: no AWS SDK or CDK import here.
 */

/** What every Task retries: errors worth another attempt. `Vesta.StepFailed` is never retried. */
export const TRANSIENT_ERRORS = [
  'Vesta.Transient',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'States.Timeout',
] as const;

/** The backoff of every retry: 1 s, doubling, at most 30 s, full jitter. */
export const RETRY_BACKOFF = {
  IntervalSeconds: 1,
  BackoffRate: 2,
  MaxDelaySeconds: 30,
  JitterStrategy: 'FULL',
} as const;

/** How long one invocation of a Task may take, and how many attempts it gets. */
export interface TaskClass {
  readonly timeoutSeconds: number;
  readonly maxAttempts: number;
}

/** The classes of Task; every Task of every state machine is one of them. */
export const TASK_CLASSES = {
  /** An action (apply a step, plan an export): 60 s, 6 attempts. */
  action: { timeoutSeconds: 60, maxAttempts: 6 },
  /**
   * A compensation, or a Task that records an outcome (`Record*`, `WriteManifest`,
   * `FinishRestore`): 60 s, 10 attempts, since the outcome must reach the log.
   */
  outcome: { timeoutSeconds: 60, maxAttempts: 10 },
  /** A Task that may run as long as a Lambda function can (export a segment, verify or restore parts): 900 s, 6 attempts. */
  long: { timeoutSeconds: 900, maxAttempts: 6 },
} as const satisfies Record<string, TaskClass>;

export type TaskClassName = keyof typeof TASK_CLASSES;

/** The fields of an ASL state that the contract reads or writes; the rest pass through untouched. */
export interface AslState {
  readonly Type: string;
  readonly Catch?: readonly { readonly ErrorEquals: readonly string[] }[];
  readonly Retry?: unknown;
  readonly TimeoutSeconds?: unknown;
  readonly Branches?: readonly AslDefinition[];
  readonly ItemProcessor?: AslDefinition;
  readonly Iterator?: AslDefinition;
  readonly [field: string]: unknown;
}

export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
  readonly [field: string]: unknown;
}

/** The `Retry` of a Task of class `cls`. */
export function taskRetry(cls: TaskClass): object[] {
  return [{ ErrorEquals: [...TRANSIENT_ERRORS], ...RETRY_BACKOFF, MaxAttempts: cls.maxAttempts }];
}

const catchesAll = (s: AslState) => (s.Catch ?? []).some((c) => c.ErrorEquals.includes('States.ALL'));
const innerDefinitions = (s: AslState): readonly AslDefinition[] => [
  ...(s.Branches ?? []),
  ...(s.ItemProcessor ? [s.ItemProcessor] : []),
  ...(s.Iterator ? [s.Iterator] : []),
];

/**
 * `definition` with `TimeoutSeconds` and `Retry` added to every Task (nested Map and Parallel
 * states included) from the class `classes` gives its name; the input is not changed. Throws an
 * `Error` naming the state (in `name`) when a Task has no class, already sets `TimeoutSeconds` or
 * `Retry`, or is caught by no `States.ALL` Catch (save the Task `redriveFrom` names), and when a
 * class names a state that is no Task.
 */
export function applyTaskContract(
  name: string,
  definition: AslDefinition,
  classes: Readonly<Record<string, TaskClassName>>,
  redriveFrom?: string,
): AslDefinition {
  const seen = new Set<string>();
  const apply = (d: AslDefinition, caught: boolean): AslDefinition => ({
    ...d,
    States: Object.fromEntries(
      Object.entries(d.States).map(([stateName, s]) => {
        const covered = caught || catchesAll(s) || stateName === redriveFrom;
        const nested = {
          ...(s.Branches ? { Branches: s.Branches.map((b) => apply(b, covered)) } : {}),
          ...(s.ItemProcessor ? { ItemProcessor: apply(s.ItemProcessor, covered) } : {}),
          ...(s.Iterator ? { Iterator: apply(s.Iterator, covered) } : {}),
        };
        if (s.Type !== 'Task') return [stateName, innerDefinitions(s).length > 0 ? { ...s, ...nested } : s];
        seen.add(stateName);
        const where = `${name}: Task ${stateName}`;
        const cls = classes[stateName];
        if (cls === undefined)
          throw new Error(
            `${where} has no task class; give it one of ${Object.keys(TASK_CLASSES).join(', ')}. Received: none`,
          );
        if (s.TimeoutSeconds !== undefined || s.Retry !== undefined) {
          throw new Error(
            `${where} sets TimeoutSeconds or Retry, which the task contract (src/sagas/task-contract.ts) adds. Received: ${JSON.stringify({ TimeoutSeconds: s.TimeoutSeconds, Retry: s.Retry })}`,
          );
        }
        if (!covered)
          throw new Error(
            `${where} is not caught: it needs a States.ALL Catch, its own or that of the Map or Parallel around it. Received: ${JSON.stringify(s.Catch ?? [])}`,
          );
        const contract = TASK_CLASSES[cls];
        return [stateName, { ...s, TimeoutSeconds: contract.timeoutSeconds, Retry: taskRetry(contract) }];
      }),
    ),
  });
  const applied = apply(definition, false);
  const notTasks = Object.keys(classes).filter((stateName) => !seen.has(stateName));
  if (notTasks.length > 0)
    throw new Error(`${name}: task classes name states that are no Task. Received: ${notTasks.join(', ')}`);
  return applied;
}
