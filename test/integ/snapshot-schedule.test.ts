/**
 * The schedule function: a scheduled whole-store snapshot through the same workflow, and the age
 * metric the "snapshot too old" alarm watches. A table set of its own, so the newest-complete mark
 * is this test's.
 */
import { randomUUID } from 'node:crypto';
import { ensureTables } from '../../src/local/bootstrap-tables';
import { localClient } from '../../src/local/dynamodb-local';
import { createScheduleHandler } from '../../src/snapshots/worker';
import { type TestApi, endpoint, testApi } from './harness';

let own: TestApi;
beforeAll(async () => {
  const client = localClient(endpoint());
  const env = await ensureTables(client, `vesta-sched-${randomUUID().slice(0, 8)}`);
  client.destroy();
  own = testApi({ env });
});
afterAll(() => own?.close());

test('scheduledStart takes a whole-store snapshot in the configured segments; reportAge reports its age only once there is one', async () => {
  const metrics: { name: string; unit: string; value: number }[] = [];
  const schedule = createScheduleHandler(
    {
      ...own.snapshotDeps,
      workflows: own.workflows,
      metrics: {
        addMetric: (name: string, unit: string, value: number) => void metrics.push({ name, unit, value }),
      } as never,
    },
    { segments: 3 },
  );
  expect(await schedule({ action: 'reportAge' })).toEqual({ latestSnapshotAgeSeconds: null });
  expect(metrics).toEqual([]);
  expect((await own.call('GET', '/v1/health')).body.checks.latestSnapshotAgeSeconds).toBeNull();

  for (let i = 0; i < 30; i++) await own.call('PUT', `/v1/ns/sched/keys/k${i}`, { body: { fields: { i } } });
  const { snapshotId } = (await schedule({ action: 'scheduledStart' })) as { snapshotId: string };
  await own.workflows.settled();
  const snap = (await own.call('GET', `/v1/snapshots/${snapshotId}`)).body;
  expect(snap).toMatchObject({ id: snapshotId, namespace: null, status: 'COMPLETE', items: 30 });
  expect(snap.parts).toHaveLength(3);

  const age = (await schedule({ action: 'reportAge' })) as { latestSnapshotAgeSeconds: number };
  expect(age.latestSnapshotAgeSeconds).toEqual(expect.any(Number));
  expect(age.latestSnapshotAgeSeconds).toBeLessThan(60);
  expect(metrics).toEqual([{ name: 'LatestSnapshotAgeSeconds', unit: 'Seconds', value: age.latestSnapshotAgeSeconds }]);
});

test('an unknown action or a malformed event fails by name, not retried', async () => {
  const schedule = createScheduleHandler({ ...own.snapshotDeps, workflows: own.workflows }, { segments: 1 });
  await expect(schedule({ action: 'dance' })).rejects.toMatchObject({
    name: 'Vesta.StepFailed',
    message: 'unknown action "dance"',
  });
  await expect(schedule({})).rejects.toMatchObject({ name: 'Vesta.StepFailed' });
  await expect(schedule({ action: 'hasOwnProperty' })).rejects.toMatchObject({ name: 'Vesta.StepFailed' });
});
