/** The part of dynamodb-lock-client (which ships no types) that the benchmark uses. */
declare module 'dynamodb-lock-client' {
  import type DynamoDB from 'aws-sdk/clients/dynamodb';

  interface FailOpenConfig {
    dynamodb: DynamoDB.DocumentClient;
    lockTable: string;
    partitionKey: string;
    sortKey?: string;
    heartbeatPeriodMs?: number;
    leaseDurationMs: number;
    owner?: string;
    retryCount?: number;
    trustLocalTime?: boolean;
  }

  interface Lock {
    readonly fencingToken: number;
    release(callback: (error?: Error | null) => void): void;
  }

  class FailOpen {
    constructor(config: FailOpenConfig);
    acquireLock(id: string, callback: (error: Error | null, lock: Lock) => void): void;
  }

  const DynamoDBLockClient: { FailOpen: typeof FailOpen };
  export default DynamoDBLockClient;
}
