/**
 * Every key format of the tables that hold Vesta's own state (table layouts in `table-defs.ts`),
 * in one place, so that the adapters that write an item and those that read it back (the reaper,
 * the renewer, the write guards) cannot drift apart.
 *
 * Control table (`pk`, `sk`):
 * - lease `lease#<id>` / `#lease`, with `shard = leases#<n>` (the `byExpiry` index) and, for a lease
 *   of an execution, `rshard = renew#<n>` (the `byExecution` index);
 * - what a lease holds: `lease#<id>` / `key#<ns>#<key>` or `lock#<ns>#<name>` (they sort after `#lease`);
 * - lock `lock#<ns>#<name>` / `#lock`; while a lease holds it, it also carries `lockNs = <ns>` and
 *   `lockName = <name>` (the `locksByNamespace` index);
 * - namespace settings `ns#<ns>` / `settings`; the health probe `health` / `probe`;
 * - the reaper's last run `reaper` / `status`; the field sweeper's `field-sweeper` / `status`;
 * - snapshot `snapshot` / `<id>`, restore `restore` / `<id>`, the newest complete snapshot
 *   `snapshot-latest` / `latest`, a restore part's checkpoint `restore-part#<restore id>` / `<part>`;
 *   the snapshot, restore and checkpoint items carry `ttl` (retention), the latest mark never.
 *
 * Sagas table (`id`, `sk`): the saga `saga`, step `step#NNN`, an applied action or compensation
 * `step#NNN#apply` / `step#NNN#undo`. A header also carries `listStatus` (its status) and
 * `listOrder = <startedAt>#<id>` (the `byStatus` index).
 *
 * Dead-letters table: the listing order `order = <first set aside, ISO>#<id>`.
 *
 * Changes table (`ns`, `seq`): a change `<ns>` / its number, a namespace's head `<ns>` / `HEAD_SEQ`,
 * the marker of an appended change id `#<change id>` / 0, and the local stream reader's
 * checkpoint `#stream` / 0.
 */
import type { Item } from './codec';

// Leases and locks.
const LEASE_PREFIX = 'lease#';
/** Sort key of a lease item; holding items sort after it. */
export const LEASE_SK = '#lease';
export const leasePk = (id: string): string => `${LEASE_PREFIX}${id}`;
/** The lease id of a lease item's partition key. */
export const leaseIdOf = (pk: string): string => pk.slice(LEASE_PREFIX.length);
export const leaseKey = (id: string): Item => ({ pk: { S: leasePk(id) }, sk: { S: LEASE_SK } });
export const lockKey = (ns: string, name: string): Item => ({ pk: { S: `lock#${ns}#${name}` }, sk: { S: '#lock' } });
export const heldKeyKey = (id: string, ns: string, key: string): Item => ({
  pk: { S: leasePk(id) },
  sk: { S: `key#${ns}#${key}` },
});
export const heldLockKey = (id: string, ns: string, name: string): Item => ({
  pk: { S: leasePk(id) },
  sk: { S: `lock#${ns}#${name}` },
});

/** What a holding item's sort key names; `undefined` for another sort key. */
export function holdingOf(sk: string): { kind: 'key' | 'lock'; namespace: string; name: string } | undefined {
  const m = /^(key|lock)#([^#]+)#(.*)$/s.exec(sk);
  return m ? { kind: m[1] as 'key' | 'lock', namespace: m[2], name: m[3] } : undefined;
}

/** The shard a lease id falls in, of `shards`. */
const shardOf = (leaseId: string, shards: number): number => parseInt(leaseId.slice(0, 4), 16) % shards;
/** Partition of the `byExpiry` index: expiry shard `n`. */
export const expiryShard = (n: number): string => `leases#${n}`;
/** Partition of the `byExecution` index: renewal shard `n`. */
export const renewShard = (n: number): string => `renew#${n}`;
export const expiryShardOf = (leaseId: string, shards: number): string => expiryShard(shardOf(leaseId, shards));
export const renewShardOf = (leaseId: string, shards: number): string => renewShard(shardOf(leaseId, shards));

export const REAPER_STATUS_KEY: Item = { pk: { S: 'reaper' }, sk: { S: 'status' } };
export const FIELD_SWEEPER_STATUS_KEY: Item = { pk: { S: 'field-sweeper' }, sk: { S: 'status' } };

// Settings and health.
export const settingsKey = (ns: string): Item => ({ pk: { S: `ns#${ns}` }, sk: { S: 'settings' } });
export const HEALTH_PROBE_KEY: Item = { pk: { S: 'health' }, sk: { S: 'probe' } };

// Snapshots and restores.
/** Partition of the snapshot items (sort key: the snapshot id). */
export const SNAPSHOT_PK = 'snapshot';
/** Partition of the restore items (sort key: the restore id). */
export const RESTORE_PK = 'restore';
export const LATEST_SNAPSHOT_KEY: Item = { pk: { S: 'snapshot-latest' }, sk: { S: 'latest' } };
/** Partition of a restore's part checkpoints (sort key: the part name). */
export const checkpointPk = (restoreId: string): string => `restore-part#${restoreId}`;
export const checkpointKey = (restoreId: string, part: string): Item => ({
  pk: { S: checkpointPk(restoreId) },
  sk: { S: part },
});

// Sagas table.
export const SAGA_HEADER_SK = 'saga';
export const stepSk = (i: number): string => `step#${String(i).padStart(3, '0')}`;
export const entrySk = (i: number, kind: 'apply' | 'undo'): string => `${stepSk(i)}#${kind}`;
/** The listing order of a saga's header: newest first is descending `listOrder`. */
export const sagaListOrder = (startedAt: string, id: string): string => `${startedAt}#${id}`;
/** Whether a sort key of the sagas table is an entry's (`step#NNN#apply`), not the header's or a step's. */
export const isEntrySk = (sk: string): boolean => sk.includes('#', 5);

// Changes table.
/** Sort key of a namespace's head item: after every change number. */
export const HEAD_SEQ = Number.MAX_SAFE_INTEGER;
/** The item that marks change `id` as appended (each id at most once). */
export const changeMarkerKey = (id: string): Item => ({ ns: { S: `#${id}` }, seq: { N: '0' } });
/** Where the local stack's stream reader keeps its shard positions. */
export const STREAM_CHECKPOINT_KEY: Item = { ns: { S: '#stream' }, seq: { N: '0' } };

// Dead-letters table.
/** The listing order of an entry: newest first is descending `order`. */
export const deadLetterOrder = (firstAt: string, id: string): string => `${firstAt}#${id}`;
