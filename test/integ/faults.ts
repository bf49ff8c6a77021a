/**
 * Fault injection for the OpenAPI tests: a middleware on a TestApi's DynamoDB client, before the
 * SDK's retries, that fails or holds requests to one table at a time, and calls that check each
 * reply against docs/openapi.yaml.
 */
import { expectMatchesOpenApi } from '../openapi';
import type { CallOptions, Reply, TestApi } from './harness';

type Fault = (command: string, tables: readonly string[]) => Promise<void>;

/** The tables a DynamoDB command's input names. */
export function tablesOf(input: unknown): string[] {
  const i = (input ?? {}) as {
    TableName?: string;
    RequestItems?: object;
    TransactItems?: Record<string, { TableName?: string }>[];
  };
  const t = new Set<string>();
  if (i.TableName) t.add(i.TableName);
  for (const k of Object.keys(i.RequestItems ?? {})) t.add(k);
  for (const item of i.TransactItems ?? []) for (const v of Object.values(item)) if (v?.TableName) t.add(v.TableName);
  return [...t];
}

export interface Faults {
  /** Runs `run` while every request to `table` fails with an SDK error of that name. */
  failing<T>(table: string, errorName: string, run: () => Promise<T>): Promise<T>;
  /**
   * Starts `first`, holds it when it sends `command` to `table`, runs `during` meanwhile, then
   * lets `first` finish. Returns both results.
   */
  holding<T>(
    table: string,
    command: string,
    first: () => Promise<Reply>,
    during: () => Promise<T>,
  ): Promise<[Reply, T]>;
  /** Calls the API, checks the reply against the document and its status, and returns it. */
  want(status: number, method: string, resource: string, path: string, opts?: CallOptions): Promise<Reply>;
  /** Three error statuses every store-backed route can give, by table. */
  storeFailures(table: string, method: string, resource: string, path: string, opts?: CallOptions): Promise<void>;
}

/** Adds the fault injection middleware, named `name`, to `api`'s client. */
export function injectFaults(api: TestApi, name: string): Faults {
  let fault: Fault | undefined;

  api.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (fault) await fault(String(context.commandName), tablesOf(args.input));
      return next(args);
    },
    { step: 'initialize', name },
  );

  async function failing<T>(table: string, errorName: string, run: () => Promise<T>): Promise<T> {
    fault = async (_command, tables) => {
      if (tables.includes(table))
        throw Object.assign(new Error(`injected ${errorName}`), { name: errorName, $metadata: {} });
    };
    try {
      return await run();
    } finally {
      fault = undefined;
    }
  }

  async function holding<T>(
    table: string,
    command: string,
    first: () => Promise<Reply>,
    during: () => Promise<T>,
  ): Promise<[Reply, T]> {
    let release!: () => void;
    let entered!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inside = new Promise<void>((r) => (entered = r));
    fault = async (c, tables) => {
      if (c === command && tables.includes(table)) {
        fault = undefined;
        entered();
        await gate;
      }
    };
    const firstReply = first();
    let result: T;
    try {
      await Promise.race([
        inside,
        firstReply.then((r) =>
          Promise.reject(new Error(`the first request answered ${r.status} before sending ${command}`)),
        ),
      ]);
      result = await during();
    } finally {
      fault = undefined;
      release();
    }
    return [await firstReply, result];
  }

  async function want(
    status: number,
    method: string,
    resource: string,
    path: string,
    opts?: CallOptions,
  ): Promise<Reply> {
    const r = await api.call(method, path, opts);
    expectMatchesOpenApi(method, resource, r);
    if (r.status !== status)
      throw new Error(`${method} ${path}: expected ${status}, got ${r.status}: ${r.text.slice(0, 500)}`);
    return r;
  }

  async function storeFailures(
    table: string,
    method: string,
    resource: string,
    path: string,
    opts?: CallOptions,
  ): Promise<void> {
    const throttled = await failing(table, 'ThrottlingException', () => want(429, method, resource, path, opts));
    expect(throttled.headers['retry-after']).toBe('1');
    const down = await failing(table, 'ServiceUnavailable', () => want(503, method, resource, path, opts));
    expect(down.headers['retry-after']).toBe('2');
    const bug = await failing(table, 'Error', () => want(500, method, resource, path, opts));
    expect(bug.body.code).toBe('InternalError');
  }

  return { failing, holding, want, storeFailures };
}
