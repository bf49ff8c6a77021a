/**
 * Leases and locks, run by `npm run bench` (records.bench.ts) on the same DynamoDB Local.
 *
 * - lease keepalive through the real handler, against the hand-written conditional UpdateItem an
 *   application would send on a copy of the same lease item;
 * - lock acquire+release (one iteration: one lease takes a lock, then releases it) through the
 *   real handler, against the npm library dynamodb-lock-client doing the same with a "fail open"
 *   lock (the kind with a lease duration and fencing tokens, like Vesta's). The library takes an
 *   AWS SDK v2 DocumentClient (its peer dependency); its requests are counted on the SDK v2
 *   `send` event, which fires once per HTTP attempt, as the SDK v3 counter counts every attempt.
 */
import { Agent } from 'node:http';
import {
  CreateTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import DynamoDB from 'aws-sdk/clients/dynamodb';
import DynamoDBLockClient from 'dynamodb-lock-client';
import libraryPackage from 'dynamodb-lock-client/package.json';
import type { ApiHandler } from '../src/api/app';
import { leaseKey } from '../src/adapters/dynamodb/control-keys';
import { LOCAL_CREDENTIALS } from '../src/local/dynamodb-local';
import { expectStatus, gateway } from './gateway';
import { Contender, type OpResult, RequestCounter, type Step, compare, formatTable, warmUp } from './lib';

const NS = 'bench';
const LOCK = 'bench-lock';
/** The library's lock table, as its README's CloudFormation template defines it (partition key `id`, string). */
const LIBRARY_TABLE = 'vesta-bench-distributed-locks-store';
const LEASE_TTL_SECONDS = 60;

export interface LeaseBenchSettings {
  readonly iterations: number;
  readonly warmup: number;
  readonly rewarm: number;
  readonly blockSize: number;
}

export interface LeaseBenchInput {
  readonly endpoint: string;
  readonly handler: ApiHandler;
  /** Counts the requests of the handler's client. */
  readonly vestaRequests: RequestCounter;
  /** The hand-written side's client and its counter. */
  readonly rawClient: DynamoDBClient;
  readonly rawRequests: RequestCounter;
  readonly controlTable: string;
  readonly settings: LeaseBenchSettings;
}

export interface LeaseBenchResult {
  /** Lease keepalive against the hand-written UpdateItem. */
  readonly leases: OpResult[];
  /** Lock acquire+release against the library. */
  readonly locks: OpResult[];
  readonly baselines: Record<string, string>;
  readonly library: {
    readonly name: string;
    readonly version: string;
    readonly sdk: string;
    readonly mode: string;
    readonly fencingTokens: string;
    readonly table: string;
  };
  /** The two tables as printed. */
  readonly text: string;
}

type LibraryLock = Parameters<Parameters<InstanceType<typeof DynamoDBLockClient.FailOpen>['acquireLock']>[1]>[1];

/** Counts the requests of an SDK v2 client under the SDK v3 command names: one per HTTP attempt. */
function countV2(service: DynamoDB, counter: RequestCounter): void {
  // AWS.Service#customizeRequests: called with every AWS.Request the service builds (neither it nor
  // AWS.Request#operation is in the typings); an AWS.Request emits `send` before each HTTP attempt.
  type V2Request = { readonly operation: string; on(event: 'send', listener: () => void): unknown };
  const customizable = service as unknown as { customizeRequests(fn: (request: V2Request) => void): void };
  customizable.customizeRequests((request) => {
    const name = `${request.operation.charAt(0).toUpperCase()}${request.operation.slice(1)}Command`;
    request.on('send', () => {
      counter.total += 1;
      counter.byCommand[name] = (counter.byCommand[name] ?? 0) + 1;
    });
  });
}

async function createLibraryTable(client: DynamoDBClient): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: LIBRARY_TABLE,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (e) {
    if ((e as Error).name !== 'ResourceInUseException') throw e;
  }
}

