import {
  CHANGE_LOG_READ_ACTIONS,
  CONTROL_READ_WRITE_ACTIONS,
  LOCK_INDEX_ACTIONS,
  SAGA_LIST_INDEX_ACTIONS,
  DEAD_LETTER_API_ACTIONS,
  DEAD_LETTER_INDEX_ACTIONS,
  DEAD_LETTER_REPLAY_ACTIONS,
  DEAD_LETTER_WRITE_ACTIONS,
  IDEMPOTENCY_READ_WRITE_ACTIONS,
  LOG_WRITE_ACTIONS,
  RECORDS_READ_WRITE_ACTIONS,
  SAGA_LOG_API_ACTIONS,
  XRAY_WRITE_ACTIONS,
} from '../../lib/perms';
import { list, logicalIdOf, roleStatements } from './policies';
import { synthesize, type Synthesized } from './synth';

let s: Synthesized;

beforeAll(() => {
  s = synthesize({ stage: 'dev' });
});
afterAll(() => s.dispose());

const idOf = (c: { node: { defaultChild?: unknown } }) => logicalIdOf(s.stack, c);

/** Statements of every policy attached to the api function's role, and its role resource. */
const functionRole = () => roleStatements(s.template, idOf(s.stack.api.function.role as any));

type TableId = 'records' | 'control' | 'idempotency' | 'sagas' | 'changes' | 'deadletters';

function tableArn(id: TableId) {
  return { 'Fn::GetAtt': [idOf(s.stack.tables.tables[id]), 'Arn'] };
}

