/**
 * When the local stream poller reads again: at once after a full batch, after the batching window
 * under load, soon after a light or empty read while the stream is active, less often once quiet.
 */
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import {
  ACTIVE_IDLE_MS,
  BATCH_SIZE,
  BATCH_WINDOW_MS,
  LOAD_RATE,
  QUIET_AFTER_MS,
  QUIET_IDLE_MS,
  RATE_WINDOW_MS,
  StreamPoller,
} from '../../src/local/stream-poller';

const poller = () =>
  new StreamPoller({
    streams: {} as DynamoDBStreamsClient,
    streamArn: 'arn:test',
    publish: async () => ({ batchItemFailures: [] }),
  });

test('an isolated write after a quiet spell is read after the short pause, not a batching window', () => {
  const p = poller();
  expect(p.pauseAfter(0, 0)).toBe(QUIET_IDLE_MS);
  expect(p.pauseAfter(1, 60_000)).toBe(ACTIVE_IDLE_MS);
  expect(p.pauseAfter(0, 60_010)).toBe(ACTIVE_IDLE_MS);
  expect(p.pauseAfter(0, 60_000 + QUIET_AFTER_MS)).toBe(QUIET_IDLE_MS);
});

test('a steady stream under the load rate is read every active pause', () => {
  const p = poller();
  const perRead = 1;
  // One record every 30 ms: about 33 a second.
  for (let t = 0; t < 3000; t += 30) expect(p.pauseAfter(perRead, t)).toBe(ACTIVE_IDLE_MS);
});

test('from the load rate on, the batching window; a full batch is followed at once', () => {
  const p = poller();
  const reads = 10;
  const perRead = Math.ceil((LOAD_RATE * RATE_WINDOW_MS) / 1000 / reads);
  const pauses = Array.from({ length: reads }, (_x, i) => p.pauseAfter(perRead, i * (RATE_WINDOW_MS / reads)));
  expect(pauses.at(-1)).toBe(BATCH_WINDOW_MS);
  expect(p.pauseAfter(BATCH_SIZE, RATE_WINDOW_MS)).toBe(0);
  // The load has passed once the last second holds less than the rate's worth.
  expect(p.pauseAfter(0, 2 * RATE_WINDOW_MS + 1)).not.toBe(BATCH_WINDOW_MS);
  expect(p.pauseAfter(0, RATE_WINDOW_MS + QUIET_AFTER_MS)).toBe(QUIET_IDLE_MS);
});
