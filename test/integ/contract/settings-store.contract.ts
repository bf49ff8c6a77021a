/** The contract of `SettingsStore` (`src/core/ports.ts`): defaults until set, then what was set. */
import type { SettingsStore } from '../../../src/core/ports';
import { DEFAULT_SETTINGS } from '../../../src/core/types';
import { uniqueNs } from '../harness';

export function settingsStoreContract(backend: string, make: () => SettingsStore): void {
  describe(`SettingsStore contract (${backend})`, () => {
    test('a namespace never configured has the defaults; one configured has its settings', async () => {
      const settings = make();
      const ns = uniqueNs('settings-contract');
      expect(await settings.get(ns)).toEqual(DEFAULT_SETTINGS);
      expect(await settings.put(ns, { conflicts: 'siblings' })).toEqual({ conflicts: 'siblings' });
      expect(await settings.get(ns)).toEqual({ conflicts: 'siblings' });
      expect(await make().get(ns)).toEqual({ conflicts: 'siblings' });
    });
  });
}
