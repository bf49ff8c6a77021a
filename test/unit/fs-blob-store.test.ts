/**
 * The file-system blob store's temporary files: written, flushed and renamed into place, removed
 * on failure, and those left by a killed process removed by the next store that writes there.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore } from '../../src/adapters/blob/fs-blob-store';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'vesta-fs-blobs-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const files = () => readdirSync(root, { recursive: true }).map(String).sort();

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

async function* failing(): AsyncGenerator<Uint8Array> {
  yield Buffer.from('half of a part');
  throw new Error('the source failed');
}

/** The pid of a process that has ended. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

test('a complete write leaves the object and no temporary file', async () => {
  const store = new FsBlobStore(root);
  const w = await store.write('snapshots/s1/part-00000.jsonl.gz', chunks('a', 'b'));
  expect(w.bytes).toBe(2);
  expect(files()).toEqual(['snapshots', 'snapshots/s1', 'snapshots/s1/part-00000.jsonl.gz']);
  expect(readFileSync(join(root, 'snapshots/s1/part-00000.jsonl.gz'), 'utf8')).toBe('ab');
});

test('a write whose source fails midway rejects, leaves no object and no temporary file, and keeps the old object', async () => {
  const store = new FsBlobStore(root);
  await expect(store.write('snapshots/s1/part-00000.jsonl.gz', failing())).rejects.toThrow('the source failed');
  expect(files()).toEqual(['snapshots', 'snapshots/s1']);
  await store.write('snapshots/s1/part-00000.jsonl.gz', chunks('old'));
  await expect(store.write('snapshots/s1/part-00000.jsonl.gz', failing())).rejects.toThrow('the source failed');
  expect(files()).toEqual(['snapshots', 'snapshots/s1', 'snapshots/s1/part-00000.jsonl.gz']);
  expect(readFileSync(join(root, 'snapshots/s1/part-00000.jsonl.gz'), 'utf8')).toBe('old');
});

test('temporary files of a killed process are removed by the next store, before it writes or lists; those of a running process stay', async () => {
  const dir = join(root, 'snapshots', 's1');
  mkdirSync(dir, { recursive: true });
  const dead = `part-00000.jsonl.gz.tmp-${deadPid()}-0123abcd`;
  const deadElsewhere = `part-00001.jsonl.gz.tmp-${deadPid()}-4567abcd`;
  const live = `part-00002.jsonl.gz.tmp-${process.ppid}-89abcdef`;
  for (const n of [dead, deadElsewhere, live]) writeFileSync(join(dir, n), '');
  const store = new FsBlobStore(root);
  expect(await store.list('snapshots/')).toEqual([]);
  expect(readdirSync(dir).sort()).toEqual([live]);
  writeFileSync(join(dir, dead), '');
  await store.write('snapshots/s1/part-00000.jsonl.gz', chunks('x'));
  expect(readdirSync(dir).sort()).toEqual(['part-00000.jsonl.gz', live]);
  expect(await store.list('snapshots/')).toEqual(['snapshots/s1/part-00000.jsonl.gz']);
});
