/**
 * Restore checkpoints in the control table: one item per part of a restore,
 * `pk = restore-part#<restore id>`, `sk = <part name>`, holding how far the part has been
 * restored (`next`: the index of its first line not yet committed) and the counts of the lines
 * before it (`written`, `skipped`, and `setAside`: lines set aside as dead letters). A checkpoint
 * only moves forward, and only in the same transaction as the record writes of the lines it moves
 * over, so the counts are exactly those of what was committed, whatever was interrupted and run
 * again. A replayed dead letter moves one count from `setAside` to `written` or `skipped`. Kept
 * for a while after the restore (`ttl`), for the record.
 */
import {
  type DynamoDBClient,
  GetItemCommand,
  type TransactWriteItem,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { PartCounts } from '../../core/snapshot-ports';
import type { Item } from './codec';
import { checkpointKey, checkpointPk } from './control-keys';
import { guarded, isConditionFailure } from './errors';
import { Expr, N, S, attributeNotExists } from './expressions';
import { queryPages } from './query';

/** How long a checkpoint is kept after its last move (DynamoDB TTL) while its restore runs; its end sets the restores' retention. */
export const CHECKPOINT_TTL_SECONDS = 30 * 24 * 3600;

export interface Checkpoint extends PartCounts {
  /** Index of the part's first line not yet restored (0: nothing yet). */
  readonly next: number;
}

export const NO_CHECKPOINT: Checkpoint = { next: 0, written: 0, skipped: 0, setAside: 0 };

function checkpointOf(item: Item | undefined): Checkpoint {
  if (!item) return NO_CHECKPOINT;
  return {
    next: Number(item.next?.N ?? 0),
    written: Number(item.written?.N ?? 0),
    skipped: Number(item.skipped?.N ?? 0),
    setAside: Number(item.setAside?.N ?? 0),
  };
}

/** The part's checkpoint (`NO_CHECKPOINT` before its first batch). One GetItem; throws store errors. */
export async function loadCheckpoint(
  client: DynamoDBClient,
  table: string,
  restoreId: string,
  part: string,
): Promise<Checkpoint> {
  const out = await guarded(() =>
    client.send(new GetItemCommand({ TableName: table, Key: checkpointKey(restoreId, part), ConsistentRead: true })),
  );
  return checkpointOf(out.Item as Item | undefined);
}

/** The counts of every part of a restore, added up. One Query (a page per 1 MB); throws store errors. */
export async function sumCheckpoints(client: DynamoDBClient, table: string, restoreId: string): Promise<PartCounts> {
  let written = 0;
  let skipped = 0;
  let setAside = 0;
  const e = new Expr();
  e.key(`${e.name('pk')} = ${e.value(S(checkpointPk(restoreId)))}`);
  const pages = queryPages(client, { TableName: table, ...e.queryParams(), ConsistentRead: true });
  for await (const page of pages) {
    for (const item of page.items) {
      const c = checkpointOf(item);
      written += c.written;
      skipped += c.skipped;
      setAside += c.setAside;
    }
  }
  return { written, skipped, setAside };
}

/**
 * Sets `ttl` on every checkpoint of a restore that has ended (the restores' retention from its
 * end). Each update is conditioned on the checkpoint existing. Throws store errors.
 */
export async function expireCheckpoints(
  client: DynamoDBClient,
  table: string,
  restoreId: string,
  ttl: number,
): Promise<void> {
  const q = new Expr();
  q.key(`${q.name('pk')} = ${q.value(S(checkpointPk(restoreId)))}`).project(['sk']);
  const parts: string[] = [];
  for await (const page of queryPages(client, { TableName: table, ...q.queryParams(), ConsistentRead: true }))
    for (const item of page.items) parts.push(item.sk.S!);
  for (const part of parts) {
    const e = new Expr();
    e.set(`${e.name('ttl')} = ${e.value(N(ttl))}`).require(`attribute_exists(${e.name('pk')})`);
    try {
      await guarded(() =>
        client.send(
          new UpdateItemCommand({ TableName: table, Key: checkpointKey(restoreId, part), ...e.updateParams() }),
        ),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
}

/**
 * The update that moves one count from `setAside` to `written` or `skipped`, conditioned on there
 * being one set aside: of a part's checkpoint, or of a finished restore's totals. Never throws.
 */
export function moveSetAside(written: boolean): Expr {
  const e = new Expr();
  const aside = e.name('setAside');
  return e
    .add(e.name(written ? 'written' : 'skipped'), e.value(N(1)))
    .add(aside, e.value(N(-1)))
    .require(`${aside} > ${e.value(N(0))}`);
}

/**
 * Moves one count of a part from `setAside` to `written` or `skipped` (a replayed dead letter);
 * nothing when the part has none set aside. One UpdateItem; throws store errors.
 */
export async function settleCheckpoint(
  client: DynamoDBClient,
  table: string,
  restoreId: string,
  part: string,
  written: boolean,
): Promise<void> {
  const e = moveSetAside(written);
  try {
    await guarded(() =>
      client.send(
        new UpdateItemCommand({ TableName: table, Key: checkpointKey(restoreId, part), ...e.updateParams() }),
      ),
    );
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
  }
}

/**
 * The transaction item that moves a part's checkpoint from line `from` (as read) to `to`, adding
 * the batch's counts. Its condition fails when the checkpoint is no longer at `from` (another run
 * of the same part moved it), and then the whole batch is cancelled.
 */
export function advanceCheckpoint(
  table: string,
  restoreId: string,
  part: string,
  from: number,
  to: number,
  counts: PartCounts,
  nowMs: number,
): TransactWriteItem {
  const e = new Expr();
  const next = e.name('next');
  e.set(`${next} = ${e.value(N(to))}`)
    .set(`${e.name('ttl')} = ${e.value(N(Math.floor(nowMs / 1000) + CHECKPOINT_TTL_SECONDS))}`)
    .add(e.name('written'), e.value(N(counts.written)))
    .add(e.name('skipped'), e.value(N(counts.skipped)))
    .add(e.name('setAside'), e.value(N(counts.setAside)));
  const at = `${next} = ${e.value(N(from))}`;
  e.require(from === 0 ? `${attributeNotExists(next)} OR ${at}` : at);
  return { Update: { TableName: table, Key: checkpointKey(restoreId, part), ...e.updateParams() } };
}
