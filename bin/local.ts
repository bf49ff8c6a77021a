/**
 * `npm start`: the local stack. Honours PORT (default 8080), VESTA_DATA_DIR (default .vesta),
 * AWS_ENDPOINT_URL_DYNAMODB (use that DynamoDB instead of starting DynamoDB Local),
 * VESTA_LEASE_JOBS_SECONDS (how often the lease reaper and renewer run; default 10, 0 = off),
 * VESTA_SNAPSHOT_SCHEDULE (the scheduled whole-store snapshot: `off`, or a `rate(...)`; default
 * the CDK stack's `rate(1 day)`) and LOG_LEVEL (`src/local/log.ts`: INFO by default, one line per
 * request; DEBUG shows more).
 *
 * SIGINT, SIGTERM or SIGHUP (to this process, or to the npm that started it, even a SIGKILLed one)
 * stops everything, DynamoDB Local included, within 5 s. A busy port fails at once, in one line.
 *
 * The change feed and the lease jobs run in a worker thread of this process (src/local/background.ts),
 * off the API's event loop; a worker that dies is logged as an ERROR line and started again.
 */
import { startLocalStack } from '../src/local/stack';
import { whenLaunchersGone } from '../src/local/lifecycle';
import { type LogLevel, localLog, parseLogLevel, powertoolsLevel } from '../src/local/log';

/** Longer than a clean stop takes (well under a second); then the process exits regardless. */
const STOP_DEADLINE_MS = 4000;

async function main(): Promise<void> {
  let level: LogLevel;
  try {
    level = parseLogLevel(process.env.LOG_LEVEL);
  } catch (e) {
    console.error(`Vesta local stack: ${(e as Error).message}`);
    process.exit(2);
  }
  // The functions' own loggers follow LOG_LEVEL: their INFO lines only at DEBUG.
  process.env.POWERTOOLS_LOG_LEVEL ??= powertoolsLevel(level);
  // Metrics would print an EMF line per saga step and per published batch: only at DEBUG, or
  // when POWERTOOLS_METRICS_DISABLED says otherwise.
  if (level !== 'DEBUG') process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const port = process.env.PORT ? Number(process.env.PORT) : 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(
      `Vesta local stack: PORT must be a port number (0 to 65535), not ${JSON.stringify(process.env.PORT)}`,
    );
    process.exit(2);
  }
  let stopping = false;
  let stack: Awaited<ReturnType<typeof startLocalStack>> | undefined;
  const shutdown = (why: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${why}: stopping`);
    setTimeout(() => process.exit(1), STOP_DEADLINE_MS).unref();
    (stack ? stack.stop() : Promise.resolve()).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
  whenLaunchersGone((pid) => shutdown(`process ${pid} that started the stack is gone`));
  // Background paths set failing items aside and retry their own failures; an error that still
  // escapes one of them is logged, and the stack goes on serving rather than dying with it.
  process.on('uncaughtException', (e) => console.error(`background failure (the stack goes on): ${e.stack ?? e}`));
  process.on('unhandledRejection', (e) =>
    console.error(`background failure (the stack goes on): ${(e as Error)?.stack ?? e}`),
  );
  stack = await startLocalStack({
    port,
    dataDir: process.env.VESTA_DATA_DIR ?? '.vesta',
    dynamoEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB,
    leaseJobsSeconds: process.env.VESTA_LEASE_JOBS_SECONDS ? Number(process.env.VESTA_LEASE_JOBS_SECONDS) : undefined,
    log: localLog(level),
  });
  if (stopping) return void stack.stop().then(() => process.exit(0));
  console.log(`Vesta local stack ready at ${stack.url}/v1 (DynamoDB at ${stack.dynamoEndpoint})`);
}

main().catch((e: NodeJS.ErrnoException) => {
  if (e.code === 'EADDRINUSE') {
    console.error(
      `Vesta local stack: port ${process.env.PORT ?? 8080} is already in use; stop what holds it or start with PORT=<another port>`,
    );
  } else {
    console.error(`Vesta local stack failed to start: ${e.message}`);
  }
  process.exit(1);
});
