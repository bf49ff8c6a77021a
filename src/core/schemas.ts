/**
 * The records API's request schemas and the body parser, under the name older modules import
 * them by. They are defined once in `wire/` (one file per resource); import from there.
 */
export { fieldName, fieldsSchema, numeric } from './wire/fields';
export { parseBody } from './wire/parse';
export {
  CONFLICT_MODES,
  MAX_REQUIRES,
  MAX_TXN_KEYS,
  REQUIRE_OPS,
  checkPatch,
  fieldRequire,
  patchBody,
  patchShape,
  putBody,
  settingsBody,
  txnBody,
  txnOp,
  txnRequire,
} from './wire/records';
export type {
  ConflictMode,
  FieldRequire,
  NamespaceSettings,
  PatchBody,
  PutBody,
  RequireOp,
  TxnBody,
  TxnOp,
  TxnRequire,
} from './wire/records';
