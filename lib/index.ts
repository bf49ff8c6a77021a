/**
 * The entry of the `@vesta/cdk` construct library: `VestaService` and what its props and fields
 * are made of. The root app (`bin/app.ts`) builds the same construct through `VestaStack`.
 */
export { VestaService, DEFAULT_STAGE, LOG_EXECUTION_DATA_CONTEXT } from './vesta-service';
export type { VestaServiceProps, VestaGrantOptions, VestaThrottling } from './vesta-service';
export { Api } from './constructs/api';
export { ChangeEvents } from './constructs/change-events';
export { Leases } from './constructs/leases';
export { Monitoring } from './constructs/monitoring';
export { Sagas } from './constructs/sagas';
export { Snapshots } from './constructs/snapshots';
export { StateTables } from './constructs/state-tables';
export type { Access } from '../src/api/access';
