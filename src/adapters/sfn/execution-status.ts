/** Execution status from AWS Step Functions (DescribeExecution). */
import { DescribeExecutionCommand, ExecutionDoesNotExist, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionStatus, ExecutionStatusSource } from '../../core/ports';

/**
 * Answers that mean "not an execution this deployment may know about": it does not exist, the
 * ARN is malformed, or it belongs to a state machine the renewer may not describe (its role
 * allows only the stack's own state machines).
 */
const NOT_OURS = new Set(['ExecutionDoesNotExist', 'InvalidArn', 'AccessDeniedException']);

export class SfnExecutionStatus implements ExecutionStatusSource {
  public constructor(private readonly client: SFNClient) {}

  /**
   * `UNKNOWN` for an execution that does not exist or is not one of this deployment's state
   * machines (so its lease is left to expire); throws on other failures.
   */
  public async status(executionArn: string): Promise<ExecutionStatus> {
    try {
      const out = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      return (out.status as ExecutionStatus | undefined) ?? 'UNKNOWN';
    } catch (e) {
      if (e instanceof ExecutionDoesNotExist || NOT_OURS.has((e as { name?: string }).name ?? '')) return 'UNKNOWN';
      throw e;
    }
  }
}
