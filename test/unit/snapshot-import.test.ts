/**
 * Import locations as data (`parseLocation`), manifests checked before anything is read by their
 * names (`checkManifest`), and what counts as the same snapshot (`sameSnapshot`).
 */
import fc from 'fast-check';
import { ValidationError } from '../../src/core/errors';
import { SnapshotDamagedError, checkManifest, parseLocation, sameSnapshot } from '../../src/core/snapshot-import';
import type { SnapshotManifest } from '../../src/core/snapshots';
import { importLocation } from '../../src/cli/snapshot-commands';

const ID = 'snap-20261207T031241107Z-5be1c2a0';
const manifest: SnapshotManifest = {
  id: ID,
  namespace: 'shop',
  status: 'COMPLETE',
  items: 3,
  bytes: 120,
  parts: [{ name: 'part-00000.jsonl.gz', items: 3, bytes: 120, sha256: 'a'.repeat(64) }],
  startedAt: '2026-12-07T03:12:41.107Z',
  finishedAt: '2026-12-07T03:12:42.000Z',
  format: 'vesta-snapshot/1',
};
const raw = (m: unknown) => Buffer.from(JSON.stringify(m));

describe('parseLocation', () => {
  test.each([
    ['s3://my-bucket', { kind: 's3', bucket: 'my-bucket', prefix: '' }],
    ['s3://my-bucket/', { kind: 's3', bucket: 'my-bucket', prefix: '' }],
    ['s3://my-bucket/drill/2026', { kind: 's3', bucket: 'my-bucket', prefix: 'drill/2026/' }],
    ['/var/backups/vesta', { kind: 'folder', path: '/var/backups/vesta' }],
    ['/var/backups/vesta/', { kind: 'folder', path: '/var/backups/vesta' }],
    ['file:///var/backups/vesta', { kind: 'folder', path: '/var/backups/vesta' }],
    ['file://localhost/var/backups', { kind: 'folder', path: '/var/backups' }],
  ])('%s', (location, parsed) => {
    expect(parseLocation(location)).toEqual(parsed);
  });

  test.each([
    '',
    'relative/folder',
    './x',
    '/',
    'file://',
    'file://relative',
    '/a/../b',
    '/a/./b',
    '/a//b',
    '/a..b',
    '/a%2Fb',
    'file:///a%2F..%2Fb',
    '/a\\b',
    '/a\u0000b',
    '/a\nb',
    `/${'a'.repeat(1024)}`,
    's3://',
    's3://UPPER/x',
    's3://a/x',
    's3://bucket/../x',
    's3://bucket//x',
    'https://example.com/x',
    'C:\\data',
  ])('%j is refused naming body.location', (location) => {
    expect(() => parseLocation(location)).toThrow(ValidationError);
    try {
      parseLocation(location);
    } catch (e) {
      expect((e as ValidationError).field).toBe('body.location');
    }
  });

  test('a folder it accepts never has a "." or ".." segment and is absolute', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        let parsed: ReturnType<typeof parseLocation>;
        try {
          parsed = parseLocation(s);
        } catch (e) {
          expect(e).toBeInstanceOf(ValidationError);
          return;
        }
        if (parsed.kind === 'folder') {
          expect(parsed.path.startsWith('/')).toBe(true);
          expect(parsed.path.split('/').slice(1)).not.toContainEqual(expect.stringMatching(/^\.{0,2}$/));
        } else {
          expect(parsed.prefix.split('/')).not.toContain('..');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('checkManifest', () => {
  test('a COMPLETE manifest of its folder passes; another status is left out', () => {
    expect(checkManifest(ID, raw(manifest))).toEqual(manifest);
    expect(checkManifest(ID, raw({ ...manifest, status: 'FAILED', error: 'x' }))).toBeNull();
    const replayed = {
      ...manifest,
      items: 4,
      bytes: 150,
      parts: [
        ...manifest.parts,
        {
          name: `replay-snapshot-${'0123456789abcdef'.repeat(2)}.jsonl.gz`,
          items: 1,
          bytes: 30,
          sha256: 'b'.repeat(64),
        },
      ],
    };
    expect(checkManifest(ID, raw(replayed))).toEqual(replayed);
  });

  test.each([
    ['not JSON', Buffer.from('{')],
    ['another format', raw({ ...manifest, format: 'other/1' })],
    ['another id', raw({ ...manifest, id: 'snap-20261207T031241107Z-00000000' })],
    ['a part that leaves the folder', raw({ ...manifest, parts: [{ ...manifest.parts[0], name: '../../x' }] })],
    ['a part twice', raw({ ...manifest, items: 6, bytes: 240, parts: [manifest.parts[0], manifest.parts[0]] })],
    ['a bad sha256', raw({ ...manifest, parts: [{ ...manifest.parts[0], sha256: 'x' }] })],
    ['totals that are not the sums', raw({ ...manifest, items: 4 })],
    ['a bad namespace', raw({ ...manifest, namespace: '../x' })],
  ])('%s: SnapshotDamaged naming manifest.json', (_why, bytes) => {
    expect(() => checkManifest(ID, bytes)).toThrow(SnapshotDamagedError);
    try {
      checkManifest(ID, bytes);
    } catch (e) {
      expect(e).toMatchObject({ snapshot: ID, part: 'manifest.json' });
    }
  });
});

describe('sameSnapshot', () => {
  test('the same but for finishedAt, or with cut on one side only, is the same', () => {
    expect(sameSnapshot(manifest, { ...manifest, finishedAt: '2026-12-07T03:12:42.003Z' })).toBe(true);
    expect(sameSnapshot(manifest, { ...manifest, cut: '2026-12-07T03:12:41.107Z' })).toBe(true);
  });
  test('another start, cut, part or total is another snapshot', () => {
    const cut = '2026-12-07T03:12:41.107Z';
    expect(sameSnapshot(manifest, { ...manifest, startedAt: cut.replace('41', '40') })).toBe(false);
    expect(sameSnapshot({ ...manifest, cut }, { ...manifest, cut: cut.replace('41', '40') })).toBe(false);
    expect(sameSnapshot(manifest, { ...manifest, parts: [{ ...manifest.parts[0], sha256: 'b'.repeat(64) }] })).toBe(
      false,
    );
    expect(sameSnapshot(manifest, { ...manifest, namespace: null })).toBe(false);
  });
});

describe('vesta snapshot import <location>', () => {
  test('a relative folder is made absolute; URLs and absolute paths are sent as they are', () => {
    expect(importLocation('s3://b/p')).toBe('s3://b/p');
    expect(importLocation('file:///x')).toBe('file:///x');
    expect(importLocation('/x/y')).toBe('/x/y');
    expect(importLocation('backups')).toBe(`${process.cwd()}/backups`);
  });
});
