/**
 * `--table`: results as aligned text columns for people, where JSON is for programs. Each
 * listing-like result has a renderer here; commands print JSON unless `--table` is given.
 */
import type {
  DeadLetter,
  HeldLock,
  LeaseDetails,
  ListPage,
  Saga,
  SagaSummary,
  SiblingsRecord,
  Snapshot,
  VestaRecord,
} from '../client';
import { hasSiblings } from '../client';
import { stringifyJson } from '../client';

/** Cells longer than this are cut, ending with `…`. */
export const MAX_CELL = 60;

/** A value as one cell: strings as they are, other JSON compact; empty for null and undefined. Never throws. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : stringifyJson(value);
  const line = text.replace(/\s*\n\s*/g, ' ');
  return line.length > MAX_CELL ? `${line.slice(0, MAX_CELL - 1)}…` : line;
}

/**
 * Aligned columns under upper-case headers, two spaces apart, the last column not padded; one
 * line per row, each ending with a newline. Never throws.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((r) => headers.map((_, i) => cell(r[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: readonly string[]) =>
    `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}`.trimEnd();
  return [headers.map((h) => h.toUpperCase()), ...cells].map((r) => `${line(r)}\n`).join('');
}

/** `name: value` lines, names aligned. Never throws. */
export function renderPairs(pairs: readonly (readonly [string, unknown])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length + 1));
  return pairs.map(([k, v]) => `${`${`${k}:`.padEnd(width)}  ${cell(v)}`.trimEnd()}\n`).join('');
}

/**
 * A record: what it is, then one row per field in name order (or per sibling), with an EXPIRES
 * column (the ISO time, empty for a field without one) when some field has an expiry.
 */
export function recordTable(record: VestaRecord | SiblingsRecord, etag: string | undefined): string {
  const head = renderPairs([
    ['key', `${record.namespace}/${record.key}`],
    ['rev', record.rev],
    ...(hasSiblings(record)
      ? []
      : ([
          ['updatedAt', record.updatedAt],
          ['lease', record.lease],
        ] as const)),
    ['etag', etag],
  ]);
  if (hasSiblings(record)) {
    const expiring = record.siblings.some((s) => s.expires !== undefined);
    return `${head}\n${renderTable(
      ['sibling', 'updatedAt', 'fields', ...(expiring ? ['expires'] : [])],
      record.siblings.map((s, i) => [i, s.updatedAt, s.fields, ...(expiring ? [s.expires] : [])]),
    )}`;
  }
  const fields = Object.entries(record.fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (fields.length === 0) return `${head}\n(no fields)\n`;
  const expires = record.expires;
  if (!expires) return `${head}\n${renderTable(['field', 'value'], fields)}`;
  return `${head}\n${renderTable(
    ['field', 'value', 'expires'],
    fields.map(([f, v]) => [f, v, expires[f]]),
  )}`;
}

/** A page of `vesta ls`: one row per key, with the fields when they were asked for. */
export function listTable(page: ListPage): string {
  const withFields = page.items.some((i) => i.fields !== undefined || i.siblings !== undefined);
  const headers = ['key', 'rev', 'updatedAt', ...(withFields ? ['fields'] : [])];
  const rows = page.items.map((i) => [
    i.key,
    i.rev,
    i.updatedAt,
    ...(withFields ? [i.siblings ? `${i.siblings.length} siblings` : i.fields] : []),
  ]);
  return page.items.length ? renderTable(headers, rows) : '(no keys)\n';
}

/** `vesta snapshot list`: one row per snapshot, newest first. */
export function snapshotsTable(items: readonly Snapshot[]): string {
  if (!items.length) return '(no snapshots)\n';
  const rows = items.map((s) => [
    s.id,
    s.namespace ?? '(all)',
    s.status,
    s.items,
    s.bytes,
    s.segments === undefined ? s.parts.length : `${s.parts.length}/${s.segments}`,
    s.startedAt,
    s.finishedAt,
  ]);
  return renderTable(['id', 'namespace', 'status', 'records', 'bytes', 'parts', 'startedAt', 'finishedAt'], rows);
}

/** `vesta lease get`: the lease, then the records attached to it. */
export function leaseTable(lease: LeaseDetails): string {
  const head = renderPairs([
    ['id', lease.id],
    ['ttlSeconds', lease.ttlSeconds],
    ['remainingSeconds', lease.remainingSeconds],
    ['expiresAt', lease.expiresAt],
  ]);
  const keys = lease.keys.length
    ? renderTable(
        ['namespace', 'key'],
        lease.keys.map((k) => [k.namespace, k.key]),
      )
    : '(no records attached)\n';
  return `${head}\n${keys}`;
}

/** `vesta saga get`: the saga, then one row per step, numbered from 0 as the API numbers them. */
export function sagaTable(saga: Saga & { readonly type?: string; readonly namespace?: string }): string {
  const head = renderPairs([
    ['id', saga.id],
    ['type', saga.type],
    ['namespace', saga.namespace],
    ['status', saga.status],
    ['startedAt', saga.startedAt],
    ['finishedAt', saga.finishedAt],
  ]);
  const steps = renderTable(
    ['#', 'step', 'status', 'attempts', 'error'],
    saga.steps.map((s, i) => [i, s.name, s.status, s.attempts, s.error]),
  );
  return `${head}\n${steps}`;
}

/** `vesta dead-letter ls`: one row per entry: id, source, the item's identifiers, the error, tries, when last set aside. */
export function deadLettersTable(items: readonly DeadLetter[]): string {
  const item = (e: DeadLetter) =>
    Object.entries(e.item)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
  return renderTable(
    ['id', 'source', 'item', 'error', 'attempts', 'lastAt'],
    items.map((e) => [e.id, e.source, item(e), `${e.error.name}: ${e.error.message}`, e.attempts, e.lastAt]),
  );
}

/** `vesta saga ls`: one row per saga, newest first: id, status, type, start and end. */
export function sagasTable(items: readonly SagaSummary[]): string {
  return renderTable(
    ['id', 'status', 'type', 'startedAt', 'finishedAt'],
    items.map((s) => [s.id, s.status, s.type, s.startedAt, s.finishedAt]),
  );
}

/** `vesta lock ls`: one row per held lock: name, fencing token, when its holder's lease expires. */
export function locksTable(items: readonly HeldLock[]): string {
  return renderTable(
    ['name', 'fencingToken', 'expiresAt'],
    items.map((l) => [l.name, l.fencingToken, l.expiresAt]),
  );
}
