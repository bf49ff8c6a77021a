/**
 * Environment of the benchmark process, imported first so that it is in place before any SDK
 * client or logger is built: no Node version warning from the SDK, no Powertools log lines, no
 * end-of-support notice from the AWS SDK v2.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
/** The lock library compared in leases.bench.ts runs on the AWS SDK v2, which prints an end-of-support notice on load. */
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';

export {};
