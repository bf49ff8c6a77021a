/**
 * The DynamoDB adapters against the contract of each port they implement, on DynamoDB Local
 * (tables as the harness creates them).
 */
import { DynamoRecordScan } from '../../../src/adapters/dynamodb/record-scan';
import { restoreWriterFor } from '../../../src/adapters/dynamodb/regional-restore-writer';
import { DynamoRestoreWriter } from '../../../src/adapters/dynamodb/restore-writer';
import { RECORDS_TABLE } from '../../../src/adapters/dynamodb/table-defs';
import { DEFAULT_CHANGE_RETENTION_SECONDS } from '../../../src/core/changes';
import { wireStores } from '../../../src/api/wiring';
import { localClient } from '../../../src/local/dynamodb-local';
import { endpoint, testTables } from '../harness';
import { changeLogContract } from './change-log.contract';
import { FakeClock } from './clock';
import { deadLetterStoreContract } from './dead-letter-store.contract';
import { leaseStoreContract } from './lease-store.contract';
import { recordScanContract } from './record-scan.contract';
import { restoreWriterContract } from './restore-writer.contract';
import { sagaLogContract } from './saga-log.contract';
import { settingsStoreContract } from './settings-store.contract';
import { snapshotStoreContract } from './snapshot-store.contract';

const client = localClient(endpoint());
const env: Record<string, string> = { ...testTables(), VESTA_REPLICA: 'local' };
afterAll(() => client.destroy());

/** The DynamoDB stores on the test tables, deciding time with a clock of their own. */
function stores() {
  const clock = new FakeClock();
  return { ...wireStores({ client, env, clock }), clock };
}

leaseStoreContract('DynamoDB', () => {
  const { leases, clock } = stores();
  return { leases, clock };
});

sagaLogContract('DynamoDB', () => {
  const { sagas, records, clock } = stores();
  return { log: sagas, records, clock };
});

recordScanContract('DynamoDB', () => {
  const { records } = stores();
  return { scan: new DynamoRecordScan(client, env[RECORDS_TABLE.envVar]), records };
});

restoreWriterContract('DynamoDB', () => {
  const { records, clock, controlTable, setAside } = stores();
  const recordsTable = env[RECORDS_TABLE.envVar];
  return {
    writer: new DynamoRestoreWriter({
      client,
      recordsTable,
      controlTable,
      clock,
      replica: 'local',
      resolve: (s) => records.resolve(s),
      setAside,
    }),
    records,
  };
});

// The writer of several Regions, as this Region (not the first) of two, on one table: it writes
// this Region's own items, read back by the records store of the same Regions.
restoreWriterContract('DynamoDB, several Regions', () => {
  const clock = new FakeClock();
  const regional = { ...env, VESTA_REPLICA: 'eu-west-1', VESTA_REGIONS: 'us-east-1,eu-west-1' };
  const { records, controlTable, setAside, settings } = wireStores({ client, env: regional, clock });
  const deps = {
    client,
    recordsTable: env[RECORDS_TABLE.envVar],
    controlTable,
    clock,
    replica: 'eu-west-1',
    resolve: (s: Parameters<typeof records.resolve>[0]) => records.resolve(s),
    setAside,
  };
  const conflictMode = async (ns: string) => (await settings.get(ns)).conflicts;
  return { writer: restoreWriterFor(deps, ['us-east-1', 'eu-west-1'], conflictMode), records };
});

settingsStoreContract('DynamoDB', () => stores().settings);

deadLetterStoreContract('DynamoDB', () => {
  // Far after the other suites' entries, so that this suite's are the newest of their source.
  const clock = new FakeClock(Date.parse('2099-01-01T00:00:00.000Z'));
  return { store: wireStores({ client, env, clock }).deadLetters, clock };
});

changeLogContract('DynamoDB', () => {
  const { changes, clock } = stores();
  return { log: changes, clock, retentionSeconds: DEFAULT_CHANGE_RETENTION_SECONDS };
});

snapshotStoreContract('DynamoDB', () => {
  // Far after the other suites' snapshots, so that this suite's are the newest.
  const clock = new FakeClock(Date.parse('2099-06-01T00:00:00.000Z'));
  return { store: wireStores({ client, env, clock }).snapshots, clock };
});
