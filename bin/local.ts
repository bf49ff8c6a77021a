/**
 * `npm start`: the local stack. Honours PORT (default 8080), VESTA_DATA_DIR (default .vesta),
 * AWS_ENDPOINT_URL_DYNAMODB (use that DynamoDB instead of starting DynamoDB Local) and
 * VESTA_LEASE_JOBS_SECONDS (how often the lease reaper and renewer run; default 10, 0 = off).
 */
import { startLocalStack } from '../src/local/stack';

async function main(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const stack = await startLocalStack({
    port: process.env.PORT ? Number(process.env.PORT) : 8080,
    dataDir: process.env.VESTA_DATA_DIR ?? '.vesta',
    dynamoEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB,
    leaseJobsSeconds: process.env.VESTA_LEASE_JOBS_SECONDS ? Number(process.env.VESTA_LEASE_JOBS_SECONDS) : undefined,
  });
  console.log(`Vesta local stack ready at ${stack.url}/v1 (DynamoDB at ${stack.dynamoEndpoint})`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // Background paths set failing items aside and retry their own failures; an error that still
  // escapes one of them is logged, and the stack goes on serving rather than dying with it.
  process.on('uncaughtException', (e) => console.error(`background failure (the stack goes on): ${e.stack ?? e}`));
  process.on('unhandledRejection', (e) => console.error(`background failure (the stack goes on): ${(e as Error)?.stack ?? e}`));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
}

main().catch((e: unknown) => {
  console.error(`Vesta local stack failed to start: ${(e as Error).message}`);
  process.exit(1);
});
