/**
 * Decodes records of the records table's stream (NEW_AND_OLD_IMAGES) into change details. The
 * same shape arrives in a Lambda event and from DynamoDB Streams' GetRecords (the local stack), so
 * both paths use this one function.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type ChangeDetail, type PlaceholderSource, changeId, changeOf, isChangeKind } from '../../core/changes';
import { type RecordState, type Sibling, valueView } from '../../core/record-view';
import { settle } from '../../core/regions/merge';
import type { ChangeDecoder } from '../../core/ports';
import { OP_ATTR, VV_PREFIX, fromItem } from './codec';
import { fromRegionalItem } from './regional-codec';

/** The part of a DynamoDB stream record the publisher reads (Lambda event or GetRecords). */
export interface StreamRecordLike {
  readonly eventName?: string;
  readonly dynamodb?: {
    readonly NewImage?: Record<string, unknown>;
    readonly OldImage?: Record<string, unknown>;
    readonly Keys?: Record<string, unknown>;
    readonly SequenceNumber?: string;
  };
}

/**
 * The change a stream record stands for, or `undefined` when it is not a committed write of a
 * record: an item removed by TTL clean-up, or an update that did not advance `rev` (such as the
 * field sweeper's fix of the `due` bound, which changes nothing a reader sees). An `expire-fields`
 * write names the fields it removed in `xf`; `xf` of an item last written otherwise is stale and
 * ignored (an UpdateItem keeps attributes it does not name). Throws what
 * `fromItem` throws for an item it cannot decode (`MalformedItemError`, or a value it cannot hold).
 */
export function changeFromStreamRecord(record: StreamRecordLike): ChangeDetail | undefined {
  const image = record.dynamodb?.NewImage as Record<string, AttributeValue> | undefined;
  if (record.eventName === 'REMOVE' || !image?.ns?.S || !image.k?.S) return undefined;
  const old = record.dynamodb?.OldImage as Record<string, AttributeValue> | undefined;
  // Decoded first, so that an item with a malformed `rev` is refused rather than taken for "no change".
  const region = image.rg?.S;
  const state = region === undefined ? fromItem(image) : regionalState(image, region);
  if (state.rev <= Number(old?.rev?.N ?? 0)) return undefined;
  const recorded = image[OP_ATTR]?.S;
  const kind = isChangeKind(recorded) ? recorded : state.deleted ? 'delete' : 'put';
  const change = changeOf(state, kind, kind === 'expire-fields' ? expiredNames(image) : undefined);
  // In several Regions two Regions' writes may reach the same `rev`: the writing Region is part of
  // the id, the same in every Region's feed, so a reader of several Regions' events can deduplicate.
  return region === undefined
    ? change
    : { ...change, id: changeId(state.namespace, state.key, `${state.inc}@${region}`, state.rev) };
}

/**
 * The `conflict` changes a stream record stands for besides its own change: in a deployment of
 * several Regions, the `reject`-mode losers its write replaced (`lz`), each with its own fields
 * and an id from the losing write alone (its dot), so that every Region's feed, and any other
 * write that replaced the same loser, gives it the same id. Empty for any other record. Throws as
 * `changeFromStreamRecord` does.
 */
export function conflictsFromStreamRecord(record: StreamRecordLike): ChangeDetail[] {
  const image = record.dynamodb?.NewImage as Record<string, AttributeValue> | undefined;
  const region = image?.rg?.S;
  if (record.eventName === 'REMOVE' || !image?.lz?.L || region === undefined) return [];
  const old = record.dynamodb?.OldImage as Record<string, AttributeValue> | undefined;
  const ns = image.ns.S!.split('@')[0];
  const item = fromRegionalItem(image, ns, region);
  if (item.state.rev <= Number(old?.rev?.N ?? 0)) return [];
  return (item.state.buried ?? []).map((loser) => conflictChange(item.state, loser));
}

/**
 * The `conflict` change of `loser`, a value that lost to the winner of `record` (several Regions,
 * `reject` mode): its fields, the record's `rev` and `vv`, and an id from the losing write alone
 * (its dot), whoever publishes it.
 */
