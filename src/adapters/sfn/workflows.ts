/** Starts and redrives executions on AWS Step Functions (Standard workflows, named after the saga id). */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { ConflictError, ThrottledError, UnavailableError } from '../../core/errors';
import type { WorkflowId, WorkflowStarter } from '../../core/ports';
import { type ClientSource, clientOf, sfnSdk } from '../lazy-sdk';

const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException', 'ExecutionLimitExceeded']);

/**
 * A saga's execution fails a moment after its log says COMPENSATION_FAILED (its last Task answers
 * first); a redrive asked in that moment is refused as not redrivable, so it is asked again this
 * many times, `REDRIVE_WAIT_MS` apart.
 */
const REDRIVE_ATTEMPTS = 5;
const REDRIVE_WAIT_MS = 1000;

export class SfnWorkflows implements WorkflowStarter {
  private readonly client: () => SFNClient;

  /**
   * @param client the client, or how to make it at the first start or redrive (the Step Functions
   *   SDK is loaded then, not at init)
   * @param stateMachineArns the ARN of each state machine (from the environment)
   */
  public constructor(
    client: ClientSource<SFNClient>,
    private readonly stateMachineArns: Readonly<Record<WorkflowId, string>>,
  ) {
    this.client = clientOf(client);
  }

  /** `arn:<p>:states:<r>:<a>:execution:<state machine name>:<execution name>`. */
  public executionArn(workflow: WorkflowId, name: string): string {
    return `${this.stateMachineArns[workflow].replace(':stateMachine:', ':execution:')}:${name}`;
  }

  /**
   * StartExecution is idempotent for a Standard workflow started again with the same name and
   * input while it runs; a name that has already closed answers ExecutionAlreadyExists, which
   * means the saga was started: nothing to do.
   */
  public async start(workflow: WorkflowId, name: string, input: Readonly<Record<string, unknown>>): Promise<void> {
    const { ExecutionAlreadyExists, StartExecutionCommand } = sfnSdk();
    try {
      await this.client().send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArns[workflow],
          name,
          input: JSON.stringify(input),
        }),
      );
    } catch (e) {
      if (e instanceof ExecutionAlreadyExists || (e as { name?: string }).name === 'ExecutionAlreadyExists') return;
      const errName = (e as { name?: string }).name ?? '';
      if (THROTTLING.has(errName))
        throw new ThrottledError('Step Functions throttled the start; retry later', 1, { cause: e });
      throw new UnavailableError('Step Functions is unavailable; the saga is recorded and starts when retried', 2, {
        cause: e,
      });
    }
  }

  /**
   * RedriveExecution: the failed execution goes on from the state it failed at, with that
   * state's input. `ExecutionNotRedrivable` is asked again a few times (the execution may still
   * be failing), then is `ConflictError` with reason `SagaNotRetryable`.
   */
  public async redrive(workflow: WorkflowId, name: string, waitMs = REDRIVE_WAIT_MS): Promise<void> {
    const executionArn = this.executionArn(workflow, name);
    const { RedriveExecutionCommand } = sfnSdk();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client().send(new RedriveExecutionCommand({ executionArn }));
        return;
      } catch (e) {
        const errName = (e as { name?: string }).name ?? '';
        if (errName === 'ExecutionNotRedrivable' || errName === 'ExecutionDoesNotExist') {
          if (errName === 'ExecutionNotRedrivable' && attempt < REDRIVE_ATTEMPTS) {
            await new Promise((r) => setTimeout(r, waitMs));
            continue;
          }
          throw new ConflictError('SagaNotRetryable', `the execution cannot be redriven: ${(e as Error).message}`, {
            cause: e,
          });
        }
        if (THROTTLING.has(errName))
          throw new ThrottledError('Step Functions throttled the redrive; retry later', 1, { cause: e });
        throw new UnavailableError('Step Functions is unavailable; nothing was redriven', 2, { cause: e });
      }
    }
  }
}
