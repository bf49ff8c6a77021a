/**
 * Execution statuses of the local stack's workflows: the local workflow runner records each
 * execution here, and the lease renewer reads them, as it reads Step Functions in AWS. The
 * renewer runs in the background worker (`background.ts`), so the API side's statuses are passed
 * on to the worker's copy as they are recorded.
 */
import type { ExecutionStatus, ExecutionStatusSource } from '../core/ports';

export type ExecutionListener = (executionArn: string, status: ExecutionStatus) => void;

export class LocalExecutions implements ExecutionStatusSource {
  private readonly statuses = new Map<string, ExecutionStatus>();
  private readonly listeners = new Set<ExecutionListener>();

  public record(executionArn: string, status: ExecutionStatus): void {
    this.statuses.set(executionArn, status);
    for (const l of this.listeners) l(executionArn, status);
  }

  public async status(executionArn: string): Promise<ExecutionStatus> {
    return this.statuses.get(executionArn) ?? 'UNKNOWN';
  }

  /** Every status recorded so far, oldest first. */
  public entries(): [string, ExecutionStatus][] {
    return [...this.statuses];
  }

  /** Calls `listener` with each status recorded from now on; returns the way to stop. */
  public subscribe(listener: ExecutionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
