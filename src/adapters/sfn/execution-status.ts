/** Execution status from AWS Step Functions (DescribeExecution). */
import { DescribeExecutionCommand, ExecutionDoesNotExist, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionStatus, ExecutionStatusSource } from '../../core/ports';

export class SfnExecutionStatus implements ExecutionStatusSource {
  public constructor(private readonly client: SFNClient) {}

  /** `UNKNOWN` for an execution that does not exist; throws on other failures. */
  public async status(executionArn: string): Promise<ExecutionStatus> {
    try {
      const out = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      return (out.status as ExecutionStatus | undefined) ?? 'UNKNOWN';
    } catch (e) {
      if (e instanceof ExecutionDoesNotExist || (e as { name?: string }).name === 'InvalidArn') return 'UNKNOWN';
      throw e;
    }
  }
}
