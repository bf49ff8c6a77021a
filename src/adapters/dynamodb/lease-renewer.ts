/**
 * The lease renewer: keeps alive the live leases that belong to a running Step Functions
 * execution, found through the control table's sparse `byExecution` index, and stops as soon as
 * the execution is no longer running, so a dead or stuck workflow's lease expires by itself.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NotFoundError } from '../../core/errors';
import type { Clock, ExecutionStatusSource } from '../../core/ports';
import { N, S } from './expressions';
import { EXPIRY_SHARDS, type DynamoLeaseStore } from './lease-store';
import { queryPages } from './query';

export interface RenewResult {
  readonly renewed: number;
  /** Leases left to expire because their execution ended (or is unknown). */
  readonly released: number;
}

export class LeaseRenewer {
  public constructor(
    private readonly client: DynamoDBClient,
    private readonly controlTable: string,
    private readonly store: DynamoLeaseStore,
    private readonly executions: ExecutionStatusSource,
    private readonly clock: Clock,
  ) {}

  /** One pass over the live leases of executions. Throws store or Step Functions errors. */
  public async run(): Promise<RenewResult> {
    const now = this.clock.now().getTime();
    let renewed = 0;
    let released = 0;
    for (let shard = 0; shard < EXPIRY_SHARDS; shard++) {
      const pages = queryPages(this.client, {
        TableName: this.controlTable,
        IndexName: 'byExecution',
        KeyConditionExpression: 'rshard = :s AND expiresAt > :now',
        ExpressionAttributeValues: { ':s': S(`renew#${shard}`), ':now': N(now) },
      });
      for await (const page of pages) {
        for (const it of page.items) {
          const id = it.pk.S!.slice('lease#'.length);
          if ((await this.executions.status(it.executionArn?.S ?? '')) !== 'RUNNING') {
            released += 1;
            continue;
          }
          try {
            await this.store.keepalive(id);
            renewed += 1;
          } catch (e) {
            if (!(e instanceof NotFoundError)) throw e;
          }
        }
      }
    }
    return { renewed, released };
  }
}