export async function leaseBench(input: LeaseBenchInput): Promise<LeaseBenchResult> {
  const { handler, vestaRequests, rawClient, rawRequests, controlTable, settings } = input;
  const call = gateway(handler);
  const json = (body: string) => JSON.parse(body) as Record<string, unknown>;

  // Vesta: one lease kept alive, another that takes and releases the lock.
  const grant = async () =>
    String(
      json(
        expectStatus(await call('POST', '/v1/leases', { ttlSeconds: LEASE_TTL_SECONDS })(), [201], 'grant lease').body,
      ).id,
    );
  const kept = await grant();
  const holder = await grant();

  // The hand-written keepalive works on a copy of the very lease item Vesta wrote.
  const rawKey = { pk: { S: 'bench#raw-lease' }, sk: { S: '#lease' } };
  const leaseItem = (
    await rawClient.send(new GetItemCommand({ TableName: controlTable, Key: leaseKey(kept), ConsistentRead: true }))
  ).Item!;
  await rawClient.send(new PutItemCommand({ TableName: controlTable, Item: { ...leaseItem, ...rawKey } }));

  // The library, on an SDK v2 DocumentClient with keep-alive connections (the SDK v3 default).
  await createLibraryTable(rawClient);
  const libraryRequests = new RequestCounter();
  const agent = new Agent({ keepAlive: true });
  const service = new DynamoDB({
    endpoint: input.endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    maxRetries: 3,
    httpOptions: { agent },
  });
  const documentClient = new DynamoDB.DocumentClient({ service });
  // The DocumentClient sends through its own copy of the service it is given: count on that copy.
  countV2((documentClient as unknown as { service: DynamoDB }).service, libraryRequests);
  const library = new DynamoDBLockClient.FailOpen({
    dynamodb: documentClient,
    lockTable: LIBRARY_TABLE,
    partitionKey: 'id',
    leaseDurationMs: LEASE_TTL_SECONDS * 1000,
    // No heartbeat: one acquire+release per iteration, like Vesta's (whose lease is kept alive apart).
    retryCount: 0,
    // Compare the released lock's expiry with the local clock instead of always waiting it out.
    trustLocalTime: true,
    owner: 'vesta-bench',
  });
  const acquireLib = () =>
    new Promise<LibraryLock>((ok, fail) => library.acquireLock(LOCK, (e, lock) => (e ? fail(e) : ok(lock))));
  const releaseLib = (lock: LibraryLock) => new Promise<void>((ok, fail) => lock.release((e) => (e ? fail(e) : ok())));

  let lastVestaToken = 0;
  let vestaAcquires = 0;
  let lastLibraryToken = 0;
  let libraryAcquires = 0;

  const keepalive: Step = () => {
    const run = call('POST', `/v1/leases/${kept}/keepalive`);
    return async () => void expectStatus(await run(), [200], 'keepalive');
  };
  const rawKeepalive: Step = () => {
    const now = Date.now();
    const cmd = new UpdateItemCommand({
      TableName: controlTable,
      Key: rawKey,
      UpdateExpression: 'SET expiresAt = ttlMs + :now, #ttl = ttlSeconds + :ttlBase',
      ConditionExpression: 'expiresAt > :now',
      ExpressionAttributeNames: { '#ttl': 'ttl' },
      ExpressionAttributeValues: {
        ':now': { N: String(now) },
        ':ttlBase': { N: String(Math.floor(now / 1000) + 86400) },
      },
      ReturnValues: 'ALL_NEW',
    });
    return async () => void (await rawClient.send(cmd));
  };
  const vestaLock: Step = () => {
    const acquire = call('POST', `/v1/ns/${NS}/locks/${LOCK}`, { leaseId: holder });
    const release = call('DELETE', `/v1/ns/${NS}/locks/${LOCK}`, undefined, { 'x-lease-id': holder });
    return async () => {
      const token = Number(json(expectStatus(await acquire(), [200], 'acquire lock').body).fencingToken);
      expectStatus(await release(), [204], 'release lock');
      if (!(token > lastVestaToken))
        throw new Error(`Vesta fencing token ${token} does not grow (last ${lastVestaToken})`);
      lastVestaToken = token;
      vestaAcquires += 1;
    };
  };
  const libraryLock: Step = () => async () => {
    const lock = await acquireLib();
    await releaseLib(lock);
    if (lock.fencingToken !== lastLibraryToken + 1)
      throw new Error(`library fencing token ${lock.fencingToken} after ${lastLibraryToken}`);
    lastLibraryToken = lock.fencingToken;
    libraryAcquires += 1;
  };

  const ops = [
    {
      name: 'lease keepalive',
      baseline: 'UpdateItem SET expiresAt = ttlMs + now, ttl IF expiresAt > now; ReturnValues ALL_NEW',
      sides: [new Contender(keepalive, vestaRequests), new Contender(rawKeepalive, rawRequests)] as const,
    },
    {
      name: 'lock acquire+release',
      baseline: `${libraryPackage.name}@${libraryPackage.version} FailOpen: acquireLock then lock.release`,
      sides: [new Contender(vestaLock, vestaRequests), new Contender(libraryLock, libraryRequests)] as const,
    },
  ];
  for (const { sides } of ops) await warmUp(sides[0], sides[1], settings.warmup);
  const rows: OpResult[] = [];
  for (const { name, sides } of ops) {
    await warmUp(sides[0], sides[1], settings.rewarm);
    const [v, r] = await compare(sides[0], sides[1], {
      iterations: settings.iterations,
      blockSize: settings.blockSize,
    });
    rows.push({ op: name, vesta: v, raw: r, ratio: { p50: v.p50 / r.p50, p99: v.p99 / r.p99 } });
  }
  const lockRuns = ops[1].sides[0].runs;
  if (vestaAcquires !== lockRuns || libraryAcquires !== ops[1].sides[1].runs) {
    throw new Error(
      `outcome check: ${vestaAcquires} Vesta and ${libraryAcquires} library acquisitions, expected ${lockRuns} each`,
    );
  }
  agent.destroy();

  const [leases, locks] = [rows.slice(0, 1), rows.slice(1)];
  const text = [
    formatTable(leases),
    '',
    formatTable(locks, 'lib'),
    `lib = ${libraryPackage.name}@${libraryPackage.version} (AWS SDK v2 DocumentClient, FailOpen lock, lease ${LEASE_TTL_SECONDS} s, no heartbeat, trustLocalTime).`,
    `Fencing tokens: both. Vesta's grow across holders, releases and expiries and the store checks them on writes (X-Fencing-Token);`,
    `the library's FailOpen lock returns lock.fencingToken (+1 per acquisition) for the caller to check; its FailClosed lock has none.`,
  ].join('\n');
  return {
    leases,
    locks,
    baselines: Object.fromEntries(ops.map((o) => [o.name, o.baseline])),
    library: {
      name: libraryPackage.name,
      version: libraryPackage.version,
      sdk: 'AWS SDK v2 (aws-sdk, its peer dependency), DocumentClient; requests counted on the SDK v2 send event (one per HTTP attempt)',
      mode: `FailOpen, leaseDurationMs ${LEASE_TTL_SECONDS * 1000}, no heartbeat, retryCount 0, trustLocalTime`,
      fencingTokens:
        'yes for FailOpen locks: lock.fencingToken, incremented on every acquisition and kept across releases; checking it is left to the protected resource. FailClosed locks have none.',
      table: `${LIBRARY_TABLE}: partition key id (S), PAY_PER_REQUEST, as in the library's README`,
    },
    text,
  };
}
