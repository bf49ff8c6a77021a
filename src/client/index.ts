/** The Vesta client: `new VestaClient({ url })`; see client.ts. */
export * from './client';
export * from './errors';
export * from './leases';
export * from './transport';
export * from './types';
export * from './watch';
export * from './workflows';
export * from './dead-letters';
export * from './connect';
export * from './sigv4';
export { Decimal, type Numeric, isNumeric, numberFromText, numericText, toNumeric } from '../core/decimal';
