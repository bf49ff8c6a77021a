/**
 * The functions' settings read from the environment: table names, snapshot segments, change and
 * duration settings, and which Region(s) this deployment is in. Each throws an `Error` naming the
 * variable when its value is malformed.
 */
import { DEFAULT_CHANGE_RETENTION_SECONDS } from '../core/changes';
import { DEFAULT_SEGMENTS, MAX_SEGMENTS } from '../core/snapshots';
import type { TableDef } from '../adapters/dynamodb/table-defs';

/** Scan segments (parts) of a whole-store snapshot: `VESTA_SNAPSHOT_SEGMENTS`, 1 to 64. */
export function snapshotSegments(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.VESTA_SNAPSHOT_SEGMENTS;
  if (raw === undefined || raw === '') return DEFAULT_SEGMENTS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_SEGMENTS)
    throw new Error(`VESTA_SNAPSHOT_SEGMENTS must be an integer from 1 to ${MAX_SEGMENTS}, not ${JSON.stringify(raw)}`);
  return n;
}

/** How long changes are kept: `VESTA_CHANGE_RETENTION_HOURS`, at least 24 (the contract's minimum). */
export function changeRetentionSeconds(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.VESTA_CHANGE_RETENTION_HOURS;
  if (raw === undefined || raw === '') return DEFAULT_CHANGE_RETENTION_SECONDS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 24 || n > 24 * 365)
    throw new Error(`VESTA_CHANGE_RETENTION_HOURS must be an integer from 24 to 8760, not ${JSON.stringify(raw)}`);
  return n * 3600;
}

/** Reads a table's physical name from its environment variable. Throws when it is missing. */
export function tableName(env: Readonly<Record<string, string | undefined>>, def: TableDef): string {
  const name = env[def.envVar];
  if (!name) throw new Error(`environment variable ${def.envVar} (the ${def.id} table name) is not set`);
  return name;
}

/** A duration setting in milliseconds, a whole number from 0; `fallback` when unset. */
export function msSetting(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw new Error(`environment variable ${name} must be a whole number of milliseconds`);
  return Number(raw);
}

/** The replica id written into version vectors: `VESTA_REPLICA`, else the Region, else `local`. */
export const replicaOf = (env: Readonly<Record<string, string | undefined>>) =>
  env.VESTA_REPLICA ?? env.AWS_REGION ?? 'local';

/**
 * `VESTA_REGIONS`: every Region of the deployment, comma-separated, the first one first (empty or
 * unset: one Region). With more than one, this Region (the replica id) must be among them.
 */
export function regionsOf(env: Readonly<Record<string, string | undefined>>): string[] {
  const list = (env.VESTA_REGIONS ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r.length > 0);
  if (list.length > 1 && !list.includes(replicaOf(env))) {
    throw new Error(
      `environment variable VESTA_REGIONS (${list.join(',')}) must include this Region (${replicaOf(env)})`,
    );
  }
  if (new Set(list).size !== list.length) throw new Error(`environment variable VESTA_REGIONS names a Region twice`);
  return list;
}
