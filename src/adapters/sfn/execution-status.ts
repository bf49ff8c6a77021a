/** Execution status from AWS Step Functions (DescribeExecution). */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionStatus, ExecutionStatusSource } from '../../core/ports';
import { type ClientSource, clientOf, sfnSdk } from '../lazy-sdk';

/**
 * Answers that mean "not an execution this deployment may know about": it does not exist, the
 * ARN is malformed, or it belongs to a state machine the renewer may not describe (its role
 * allows only the stack's own state machines).
 */
const NOT_OURS = new Set(['ExecutionDoesNotExist', 'InvalidArn', 'AccessDeniedException']);

export class SfnExecutionStatus implements ExecutionStatusSource {
  private readonly client: () => SFNClient;

  /** @param client the client, or how to make it at the first look-up (the SDK is loaded then) */
  public constructor(client: ClientSource<SFNClient>) {
    this.client = clientOf(client);
  }

  /**
   * `UNKNOWN` for an execution that does not exist or is not one of this deployment's state
   * machines (so its lease is left to expire); throws on other failures.
   */
  public async status(executionArn: string): Promise<ExecutionStatus> {
    const { DescribeExecutionCommand, ExecutionDoesNotExist } = sfnSdk();
    try {
      const out = await this.client().send(new DescribeExecutionCommand({ executionArn }));
      return (out.status as ExecutionStatus | undefined) ?? 'UNKNOWN';
    } catch (e) {
      if (e instanceof ExecutionDoesNotExist || NOT_OURS.has((e as { name?: string }).name ?? '')) return 'UNKNOWN';
      throw e;
    }
  }
}