describe('api function permissions (least privilege)', () => {
  test('every statement allows; none uses dynamodb:*, Scan or any other wildcard action', () => {
    const { statements } = functionRole();
    expect(statements.length).toBeGreaterThan(0);
    for (const st of statements) {
      expect(st.Effect).toBe('Allow');
      for (const action of list(st.Action)) {
        expect(action).not.toContain('*');
        expect(action).not.toMatch(/^dynamodb:(Scan|PartiQL|BatchWriteItem)/);
      }
    }
  });

  test('each table gets exactly its action list from lib/perms.ts, on its own ARN only', () => {
    const { statements } = functionRole();
    const dynamo = statements.filter((st) => list(st.Action).some((a) => a.startsWith('dynamodb:')));
    const byTable = (id: TableId) =>
      dynamo
        .filter((st) => JSON.stringify(list(st.Resource)) === JSON.stringify([tableArn(id)]))
        .flatMap((st) => list(st.Action));
    expect(byTable('records').sort()).toEqual([...RECORDS_READ_WRITE_ACTIONS].sort());
    expect(byTable('control').sort()).toEqual([...CONTROL_READ_WRITE_ACTIONS].sort());
    expect(byTable('idempotency').sort()).toEqual([...IDEMPOTENCY_READ_WRITE_ACTIONS].sort());
    expect(byTable('sagas').sort()).toEqual([...SAGA_LOG_API_ACTIONS].sort());
    expect(byTable('changes').sort()).toEqual([...CHANGE_LOG_READ_ACTIONS].sort());
    expect(byTable('deadletters').sort()).toEqual([...DEAD_LETTER_API_ACTIONS].sort());
    const tables: TableId[] = ['records', 'control', 'idempotency', 'sagas', 'changes', 'deadletters'];
    const accounted = tables.reduce((n, id) => n + byTable(id).length, 0);
    const onIndex = dynamo.filter((st) => JSON.stringify(st.Resource).includes('/index/'));
    expect(dynamo.flatMap((st) => list(st.Action))).toHaveLength(
      accounted + onIndex.flatMap((st) => list(st.Action)).length,
    );
  });

  test('the control table grant holds ConditionCheckItem (lease transactions); the indexes named are the held locks, the sagas by status and the dead letters by source, each for a Query', () => {
    expect(CONTROL_READ_WRITE_ACTIONS).toContain('dynamodb:ConditionCheckItem');
    const { statements } = functionRole();
    const onIndex = statements.filter((st) => JSON.stringify(st.Resource).includes('/index/'));
    expect(onIndex.flatMap((st) => list(st.Action))).toEqual([
      ...LOCK_INDEX_ACTIONS,
      ...SAGA_LIST_INDEX_ACTIONS,
      ...DEAD_LETTER_INDEX_ACTIONS,
    ]);
    const tables = s.stack.tables.tables;
    [
      [tables.control, '/index/locksByNamespace'],
      [tables.sagas, '/index/byStatus'],
      [tables.deadletters, '/index/bySource'],
    ].forEach(([table, index], i) => {
      expect(JSON.stringify(onIndex[i].Resource)).toContain(`"Fn::GetAtt":["${idOf(table as never)}","Arn"]`);
      expect(JSON.stringify(onIndex[i].Resource)).toContain(index as string);
    });
  });

  test('outside DynamoDB, logs, X-Ray and the snapshot bucket (imports), it may only start executions of the saga and snapshot state machines and redrive saga executions', () => {
    const { statements } = functionRole();
    const states = statements.filter((st) => !list(st.Action).some((a) => /^(dynamodb|logs|xray|lambda|s3):/.test(a)));
    expect([...new Set(states.flatMap((st) => list(st.Action)))].sort()).toEqual([
      'states:RedriveExecution',
      'states:StartExecution',
    ]);
    const redrive = states.filter((st) => list(st.Action).includes('states:RedriveExecution'));
    expect(redrive.flatMap((st) => list(st.Action))).toEqual(['states:RedriveExecution']);
    const executionsOf = redrive.flatMap((st) => list(st.Resource)).map((r) => JSON.stringify(r));
    expect(executionsOf).toHaveLength(2);
    for (const m of Object.values(s.stack.sagas.stateMachines)) {
      expect(executionsOf.some((r) => r.includes(idOf(m)) && r.includes(':execution:') && r.endsWith(':*"]]}'))).toBe(
        true,
      );
    }
    const other = states.filter((st) => !list(st.Action).includes('states:RedriveExecution'));
    expect([...new Set(other.flatMap((st) => list(st.Action)))]).toEqual(['states:StartExecution']);
    const machines = [
      ...Object.values(s.stack.sagas.stateMachines),
      ...Object.values(s.stack.snapshots.stateMachines),
    ].map((m) => ({ Ref: idOf(m) }));
    expect(other.flatMap((st) => list(st.Resource))).toEqual(expect.arrayContaining(machines));
    expect(other.flatMap((st) => list(st.Resource))).toHaveLength(machines.length);
  });

  test('it may invoke the six background functions, to replay their dead letters, and no other function', () => {
    const { statements } = functionRole();
    const invoke = statements.filter((st) => list(st.Action).some((a) => a.startsWith('lambda:')));
    expect([...new Set(invoke.flatMap((st) => list(st.Action)))]).toEqual([...DEAD_LETTER_REPLAY_ACTIONS]);
    const fns = [
      s.stack.changeEvents.publisher,
      s.stack.snapshots.exportFunction,
      s.stack.snapshots.restoreFunction,
      s.stack.leases.reaper,
      s.stack.leases.renewer,
      s.stack.fieldSweeper.function,
    ];
    expect(invoke.flatMap((st) => list(st.Resource)).sort()).toEqual(
      fns.map((f) => ({ 'Fn::GetAtt': [idOf(f), 'Arn'] })).sort(),
    );
  });

  test('only the X-Ray actions are allowed on every resource', () => {
    const { statements } = functionRole();
    const onAll = statements.filter((st) => list(st.Resource).includes('*'));
    expect(onAll.flatMap((st) => list(st.Action)).sort()).toEqual([...XRAY_WRITE_ACTIONS].sort());
  });

  test('logs may be written to the function log group only', () => {
    const { statements } = functionRole();
    const logStatements = statements.filter((st) => list(st.Action).some((a) => a.startsWith('logs:')));
    expect(logStatements.flatMap((st) => list(st.Action)).sort()).toEqual([...LOG_WRITE_ACTIONS].sort());
    const groupId = idOf(s.stack.api.function.logGroup as any);
    for (const r of logStatements.flatMap((st) => list(st.Resource))) expect(JSON.stringify(r)).toContain(groupId);
  });

  test('the role has no managed policies and is assumed by Lambda only', () => {
    const { role } = functionRole();
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
  });
});

describe('dead letters (least privilege)', () => {
  test.each([
    ['publisher', () => s.stack.changeEvents.publisher],
    ['snapshot export', () => s.stack.snapshots.exportFunction],
    ['snapshot restore', () => s.stack.snapshots.restoreFunction],
    ['lease reaper', () => s.stack.leases.reaper],
    ['lease renewer', () => s.stack.leases.renewer],
    ['field sweeper', () => s.stack.fieldSweeper.function],
  ])('the %s function may set items aside and replay them on the dead-letter table, but not list it', (_name, fn) => {
    const { statements } = roleStatements(s.template, idOf(fn().role as any));
    const onTable = statements.filter(
      (st) => JSON.stringify(list(st.Resource)) === JSON.stringify([tableArn('deadletters')]),
    );
    expect(onTable.flatMap((st) => list(st.Action)).sort()).toEqual([...DEAD_LETTER_WRITE_ACTIONS].sort());
    expect(JSON.stringify(statements)).not.toContain('/index/bySource');
  });

  test('the saga-step and snapshot schedule functions have nothing on the dead-letter table', () => {
    for (const fn of [s.stack.sagas.stepFunction, s.stack.snapshots.scheduleFunction]) {
      const { statements } = roleStatements(s.template, idOf(fn.role as any));
      expect(JSON.stringify(statements)).not.toContain(idOf(s.stack.tables.tables.deadletters));
    }
  });
});
