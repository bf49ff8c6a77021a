/**
 * The lease renewer: keeps alive the live leases that belong to a running Step Functions
 * execution, found through the control table's sparse `byExecution` index, and stops as soon as
 * the execution is no longer running, so a dead or stuck workflow's lease expires by itself.
 *
 * One lease never stops a pass: a lease that cannot be renewed after `ITEM_ATTEMPTS` tries (for
 * another reason than a dependency failure, which ends the pass) is set aside as a dead letter
 * (source `renewer`) and the others are renewed. The next pass tries it again while its lease
 * lives; a replay renews it at once (or finds it already ended: nothing left to do).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NotFoundError } from '../../core/errors';
import { type SetAside, errorOf, tryItem } from '../../core/dead-letters';
import type { Clock, ExecutionStatusSource } from '../../core/ports';
import { leaseIdOf, renewShard } from './control-keys';
import { translate } from './errors';
import { Expr, N, S } from './expressions';
import { EXPIRY_SHARDS, type DynamoLeaseStore } from './lease-store';
import { queryPages } from './query';

export interface RenewResult {
  readonly renewed: number;
  /** Leases left to expire because their execution ended (or is unknown). */
  readonly released: number;
  /** Leases it could not renew and set aside as dead letters. */
  readonly setAside: number;
}

export class LeaseRenewer {
  public constructor(
    private readonly client: DynamoDBClient,
    private readonly controlTable: string,
    private readonly store: DynamoLeaseStore,
    private readonly executions: ExecutionStatusSource,
    private readonly clock: Clock,
    private readonly setAsideItem: SetAside,
  ) {}

  /**
   * Renews lease `id` while execution `executionArn` runs: `renewed`, `released` (the execution
   * ended: the lease is left to expire), or `gone` (the lease already ended). Throws store or
   * Step Functions errors.
   */
  public async renew(id: string, executionArn: string): Promise<'renewed' | 'released' | 'gone'> {
    if ((await this.executions.status(executionArn)) !== 'RUNNING') return 'released';
    try {
      await this.store.keepalive(id);
      return 'renewed';
    } catch (e) {
      if (e instanceof NotFoundError) return 'gone';
      throw e;
    }
  }

  /**
   * One pass over the live leases of executions, setting aside those it cannot renew. Throws
   * dependency failures (`ThrottledError`, `UnavailableError`) and what setting aside throws.
   */
  public async run(): Promise<RenewResult> {
    const now = this.clock.now().getTime();
    let renewed = 0;
    let released = 0;
    let setAside = 0;
    for (let shard = 0; shard < EXPIRY_SHARDS; shard++) {
      const e = new Expr();
      e.key(`${e.name('rshard')} = ${e.value(S(renewShard(shard)))}`).key(
        `${e.name('expiresAt')} > ${e.value(N(now))}`,
      );
      const pages = queryPages(this.client, {
        TableName: this.controlTable,
        IndexName: 'byExecution',
        ...e.queryParams(),
      });
      for await (const page of pages) {
        for (const it of page.items) {
          const id = leaseIdOf(it.pk.S!);
          const executionArn = it.executionArn?.S ?? '';
          const out = await tryItem(() => this.renew(id, executionArn), { translate });
          if (!out.ok) {
            await this.setAsideItem({
              source: 'renewer',
              item: { leaseId: id },
              error: errorOf(out.error),
              attempts: out.attempts,
              payload: { leaseId: id, executionArn },
            });
            setAside += 1;
          } else if (out.value === 'renewed') renewed += 1;
          else if (out.value === 'released') released += 1;
        }
      }
    }
    return { renewed, released, setAside };
  }
}
