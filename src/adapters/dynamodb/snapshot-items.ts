/**
 * Snapshot and restore items of the control table (`snapshot-store.ts`) as the API shows them.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type PartInfo, type RestoreView, SNAPSHOT_FORMAT, type SnapshotManifest } from '../../core/snapshots';

/** A snapshot as recorded: its manifest (or what is known while RUNNING) and its segments. */
export type Stored = SnapshotManifest & { readonly segments: number };

export function snapshotOf(item: Record<string, unknown>): Stored {
  const i = unmarshall(item as never) as Record<string, unknown>;
  const running = i.status === 'RUNNING';
  // While RUNNING: the parts written so far (`done`, by name); then the parts of the manifest.
  const raw = running
    ? Object.values((i.done as Record<string, PartInfo> | undefined) ?? {})
    : ((i.parts as PartInfo[] | undefined) ?? []);
  const parts = raw
    .map((p) => ({
      name: p.name,
      items: p.items,
      bytes: p.bytes,
      sha256: p.sha256,
      ...(p.setAside ? { setAside: p.setAside } : {}),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  return {
    id: i.sk as string,
    namespace: (i.ns as string | undefined) ?? null,
    status: i.status as Stored['status'],
    items: running ? parts.reduce((n, p) => n + p.items, 0) : ((i.items as number | undefined) ?? 0),
    bytes: running ? parts.reduce((n, p) => n + p.bytes, 0) : ((i.bytes as number | undefined) ?? 0),
    setAside: parts.reduce((n, p) => n + (p.setAside ?? 0), 0),
    parts,
    startedAt: i.startedAt as string,
    finishedAt: (i.finishedAt as string | undefined) ?? null,
    format: SNAPSHOT_FORMAT,
    ...(typeof i.cut === 'string' ? { cut: i.cut } : {}),
    ...(i.error !== undefined ? { error: i.error as string } : {}),
    segments: i.segments as number,
  };
}

export function restoreOf(item: Record<string, unknown>): RestoreView {
  const i = unmarshall(item as never) as Record<string, unknown>;
  return {
    id: i.sk as string,
    snapshotId: i.snapshotId as string,
    namespace: (i.ns as string | undefined) ?? null,
    mode: i.mode as RestoreView['mode'],
    status: i.status as RestoreView['status'],
    written: (i.written as number | undefined) ?? 0,
    skipped: (i.skipped as number | undefined) ?? 0,
    setAside: (i.setAside as number | undefined) ?? 0,
    startedAt: i.startedAt as string,
    finishedAt: (i.finishedAt as string | undefined) ?? null,
    ...(i.error !== undefined ? { error: i.error as string } : {}),
  };
}
