/**
 * Fixed fake credentials and region: tests never reach AWS. CDK writes its cache and cloud
 * assemblies under the project's git-ignored .cache folder instead of the home and temp dirs.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const cache = join(__dirname, '..', '.cache');
mkdirSync(join(cache, 'tmp'), { recursive: true });
process.env.AWS_ACCESS_KEY_ID = 'AKIAVESTATESTKEY0000';
process.env.AWS_SECRET_ACCESS_KEY = 'vesta-test-secret-key-not-a-real-one';
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_DEFAULT_REGION = 'us-east-1';
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT';
// Metrics would print EMF lines to stdout; the test that checks a metric turns them on for itself.
process.env.POWERTOOLS_METRICS_DISABLED = process.env.POWERTOOLS_METRICS_DISABLED ?? 'true';
process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// One cloud assembly folder per jest worker: workers synthesizing apps side by side into one
// folder would read each other's templates (a stack of the same name in another test file).
const outdir = join(cache, 'tmp', `cdk.out-${process.env.JEST_WORKER_ID ?? process.pid}`);
mkdirSync(outdir, { recursive: true });
process.env.CDK_OUTDIR = outdir;
process.env.TMPDIR = join(cache, 'tmp');
