/**
 * The wire schemas (src/core/wire) and docs/openapi.yaml describe the same bodies: for every
 * object body, the same member names, the same ones required and the same ones that may be
 * `null`. Formats and patterns are the integration tests' business (they check real answers
 * against the document).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { OPENAPI_PATH } from '../openapi';
import * as wire from '../../src/core/wire';

const components = (parse(readFileSync(OPENAPI_PATH, 'utf8')) as any).components.schemas as Record<string, any>;

/** The object schema under refinements, `readonly()` and transforms. */
function objectOf(schema: z.ZodTypeAny): z.AnyZodObject {
  let s: z.ZodTypeAny = schema;
  for (;;) {
    if (s instanceof z.ZodObject) return s;
    if (s instanceof z.ZodEffects) s = s.innerType();
    else if (s instanceof z.ZodReadonly) s = s._def.innerType;
    else throw new Error(`not an object schema: ${s.constructor.name}`);
  }
}

interface Members {
  readonly names: string[];
  readonly required: string[];
  readonly nullable: string[];
}

function members(schema: z.ZodTypeAny): Members {
  const shape = objectOf(schema).shape as Record<string, z.ZodTypeAny>;
  const names = Object.keys(shape).sort();
  return {
    names,
    required: names.filter((n) => !shape[n].isOptional()),
    nullable: names.filter((n) => shape[n].isNullable()),
  };
}

/** Whether an OpenAPI schema admits `null`: every constraint it has (type, const, enum, `$ref`, a branch of oneOf or anyOf) does. */
function admitsNull(s: any): boolean {
  const type = s.type === undefined || s.type === 'null' || (Array.isArray(s.type) && s.type.includes('null'));
  const constant = !('const' in s) || s.const === null;
  const listed = s.enum === undefined || s.enum.includes(null);
  const ref = s.$ref === undefined || admitsNull(components[String(s.$ref).split('/').pop()!]);
  const branches = [s.oneOf, s.anyOf].every((b) => b === undefined || b.some(admitsNull));
  return type && constant && listed && ref && branches;
}

function documented(name: string): Members {
  const c = components[name];
  const names = Object.keys(c.properties ?? {}).sort();
  return {
    names,
    required: [...(c.required ?? [])].sort(),
    nullable: names.filter((n) => admitsNull(c.properties[n])),
  };
}

const PAIRS: [string, z.ZodTypeAny][] = [
  ['Record', wire.singleRecordView],
  ['SiblingsRecord', wire.siblingsRecordView],
  ['Sibling', wire.siblingView],
  ['ListItem', wire.listItem],
  ['ListPage', wire.keyPage],
  ['TxnResults', wire.txnResults],
  ['NamespaceSettings', wire.namespaceSettingsView],
  ['NamespaceSettingsInput', wire.settingsBody],
  ['PutBody', wire.putBody],
  ['PatchBody', wire.patchBody],
  ['TxnBody', wire.txnBody],
  ['TxnRequire', wire.txnRequire],
  ['FieldRequire', wire.fieldRequire],
  ['UnmetRequire', wire.unmetRequire],
  ['LeaseGrantInput', wire.grantBody],
  ['Lease', wire.leaseView],
  ['LeaseDetails', wire.leaseDetails],
  ['LockAcquireInput', wire.acquireBody],
  ['LockGrant', wire.lockGrantView],
  ['LockHolder', wire.lockHolder],
  ['SagaStep', wire.sagaStep],
  ['SagaStepsInput', wire.stepsBody],
  ['SagaTransferInput', wire.transferBody],
  ['SagaStarted', wire.sagaStarted],
  ['Saga', wire.sagaView],
  ['SagaStepState', wire.stepView],
  ['SnapshotInput', wire.createSnapshotBody],
  ['SnapshotStarted', wire.snapshotStarted],
  ['SnapshotPart', wire.partInfo],
  ['Snapshot', wire.snapshotView],
  ['SnapshotImportInput', wire.importSnapshotsBody],
  ['SnapshotManifest', wire.snapshotManifest],
  ['RestoreInput', wire.restoreBody],
  ['RestoreStarted', wire.restoreStarted],
  ['Restore', wire.restoreView],
  ['ChangeDetail', wire.changeDetail],
  ['ChangePage', wire.changePage],
  ['DeadLetter', wire.deadLetter],
  ['DeadLetterPage', wire.deadLetterPage],
  ['Health', wire.health],
  ['Problem', wire.problemDocument],
];

describe('wire schemas and the OpenAPI document', () => {
  test.each(PAIRS)('%s has the same members, the same ones required and nullable', (name, schema) => {
    expect(members(schema)).toEqual(documented(name));
  });
});
