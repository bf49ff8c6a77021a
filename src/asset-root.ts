/**
 * The folder that holds `lambdas/` and `statemachines/`: the repository's root, or the root of
 * the `@vesta/cdk` package, whose bundle (`dist/index.js`) inlines this module one folder below
 * the root, as this file stands one folder below the repository's root. Plain Node, no CDK.
 */
import { join } from 'node:path';

export const ASSET_ROOT = join(__dirname, '..');
