/**
 * Environment of the benchmark process, imported first so that it is in place before any SDK
 * client or logger is built: no Node version warning from the SDK, no Powertools log lines.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

export {};
