/** Re-exports of the domain's value types, so ports and adapters import them from one place. */
export type { Fields, JsonValue, RecordState, RecordView, Sibling } from './record-view';
export type {
  ConflictMode,
  FieldRequire,
  NamespaceSettings,
  PatchBody,
  PutBody,
  TxnBody,
  TxnOp,
  TxnRequire,
} from './wire/records';
export const DEFAULT_SETTINGS = { conflicts: 'reject' } as const;
