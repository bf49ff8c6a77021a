/**
 * Decodes records of the records table's stream (NEW_AND_OLD_IMAGES) into change details. The
 * same shape arrives in a Lambda event and from DynamoDB Streams' GetRecords (the local stack), so
 * both paths use this one function.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type ChangeDetail, changeOf, isChangeKind } from '../../core/changes';
import { OP_ATTR, fromItem } from './codec';

/** The part of a DynamoDB stream record the publisher reads (Lambda event or GetRecords). */
export interface StreamRecordLike {
  readonly eventName?: string;
  readonly dynamodb?: {
    readonly NewImage?: Record<string, unknown>;
    readonly OldImage?: Record<string, unknown>;
    readonly SequenceNumber?: string;
  };
}

/**
 * The change a stream record stands for, or `undefined` when it is not a committed write of a
 * record: an item removed by TTL clean-up, or an update that did not advance `rev`. Never throws
 * on an item the records table holds.
 */
export function changeFromStreamRecord(record: StreamRecordLike): ChangeDetail | undefined {
  const image = record.dynamodb?.NewImage as Record<string, AttributeValue> | undefined;
  if (record.eventName === 'REMOVE' || !image?.ns?.S || !image.k?.S) return undefined;
  const old = record.dynamodb?.OldImage as Record<string, AttributeValue> | undefined;
  const rev = Number(image.rev?.N ?? 0);
  if (rev <= Number(old?.rev?.N ?? 0)) return undefined;
  const state = fromItem(image);
  const recorded = image[OP_ATTR]?.S;
  return changeOf(state, isChangeKind(recorded) ? recorded : state.deleted ? 'delete' : 'put');
}
