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
export * from './field-expiry';
export * from './sigv4';
export * from './regions';
export {
  Decimal,
  type Numeric,
  isNumeric,
  numberFromText,
  numberProblem,
  numericText,
  toNumeric,
} from '../core/decimal';
/** JSON read and written with exact numbers (`Decimal` where a double cannot hold one). */
export { parseJson, stringifyJson } from '../core/json';
export {
  CONFLICT_MODES,
  DEAD_LETTER_SOURCES,
  DEFAULT_CHANGES_LIMIT,
  MAX_CHANGES_LIMIT,
  MAX_WAIT_SECONDS,
  REQUIRE_OPS,
  SAGA_STATUSES,
} from '../core/wire/constants';
