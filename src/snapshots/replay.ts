/**
 * Replays of snapshot export dead letters: a record the export set aside is added to its
 * snapshot as a part of its own (`replay-<entry id>.jsonl.gz`, one line), so that a restore of the
 * snapshot restores it like any other. The record is the item as the export read it (kept with
 * the entry), so the snapshot stays what it was at its cut.
 *
 * Order: the part is written, then the snapshot's recorded parts, then the manifest. A restore
 * that checks the snapshot between the last two finds them different and fails (nothing written);
 * start it again.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { DeadLetter } from '../core/dead-letters';
import { type PartInfo, type SnapshotManifest, keptAt, manifestName, partPath, toLine } from '../core/snapshots';
import type { SnapshotPayload } from './export';
import type { SnapshotWorkerDeps } from './deps';

/** Tries of the conditional update when other replays of the same snapshot go on at once. */
const MAX_ADD_ATTEMPTS = 5;

async function readJson(deps: SnapshotWorkerDeps, name: string): Promise<SnapshotManifest> {
  const chunks: Uint8Array[] = [];
  for await (const c of await deps.blobs.read(name)) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as SnapshotManifest;
}

/**
 * Replays a snapshot dead letter: decodes the kept item again and, when it now decodes, adds it to
 * the snapshot as a part of its own (a record that is not one a snapshot keeps, e.g. a tombstone,
 * adds nothing). Throws the decoding error when it still fails, an `Error` when the snapshot is
 * not COMPLETE any more, and store or blob errors.
 */
export async function replaySnapshotEntry(entry: DeadLetter, deps: SnapshotWorkerDeps): Promise<void> {
  if (entry.payloadOmitted)
    throw new Error('the record item was too big to keep with the entry; it cannot be replayed, only discarded');
  const snapshotId = String(entry.item.snapshotId);
  const from = String(entry.item.part);
  const state = deps.scan.decode((entry.payload as SnapshotPayload).item);
  const name = `replay-${entry.id}.jsonl.gz`;
  for (let attempt = 0; attempt < MAX_ADD_ATTEMPTS; attempt++) {
    const s = await deps.store.getSnapshot(snapshotId);
    if (s?.status !== 'COMPLETE')
      throw new Error(
        `snapshot ${snapshotId} is ${s?.status ?? 'gone'}; only a COMPLETE snapshot takes a replayed record`,
      );
    // As the export would have written it: at the cut, without the fields due by then.
    const kept = keptAt(state, s.cut !== undefined ? Date.parse(s.cut) : Date.parse(s.startedAt));
    const body = kept ? gzipSync(Buffer.from(`${toLine(kept)}\n`, 'utf8')) : undefined;
    const origin = s.parts.find((p) => p.name === from);
    if (!origin?.setAside || s.parts.some((p) => p.name === name)) return; // replayed before
    let added: PartInfo | undefined;
    if (body) {
      const written = await deps.blobs.write(partPath(snapshotId, name), Readable.from([body]));
      added = { name, items: 1, bytes: written.bytes, sha256: written.sha256 };
    }
    const parts = [
      ...s.parts.map((p) => (p.name === from ? { ...p, setAside: (p.setAside ?? 1) - 1 } : p)),
      ...(added ? [added] : []),
    ];
    if (!(await deps.store.addPart(snapshotId, s.items, parts))) continue;
    const manifest = await readJson(deps, manifestName(snapshotId));
    const updated: SnapshotManifest = {
      ...manifest,
      items: parts.reduce((n, p) => n + p.items, 0),
      bytes: parts.reduce((n, p) => n + p.bytes, 0),
      setAside: parts.reduce((n, p) => n + (p.setAside ?? 0), 0),
      parts,
    };
    await deps.blobs.write(
      manifestName(snapshotId),
      Readable.from([Buffer.from(`${JSON.stringify(updated, null, 2)}\n`, 'utf8')]),
    );
    return;
  }
  throw new Error(`snapshot ${snapshotId} kept changing while this record was added; replay again`);
}