export function conflictChange(
  record: Pick<RecordState, 'namespace' | 'key' | 'inc' | 'rev' | 'vv'>,
  loser: Sibling,
): ChangeDetail {
  return {
    id: changeId(record.namespace, record.key, `${record.inc}@conflict@${loser.dot.replica}`, loser.dot.counter),
    namespace: record.namespace,
    key: record.key,
    rev: record.rev,
    vv: record.vv,
    change: 'conflict',
    ...valueView(loser),
  };
}

/**
 * Whether a stream record is another Region's item of a `reject` namespace arriving by
 * replication: it may make values of the record losers that no write has replaced yet.
 */
export function replicatedRejectItem(record: StreamRecordLike, self: string): { ns: string; key: string } | undefined {
  const image = record.dynamodb?.NewImage as Record<string, AttributeValue> | undefined;
  if (record.eventName === 'REMOVE' || !image?.ns?.S || !image.k?.S) return undefined;
  const region = image.rg?.S;
  if (region === undefined || region === self || image.cm?.S !== 'reject') return undefined;
  return { ns: image.ns.S.split('@')[0], key: image.k.S };
}

/**
 * The record one Region's item of a deployment in several Regions holds (`regional-codec.ts`), in
 * its namespace (the partition less `@<region>`), counters as that Region saw them after its write.
 */
function regionalState(image: Record<string, AttributeValue>, region: string): RecordState {
  const ns = image.ns.S!.split('@')[0];
  const item = fromRegionalItem(image, ns, region);
  return settle(item.state, item.mode).state;
}

/** The names in `xf`, as `toItem` stores them (plain strings). */
function expiredNames(image: Record<string, AttributeValue>): string[] {
  return (image.xf?.L ?? []).flatMap((av) => (typeof av.S === 'string' ? [av.S] : []));
}

/**
 * Whatever of a stream record's change can be read without decoding its item (which failed):
 * the key, and `inc`, `rev`, the version vector and the kind of write where their attributes
 * are well formed (`rev` 0 and `put` otherwise). Never throws.
 */
export function placeholderSourceOf(record: StreamRecordLike): PlaceholderSource {
  const image = (record.dynamodb?.NewImage ?? {}) as Record<string, AttributeValue>;
  const keys = (record.dynamodb?.Keys ?? {}) as Record<string, AttributeValue>;
  const rev = Number(image.rev?.N);
  const vv: Record<string, number> = {};
  for (const [name, av] of Object.entries(image)) {
    if (name.startsWith(VV_PREFIX) && av.N !== undefined && Number.isSafeInteger(Number(av.N)))
      vv[name.slice(VV_PREFIX.length)] = Number(av.N);
  }
  const recorded = image[OP_ATTR]?.S;
  return {
    namespace: (keys.ns?.S ?? image.ns?.S ?? '').split('@')[0],
    key: keys.k?.S ?? image.k?.S ?? '',
    inc: image.inc?.S ?? '',
    rev: Number.isSafeInteger(rev) && rev > 0 ? rev : 0,
    vv,
    change: isChangeKind(recorded) ? recorded : 'put',
  };
}

/** What a publisher dead letter keeps of a stream record: its image, which a replay decodes again. */
export interface StreamRecordPayload {
  readonly eventName?: string;
  readonly sequenceNumber?: string;
  readonly image: Record<string, unknown>;
}

/** The `ChangeDecoder` of DynamoDB stream records (NEW_AND_OLD_IMAGES) of the records table. */
export const dynamoStreamDecoder: ChangeDecoder<StreamRecordLike> = {
  change: changeFromStreamRecord,
  more: conflictsFromStreamRecord,
  placeholder: placeholderSourceOf,
  position: (r) => r.dynamodb?.SequenceNumber,
  payload: (r): StreamRecordPayload => ({
    eventName: r.eventName,
    sequenceNumber: r.dynamodb?.SequenceNumber,
    image: r.dynamodb?.NewImage ?? {},
  }),
  fromPayload: (payload) => {
    const p = payload as StreamRecordPayload;
    return changeFromStreamRecord({ eventName: p.eventName ?? 'MODIFY', dynamodb: { NewImage: p.image } });
  },
  moreFromPayload: (payload) => {
    const p = payload as StreamRecordPayload;
    return conflictsFromStreamRecord({ eventName: p.eventName ?? 'MODIFY', dynamodb: { NewImage: p.image } });
  },
};
