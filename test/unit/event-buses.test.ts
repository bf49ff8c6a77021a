/**
 * Every event bus against the contract of `EventBus`: the local bus (its consumers are the log
 * and in-process listeners), and the EventBridge adapter with a stand-in `PutEvents` client
 * (`fake-eventbridge.ts`) whose consumers get what it accepted.
 */
import { EventBridgeBus } from '../../src/adapters/events/eventbridge-bus';
import { LocalEventBus } from '../../src/adapters/events/local-bus';
import type { ChangeDetail } from '../../src/core/changes';
import { type DeliveredEvent, eventBusContract } from './contract/event-bus.contract';
import { FakeEventBridge } from './fake-eventbridge';

eventBusContract('local bus', () => {
  const logged: DeliveredEvent[] = [];
  const heard: ChangeDetail[] = [];
  const bus = new LocalEventBus({
    info: (_message, extra) =>
      logged.push({
        source: extra.source as string,
        detailType: extra['detail-type'] as string,
        detail: extra.detail as ChangeDetail,
      }),
  });
  bus.subscribe((c) => heard.push(c));
  return {
    bus,
    delivered: () => {
      // Listeners hear exactly what the log shows.
      expect(heard).toEqual(logged.map((e) => e.detail));
      return logged;
    },
  };
});

eventBusContract('EventBridge', () => {
  const eventBridge = new FakeEventBridge();
  return {
    bus: new EventBridgeBus(eventBridge.client, 'vesta-test'),
    delivered: () =>
      eventBridge.accepted.map((e) => {
        expect(e.EventBusName).toBe('vesta-test');
        return { source: e.Source!, detailType: e.DetailType!, detail: JSON.parse(e.Detail!) as ChangeDetail };
      }),
  };
});
