/**
 * The step names the state machine passes to the saga-step function (`step`, from the names
 * LoadSaga put in the execution's state), generated: whatever a step is called (`__proto__`,
 * spaces, `%2F`, 128 characters, any Unicode), the function applies it only under its own name
 * at its own index; any other name is `Vesta.StepFailed` and nothing is written. Runs the real
 * handler on DynamoDB Local.
 */
import fc from 'fast-check';
import { wireStores } from '../../src/api/wiring';
import { testApi, testTables, uniqueNs } from './harness';

const api = testApi();
afterAll(() => api.close());
const { sagas } = wireStores({ client: api.client, env: testTables() });

/** A name the saga contract takes: 1 to 128 characters, no control character. */
const stepName = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'a b', '%2F..', '.', 'x'.repeat(128), 'é🙂'),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what a name may not hold
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)),
);

test('a step is applied only under its own name; another name writes nothing', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(stepName, stepName, async (name, other) => {
      fc.pre(name !== other);
      const ns = uniqueNs('stepname');
      const id = `names-${ns}-${++n}`;
      const action = { op: 'patch', key: 'k', increment: { n: 1 } } as const;
      expect(await sagas.create({ id, namespace: ns, type: 'steps', steps: [{ name, action }] }, 'arn:x')).toBe(true);
      const state = (await api.step({ sagaId: id, action: 'load' })) as { steps: string[] };
      expect(state.steps).toEqual([name]);

      await expect(api.step({ sagaId: id, action: 'apply', index: 0, step: other })).rejects.toMatchObject({
        name: 'Vesta.StepFailed',
      });
      expect((await api.call('GET', `/v1/ns/${ns}/keys/k`)).status).toBe(404);
      expect((await sagas.step(id, 0)).status).toBe('PENDING');

      expect(await api.step({ sagaId: id, action: 'apply', index: 0, step: name })).toEqual({ next: 1, done: true });
      expect((await api.call('GET', `/v1/ns/${ns}/keys/k`)).body.fields).toEqual({ n: 1 });
    }),
    { numRuns: 40 },
  );
});
