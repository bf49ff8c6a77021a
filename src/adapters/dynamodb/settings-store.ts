/**
 * Namespace settings in the control table (`pk = ns#<ns>`, `sk = settings`), cached per process
 * for a few seconds so that a record write stays one DynamoDB request. A change made through
 * this process is seen at once; other API instances see it within `cacheSeconds`.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Clock, SettingsStore } from '../../core/ports';
import { DEFAULT_SETTINGS, type NamespaceSettings } from '../../core/types';
import { HEALTH_PROBE_KEY, settingsKey } from './control-keys';
import { guarded } from './errors';

export interface DynamoSettingsStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly clock: Clock;
  /** @default 5 */
  readonly cacheSeconds?: number;
}

export class DynamoSettingsStore implements SettingsStore {
  private readonly cache = new Map<string, { value: NamespaceSettings; until: number }>();

  public constructor(private readonly opts: DynamoSettingsStoreOptions) {}

  public async get(ns: string): Promise<NamespaceSettings> {
    const now = this.opts.clock.now().getTime();
    const hit = this.cache.get(ns);
    if (hit && hit.until > now) return hit.value;
    const out = await guarded(() =>
      this.opts.client.send(
        new GetItemCommand({ TableName: this.opts.tableName, Key: settingsKey(ns), ConsistentRead: true }),
      ),
    );
    const mode = out.Item?.conflicts?.S;
    const value: NamespaceSettings =
      mode === 'siblings' || mode === 'reject' ? { conflicts: mode } : { ...DEFAULT_SETTINGS };
    this.remember(ns, value);
    return value;
  }

  public async put(ns: string, settings: NamespaceSettings): Promise<NamespaceSettings> {
    await guarded(() =>
      this.opts.client.send(
        new PutItemCommand({
          TableName: this.opts.tableName,
          Item: {
            ...settingsKey(ns),
            conflicts: { S: settings.conflicts },
            updatedAt: { S: this.opts.clock.now().toISOString() },
          },
        }),
      ),
    );
    this.remember(ns, settings);
    return settings;
  }

  public async storeOk(): Promise<boolean> {
    try {
      await this.opts.client.send(new GetItemCommand({ TableName: this.opts.tableName, Key: HEALTH_PROBE_KEY }));
      return true;
    } catch {
      return false;
    }
  }

  private remember(ns: string, value: NamespaceSettings): void {
    const ttl = (this.opts.cacheSeconds ?? 5) * 1000;
    this.cache.set(ns, { value, until: this.opts.clock.now().getTime() + ttl });
  }
}
