import { UsageError } from '../../src/cli/errors';
import { findCommand } from '../../src/cli/commands';
import {
  parseMode,
  progressBar,
  restoreProgress,
  snapshotProgress,
  type SnapshotView,
} from '../../src/cli/snapshot-commands';

const running = (parts: number, segments?: number): SnapshotView => ({
  id: 'snap-1',
  namespace: null,
  status: 'RUNNING',
  items: parts * 1000,
  bytes: 0,
  parts: Array.from({ length: parts }, (_, i) => ({ name: `part-${i}`, items: 1000 })),
  segments,
});

test('the progress bar fills with the parts written, and stays empty when the total is unknown', () => {
  expect(progressBar(0, 4, 8)).toBe('[--------]');
  expect(progressBar(1, 4, 8)).toBe('[##------]');
  expect(progressBar(4, 4, 8)).toBe('[########]');
  expect(progressBar(9, 4, 8)).toBe('[########]');
  expect(progressBar(3, undefined, 8)).toBe('[--------]');
});

test('progress lines say what is known: parts of segments, records, seconds', () => {
  expect(snapshotProgress(running(2, 4), 12_400)).toBe(
    '[############------------] snap-1 RUNNING: 2/4 parts, 2,000 records, 12 s',
  );
  expect(snapshotProgress(running(1), 1_000)).toBe(
    '[------------------------] snap-1 RUNNING: 1 parts, 1,000 records, 1 s',
  );
  expect(snapshotProgress({ ...running(4, 4), status: 'COMPLETE' }, 3_000)).toMatch(
    /^\[#{24}\] snap-1 COMPLETE: 4\/4 parts/,
  );
  expect(
    restoreProgress({ id: 'rest-1', snapshotId: 'snap-1', status: 'RUNNING', written: 12_345, skipped: 6 }, 61_000),
  ).toBe('rest-1 RUNNING: 12,345 written, 6 skipped, 61 s');
});

test('--mode is required and is missing or newer', () => {
  expect(parseMode('missing')).toBe('missing');
  expect(parseMode('newer')).toBe('newer');
  expect(() => parseMode(undefined)).toThrow(UsageError);
  expect(() => parseMode('Newer')).toThrow(/--mode expects missing or newer. Received: "Newer"/);
});

test('every snapshot command is registered under the snapshot group', () => {
  for (const words of [
    ['snapshot', 'create'],
    ['snapshot', 'list'],
    ['snapshot', 'get'],
    ['snapshot', 'restore'],
    ['snapshot', 'restore-status'],
  ]) {
    expect(findCommand(words)?.name).toBe(words.join(' '));
  }
});
