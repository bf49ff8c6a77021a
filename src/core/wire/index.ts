/**
 * The wire types of the HTTP contract (docs/openapi.yaml), one module per resource: every request
 * and response body is a zod schema there and its TypeScript type is inferred from it. The server
 * validates requests with these schemas and types its responses with these types; the client
 * imports the types only (`import type`), so it does not load zod.
 */
export * from './fields';
export * from './parse';
export * from './records';
export * from './record-views';
export * from './leases';
export * from './sagas';
export * from './snapshots';
export * from './changes';
export * from './dead-letters';
export * from './health';
export * from './problem';
