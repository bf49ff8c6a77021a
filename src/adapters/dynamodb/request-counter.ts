/**
 * Counts the DynamoDB requests a client sends, by command name: an SDK middleware placed after
 * the retry step, so every attempt counts. Used by the tests and the benchmark to report
 * requests per operation, a figure that does not depend on the machine.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export class RequestCounter {
  public readonly byCommand: Record<string, number> = {};
  public total = 0;

  /** Adds the counting middleware to a client. Throws if this counter's middleware is already on it. */
  public attach(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        this.total += 1;
        const name = String(context.commandName ?? 'unknown');
        this.byCommand[name] = (this.byCommand[name] ?? 0) + 1;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'vestaRequestCounter', priority: 'low' },
    );
  }

  public reset(): void {
    this.total = 0;
    for (const k of Object.keys(this.byCommand)) delete this.byCommand[k];
  }

  public snapshot(): { total: number; byCommand: Record<string, number> } {
    return { total: this.total, byCommand: { ...this.byCommand } };
  }

  /** Runs `fn` and returns how many requests it sent. */
  public async count(fn: () => Promise<unknown>): Promise<number> {
    const before = this.total;
    await fn();
    return this.total - before;
  }
}
