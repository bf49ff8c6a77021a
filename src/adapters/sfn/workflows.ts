/** Starts saga executions on AWS Step Functions (Standard workflows, named after the saga id). */
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ThrottledError, UnavailableError } from '../../core/errors';
import type { WorkflowId, WorkflowStarter } from '../../core/ports';

const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException', 'ExecutionLimitExceeded']);

export class SfnWorkflows implements WorkflowStarter {
  /** @param stateMachineArns the ARN of each state machine (from the environment) */
  public constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArns: Readonly<Record<WorkflowId, string>>,
  ) {}

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
    try {
      await this.client.send(
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
}
