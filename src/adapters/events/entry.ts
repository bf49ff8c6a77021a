/**
 * A change as an EventBridge `PutEvents` entry, and its size counted the way EventBridge counts
 * it ("Calculating PutEvents event entry size" in the EventBridge user guide): the UTF-8 bytes of
 * `Source`, `DetailType`, `Detail` and each of `Resources`, plus 14 bytes when `Time` is set. An
 * entry must be smaller than 256 KB, and so must all the entries of one request together. The
 * EventBridge adapter and the local bus both shape entries here, so that the local stack refuses
 * exactly what EventBridge would refuse and the `fieldsOmitted` path runs locally too.
 */
import { type ChangeDetail, EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../core/changes';
import { stringifyJson } from '../../core/json';

/** An entry (and a request) must be smaller than this many bytes. */
export const MAX_ENTRY_BYTES = 256 * 1024;

export interface BusEntry {
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail?: string;
  readonly Time?: Date;
  readonly Resources?: readonly string[];
}

/** The size EventBridge counts for an entry. Never throws. */
export function entrySize(e: BusEntry): number {
  let size = e.Time !== undefined ? 14 : 0;
  size += Buffer.byteLength(e.Source, 'utf8') + Buffer.byteLength(e.DetailType, 'utf8');
  if (e.Detail !== undefined) size += Buffer.byteLength(e.Detail, 'utf8');
  for (const r of e.Resources ?? []) size += Buffer.byteLength(r, 'utf8');
  return size;
}

/**
 * The entry of a change: its whole detail when the entry is smaller than `MAX_ENTRY_BYTES`,
 * otherwise the detail without `fields`, `expires` and `siblings` and with `fieldsOmitted: true` (a consumer
 * reads the record by key and rev). Never throws.
 */
export function entryOf(change: ChangeDetail): BusEntry {
  const whole = { Source: EVENT_SOURCE, DetailType: EVENT_DETAIL_TYPE, Detail: stringifyJson(change) };
  if (entrySize(whole) < MAX_ENTRY_BYTES) return whole;
  const { fields: _fields, siblings: _siblings, expires: _expires, ...rest } = change;
  return { ...whole, Detail: stringifyJson({ ...rest, fieldsOmitted: true }) };
}
