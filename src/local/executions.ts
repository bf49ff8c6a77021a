/**
 * Execution statuses of the local stack's workflows: the local workflow runner records each
 * execution here, and the lease renewer reads them, as it reads Step Functions in AWS.
 */
import type { ExecutionStatus, ExecutionStatusSource } from '../core/ports';

export class LocalExecutions implements ExecutionStatusSource {
  private readonly statuses = new Map<string, ExecutionStatus>();

  public record(executionArn: string, status: ExecutionStatus): void {
    this.statuses.set(executionArn, status);
  }

  public async status(executionArn: string): Promise<ExecutionStatus> {
    return this.statuses.get(executionArn) ?? 'UNKNOWN';
  }
}
