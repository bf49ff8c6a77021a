/**
 * The EventBridge adapter against a stand-in client (there is no local EventBridge): requests of
 * at most 10 entries and 256 KB, failed entries sent again, oversized details without fields, and
 * the ids of what could not be put after retries.
 */
import type { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EventBridgeBus, MAX_PUT_BYTES, eventDetail } from '../../src/adapters/events/eventbridge-bus';
import type { ChangeDetail } from '../../src/core/changes';

const change = (i: number, fields: Record<string, unknown> = { i }): ChangeDetail => ({
  id: i.toString(16).padStart(32, '0'),
  namespace: 'shop',
  key: `k${i}`,
  rev: 1,
  vv: { local: 1 },
  change: 'put',
  fields: fields as ChangeDetail['fields'],
});

type Entry = { Detail: string; Source: string; DetailType: string; EventBusName: string };

function fakeClient(failing: (entry: Entry, attempt: number) => boolean) {
  const requests: Entry[][] = [];
  const attempts = new Map<string, number>();
  const client = {
    send: async (cmd: PutEventsCommand) => {
      const entries = cmd.input.Entries as Entry[];
      requests.push(entries);
      return {
        Entries: entries.map((e) => {
          const id = JSON.parse(e.Detail).id as string;
          const n = (attempts.get(id) ?? 0) + 1;
          attempts.set(id, n);
          return failing(e, n)
            ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }
            : { EventId: `ev-${id}-${n}` };
        }),
      };
    },
  } as unknown as EventBridgeClient;
  return { client, requests };
}

test('puts at most 10 entries per request with the vesta envelope', async () => {
  const { client, requests } = fakeClient(() => false);
  const failed = await new EventBridgeBus(client, 'vesta-dev').publish(
    Array.from({ length: 25 }, (_x, i) => change(i)),
  );
  expect(failed.size).toBe(0);
  expect(requests.map((r) => r.length)).toEqual([10, 10, 5]);
  expect(requests[0][0]).toMatchObject({
    EventBusName: 'vesta-dev',
    Source: 'vesta',
    DetailType: 'vesta.StateChanged',
  });
  expect(JSON.parse(requests[0][0].Detail)).toEqual(change(0));
});

test('splits requests to stay under 256 KB and sends a detail that would not fit without fields', async () => {
  const { client, requests } = fakeClient(() => false);
  const big = change(1, { blob: 'x'.repeat(100 * 1024) });
  const huge = change(2, { blob: 'y'.repeat(300 * 1024) });
  await new EventBridgeBus(client, 'b').publish([big, big, big, huge]);
  for (const r of requests) expect(r.reduce((n, e) => n + Buffer.byteLength(e.Detail), 0)).toBeLessThan(MAX_PUT_BYTES);
  const sent = requests.flat().map((e) => JSON.parse(e.Detail));
  expect(sent).toHaveLength(4);
  expect(sent[3]).toEqual({
    id: huge.id,
    namespace: 'shop',
    key: 'k2',
    rev: 1,
    vv: { local: 1 },
    change: 'put',
    fieldsOmitted: true,
  });
  expect(JSON.parse(eventDetail(big)).fields.blob).toHaveLength(100 * 1024);
});

test('sends failed entries again, and reports the ids still failing after the last try', async () => {
  const { client, requests } = fakeClient((e, attempt) => {
    const id = JSON.parse(e.Detail).id as string;
    return id === change(3).id || (id === change(4).id && attempt < 3);
  });
  const failed = await new EventBridgeBus(client, 'b').publish([3, 4, 5].map((i) => change(i)));
  expect([...failed]).toEqual([change(3).id]);
  expect(requests[0]).toHaveLength(3);
  // Retries carry only what failed: 4 twice more, 3 until the attempts run out.
  expect(requests.slice(1).map((r) => r.map((e) => JSON.parse(e.Detail).key))).toEqual([
    ['k3', 'k4'],
    ['k3', 'k4'],
    ['k3'],
  ]);
}, 20_000);
