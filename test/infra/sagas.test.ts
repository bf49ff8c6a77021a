import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TABLE_DEFS } from '../../src/adapters/dynamodb/table-defs';
import {
  ALL_MACHINES,
  STATE_MACHINES,
  STEP_FUNCTION_SUBSTITUTION,
  loadDefinition,
  type StateMachineId,
} from '../../src/sagas/state-machines';
import {
  LOG_WRITE_ACTIONS,
  SAGA_LOG_API_ACTIONS,
  SAGA_LOG_STEP_ACTIONS,
  SAGA_REDRIVE_ACTIONS,
  SAGA_START_ACTIONS,
  SAGA_STEP_CONTROL_ACTIONS,
  SAGA_STEP_RECORDS_ACTIONS,
  XRAY_WRITE_ACTIONS,
} from '../../lib/perms';
import { STEP_FUNCTION_TIMEOUT_SECONDS, Sagas } from '../../lib/constructs/sagas';
import { Snapshots } from '../../lib/constructs/snapshots';
import { LOG_EXECUTION_DATA_CONTEXT, VestaStack } from '../../lib/stacks/vesta-stack';
import { App } from 'aws-cdk-lib';
import { StateTables } from '../../lib/constructs/state-tables';
import { list, logicalIdOf, roleStatements, type Statement } from './policies';
import { bareStack, resourcesOf, synthesize, type Synthesized } from './synth';
import { StateMachine } from '../../src/local/workflows';

/** asl-validator ships no type declarations. */
type AslValidator = (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };
const aslValidator = require('asl-validator') as AslValidator;

let s: Synthesized;

beforeAll(() => {
  s = synthesize({ stage: 'dev' }, { bundle: true });
});
afterAll(() => s.dispose());

const ids = STATE_MACHINES.map((def) => def.id);
const idOf = (c: { node: { defaultChild?: unknown } }) => logicalIdOf(s.stack, c);
const machineOf = (id: StateMachineId) => s.stack.sagas.stateMachines[id];
const machineResource = (id: StateMachineId) =>
  resourcesOf(s.template, 'AWS::StepFunctions::StateMachine')[idOf(machineOf(id))];
const stepFn = () => s.stack.sagas.stepFunction;
const stepFnResource = () => resourcesOf(s.template, 'AWS::Lambda::Function')[idOf(stepFn())];
const stepFnArn = () => ({ 'Fn::GetAtt': [idOf(stepFn()), 'Arn'] });
const tableArn = (id: (typeof TABLE_DEFS)[number]['id']) => ({
  'Fn::GetAtt': [idOf(s.stack.tables.tables[id]), 'Arn'],
});

/** Every allowed (action, resource) pair, so that merged or split statements compare the same. */
function grants(statements: Statement[]): string[] {
  return statements
    .flatMap((st) => list(st.Action).flatMap((a) => list(st.Resource).map((r) => `${a} on ${JSON.stringify(r)}`)))
    .sort();
}

function expected(actions: readonly string[], resource: unknown): string[] {
  return actions.map((a) => `${a} on ${JSON.stringify(resource)}`);
}

const isLogsOrXray = (st: Statement) => list(st.Action).some((a) => a.startsWith('logs:') || a.startsWith('xray:'));

/**
 * A template value as text: strings as they are, `Fn::Join` joined, `Fn::Sub` as its template,
 * `Ref` and `Fn::GetAtt` as `<<Ref:id>>` and `<<GetAtt:id.attribute>>` (safe inside a JSON string).
 */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(flatten).join(v['Fn::Join'][0]);
  if (v['Fn::Sub']) return flatten(Array.isArray(v['Fn::Sub']) ? v['Fn::Sub'][0] : v['Fn::Sub']);
  if (v.Ref) return `<<Ref:${v.Ref}>>`;
  if (v['Fn::GetAtt']) return `<<GetAtt:${list(v['Fn::GetAtt']).join('.')}>>`;
  throw new Error(`unexpected template value ${JSON.stringify(value)}`);
}

/**
 * The definition a state machine is deployed with, as the template has it: the inline
 * `DefinitionString`, or the file asset that `DefinitionS3Location` points to.
 */
function deployedDefinition(id: StateMachineId): string {
  const p = machineResource(id).Properties;
  if (p.DefinitionString !== undefined) return flatten(p.DefinitionString);
  const key: string = p.DefinitionS3Location.Key;
  return readFileSync(join(s.outdir, `asset.${key}`), 'utf8');
}

/** The deployed definition with the template's `DefinitionSubstitutions` applied (unknown ones stay). */
function substituted(id: StateMachineId): string {
  const subs: Record<string, unknown> = machineResource(id).Properties.DefinitionSubstitutions ?? {};
  return deployedDefinition(id).replace(/\$\{([^}]*)\}/g, (m, name: string) =>
    name in subs ? flatten(subs[name]) : m,
  );
}

type State = {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  Branches?: Machine[];
  ItemProcessor?: Machine;
  Iterator?: Machine;
};
type Machine = { States: Record<string, State> };

function allStates(m: Machine): State[] {
  return Object.values(m.States).flatMap((st) => [
    st,
    ...[
      ...(st.Branches ?? []),
      ...(st.ItemProcessor ? [st.ItemProcessor] : []),
      ...(st.Iterator ? [st.Iterator] : []),
    ].flatMap(allStates),
  ]);
}

describe('Sagas: the state machines', () => {
  test('every ASL file under statemachines/ is deployed, and every deployed one is a file there', () => {
    const files = readdirSync(join(__dirname, '..', '..', 'statemachines')).filter((f) => f.endsWith('.asl.json'));
    expect(files.map((f) => `statemachines/${f}`).sort()).toEqual(ALL_MACHINES.map(({ def }) => def.file).sort());
    expect(Object.keys(resourcesOf(s.template, 'AWS::StepFunctions::StateMachine'))).toHaveLength(ALL_MACHINES.length);
    expect(Object.keys(s.stack.snapshots.stateMachines).sort()).toEqual(['restore', 'snapshot']);
    expect(Object.keys(s.stack.sagas.stateMachines).sort()).toEqual([...ids].sort());
  });

  test.each(ids)(
    '%s is a Standard state machine named vesta-dev-<id>, traced, logging ALL events without execution data',
    (id) => {
      const p = machineResource(id).Properties;
      expect(p).toMatchObject({
        StateMachineName: `vesta-dev-${id}`,
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      });
      const destinations = p.LoggingConfiguration.Destinations;
      expect(destinations).toHaveLength(1);
      const groupId = destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
      const group = resourcesOf(s.template, 'AWS::Logs::LogGroup')[groupId];
      expect(group.Properties.RetentionInDays).toBeGreaterThan(0);
      expect(group.Properties.LogGroupName).toBe(`/aws/vendedlogs/states/vesta-dev-${id}`);
    },
  );

  test('each state machine logs to a log group of its own', () => {
    const groups = ids.map((id) => JSON.stringify(machineResource(id).Properties.LoggingConfiguration.Destinations));
    expect(new Set(groups).size).toBe(ids.length);
  });

  test.each(ids)(
    '%s is deployed from its ASL file (the task contract applied), and the only substitution is the step function ARN',
    (id) => {
      const def = STATE_MACHINES.find((d) => d.id === id)!;
      expect(JSON.parse(deployedDefinition(id))).toEqual(loadDefinition(def));
      const subs = machineResource(id).Properties.DefinitionSubstitutions;
      expect(subs).toEqual({ [STEP_FUNCTION_SUBSTITUTION]: stepFnArn() });
    },
  );

  test.each(ids)('%s: every placeholder is substituted, and every Task invokes the step function', (id) => {
    const used = [...deployedDefinition(id).matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(0);
    expect([...new Set(used)]).toEqual([STEP_FUNCTION_SUBSTITUTION]);
    const text = substituted(id);
    expect(text).not.toMatch(/\$\{/);
    const tasks = allStates(JSON.parse(text) as Machine).filter((st) => st.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(0);
    for (const task of tasks) expect(task.Resource).toBe(flatten(stepFnArn()));
  });

  test.each(ids)('%s: the deployed definition passes asl-validator once the ARN is known', (id) => {
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:vesta-dev-saga-step';
    const result = aslValidator(JSON.parse(substituted(id).split(flatten(stepFnArn())).join(arn)));
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  test('saga: as deployed, every Task that works on a step names it in the execution history, and a compensated saga ends in a Fail state that says why', async () => {
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:vesta-dev-saga-step';
    const definition = JSON.parse(substituted('saga').split(flatten(stepFnArn())).join(arn));
    const names = ['reserve-stock', 'charge-card', 'ship'];
    // The saga-step protocol (statemachines/README.md): the third step is refused.
    const step = async (input: { action: string; index?: number; step?: string; sagaId: string }) => {
      const i = input.index ?? -1;
      switch (input.action) {
        case 'load':
          return { sagaId: input.sagaId, steps: names, cursor: { next: 0, done: false } };
        case 'apply':
          if (i === 2) throw Object.assign(new Error('require[0] did not hold'), { name: 'Vesta.StepFailed' });
          return { next: i + 1, done: false };
        case 'abort':
        case 'compensate':
          return { next: i - 1, done: i === 0 };
        case 'finish':
          return { error: 'Vesta.SagaCompensated', cause: 'step 2 (ship) failed: require[0] did not hold' };
        default:
          throw new Error(`unexpected ${input.action}`);
      }
    };
    const tasks = Object.entries(definition.States as Record<string, State>).filter(([, st]) => st.Type === 'Task');
    const scheduled: { state: string; parameters: { action: string; index?: number; step?: string } }[] = [];
    const execution = new StateMachine(definition).run({ sagaId: 's-1' } as never, {
      overrides: {
        taskResourceLocalHandlers: Object.fromEntries(
          tasks.map(([name]) => [
            name,
            (parameters: never) => {
              scheduled.push({ state: name, parameters });
              return step(parameters);
            },
          ]),
        ) as never,
      },
    });
    let ended: { Error?: string; Cause?: unknown } = {};
    const events = (async () => {
      for await (const e of execution.eventLogs) if (e.type === 'ExecutionFailed') ended = e;
    })();
    await expect(execution.result).rejects.toBeDefined();
    await events;
    const onSteps = scheduled.filter((t) => t.parameters.index !== undefined);
    expect(onSteps.map((t) => `${t.state} ${t.parameters.index} ${t.parameters.step}`)).toEqual([
      'ApplyStep 0 reserve-stock',
      'ApplyStep 1 charge-card',
      'ApplyStep 2 ship',
      'RecordStepFailed 2 ship',
      'CompensateStep 1 charge-card',
      'CompensateStep 0 reserve-stock',
    ]);
    expect(ended).toMatchObject({
      Error: 'Vesta.SagaCompensated',
      Cause: 'step 2 (ship) failed: require[0] did not hold',
    });
  });

  test.each(ids)('%s: the role may invoke the step function (and its versions) and nothing else', (id) => {
    const { role, statements } = roleStatements(s.template, idOf(machineOf(id).role as any));
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Policies).toBeUndefined();
    const principals = role.Properties.AssumeRolePolicyDocument.Statement.map((st: any) => st.Principal);
    expect(principals).toEqual([{ Service: 'states.amazonaws.com' }]);
    for (const st of statements) expect(st.Effect).toBe('Allow');
    // Log delivery and X-Ray support no resource-level permissions: only these are on `*`.
    const onAll = statements.filter((st) => list(st.Resource).includes('*'));
    for (const st of onAll) expect(list(st.Resource)).toEqual(['*']);
    for (const action of onAll.flatMap((st) => list(st.Action)))
      expect(action).toMatch(
        /^(logs:[A-Za-z]+Log(Delivery|Deliveries|Groups)|logs:(Put|Describe)ResourcePolic(y|ies)|xray:[A-Za-z]+)$/,
      );
    const rest = statements.filter((st) => !list(st.Resource).includes('*'));
    expect(grants(rest)).toEqual(
      [
        ...expected(['lambda:InvokeFunction'], stepFnArn()),
        ...expected(['lambda:InvokeFunction'], { 'Fn::Join': ['', [stepFnArn(), ':*']] }),
      ].sort(),
    );
  });

  test.each(ids)('%s: its role suppresses IAM5 for `*` and the step function versions only', (id) => {
    const role = resourcesOf(s.template, 'AWS::IAM::Role')[idOf(machineOf(id).role as any)];
    const sup = role.Metadata.cdk_nag.rules_to_suppress;
    expect(sup).toHaveLength(1);
    expect(sup[0]).toMatchObject({
      id: 'AwsSolutions-IAM5',
      applies_to: ['Resource::*', `Resource::<${idOf(stepFn())}.Arn>:*`],
    });
  });
});

describe('Sagas: the step function', () => {
  test(`runs nodejs24.x on arm64 with active tracing and a ${STEP_FUNCTION_TIMEOUT_SECONDS} s timeout, below every Task's TimeoutSeconds`, () => {
    const p = stepFnResource().Properties;
    expect(p).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Timeout: 30,
      Handler: 'index.handler',
    });
    for (const def of STATE_MACHINES) {
      for (const task of allStates(loadDefinition(def) as Machine).filter((st) => st.Type === 'Task')) {
        expect(task.TimeoutSeconds).toBeDefined();
        expect(p.Timeout).toBeLessThan(task.TimeoutSeconds!);
      }
    }
  });

  test('gets every table name and the Powertools settings from its environment', () => {
    const vars = stepFnResource().Properties.Environment.Variables;
    for (const def of TABLE_DEFS) expect(vars[def.envVar]).toEqual({ Ref: idOf(s.stack.tables.tables[def.id]) });
    expect(vars).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'vesta', POWERTOOLS_METRICS_NAMESPACE: 'Vesta' });
  });

  test('gets exactly its records, control and saga-log action lists, on the tables themselves', () => {
    const { role, statements } = roleStatements(s.template, idOf(stepFn().role as any));
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(grants(statements.filter((st) => !isLogsOrXray(st)))).toEqual(
      [
        ...expected(SAGA_STEP_RECORDS_ACTIONS, tableArn('records')),
        ...expected(SAGA_STEP_CONTROL_ACTIONS, tableArn('control')),
        ...expected(SAGA_LOG_STEP_ACTIONS, tableArn('sagas')),
      ].sort(),
    );
    expect(JSON.stringify(statements)).not.toContain('/index/');
    expect(JSON.stringify(statements)).not.toContain(idOf(s.stack.tables.tables.idempotency));
  });

  test('writes logs to its own log group only; only X-Ray is allowed on every resource', () => {
    const { statements } = roleStatements(s.template, idOf(stepFn().role as any));
    const logs = statements.filter((st) => list(st.Action).some((a) => a.startsWith('logs:')));
    expect([...new Set(logs.flatMap((st) => list(st.Action)))].sort()).toEqual([...LOG_WRITE_ACTIONS].sort());
    const groupId = stepFnResource().Properties.LoggingConfig.LogGroup.Ref;
    for (const r of logs.flatMap((st) => list(st.Resource))) expect(JSON.stringify(r)).toContain(groupId);
    const onAll = statements.filter((st) => list(st.Resource).includes('*'));
    expect(onAll.flatMap((st) => list(st.Action)).sort()).toEqual([...XRAY_WRITE_ACTIONS].sort());
  });

  test('bundles the handler with only the AWS SDK and Node built-ins external, and emits CompensationFailed', () => {
    const key: string = stepFnResource().Properties.Code.S3Key;
    const code = readFileSync(join(s.outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.js'), 'utf8');
    const required = new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
    expect([...required].filter((r) => !r.startsWith('@aws-sdk/') && !r.startsWith('node:'))).toEqual([]);
    expect(code).toContain('publishStoredMetrics');
    expect(code).toContain('CompensationFailed');
  });

  test('the action lists are the documented ones', () => {
    expect([...SAGA_STEP_RECORDS_ACTIONS].sort()).toEqual(
      ['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'].sort(),
    );
    expect(SAGA_STEP_CONTROL_ACTIONS).toEqual(['dynamodb:GetItem']);
    expect([...SAGA_LOG_STEP_ACTIONS].sort()).toEqual(
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'].sort(),
    );
    expect([...SAGA_LOG_API_ACTIONS].sort()).toEqual(
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'].sort(),
    );
    expect(SAGA_START_ACTIONS).toEqual(['states:StartExecution']);
    expect(SAGA_REDRIVE_ACTIONS).toEqual(['states:RedriveExecution']);
  });
});

describe('Sagas: the API function', () => {
  const apiRole = () => roleStatements(s.template, idOf(s.stack.api.function.role as any));

  test('may start executions of exactly the saga and snapshot state machines, redrive those of the saga machines, and do nothing else in Step Functions', () => {
    const states = apiRole().statements.filter((st) => list(st.Action).some((a) => a.startsWith('states:')));
    const snapshotMachines = Object.values(s.stack.snapshots.stateMachines).map((m) => ({ Ref: idOf(m) }));
    expect(snapshotMachines).toHaveLength(2);
    // An execution ARN: the state machine's with `:execution:`, then any execution name (a saga id).
    const executionsOf = (id: StateMachineId) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':states:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':execution:',
          { 'Fn::GetAtt': [idOf(machineOf(id)), 'Name'] },
          ':*',
        ],
      ],
    });
    expect(grants(states)).toEqual(
      [
        ...[...ids.map((id) => ({ Ref: idOf(machineOf(id)) })), ...snapshotMachines].flatMap((ref) =>
          expected(SAGA_START_ACTIONS, ref),
        ),
        ...ids.flatMap((id) => expected(SAGA_REDRIVE_ACTIONS, executionsOf(id))),
      ].sort(),
    );
  });

  test('gets each state machine ARN in its environment', () => {
    const vars = resourcesOf(s.template, 'AWS::Lambda::Function')[idOf(s.stack.api.function)].Properties.Environment
      .Variables;
    for (const def of STATE_MACHINES) expect(vars[def.envVar]).toEqual({ Ref: idOf(machineOf(def.id)) });
    expect(Object.keys(s.stack.sagas.environment()).sort()).toEqual([
      'VESTA_SAGA_STATE_MACHINE_ARN',
      'VESTA_TRANSFER_STATE_MACHINE_ARN',
    ]);
  });

  test('gets the saga-log action list on the sagas table', () => {
    const onSagas = apiRole().statements.filter(
      (st) => JSON.stringify(list(st.Resource)) === JSON.stringify([tableArn('sagas')]),
    );
    expect(onSagas.flatMap((st) => list(st.Action)).sort()).toEqual([...SAGA_LOG_API_ACTIONS].sort());
  });
});

describe('Sagas: executions stay visible to the lease renewer', () => {
  /** An IAM resource pattern (`*`, `?`) as a regular expression, with pseudo parameters and state machine names filled in. */
  function iamPattern(resource: unknown): RegExp {
    let text = flatten(resource)
      .replaceAll('<<Ref:AWS::Partition>>', 'aws')
      .replaceAll('<<Ref:AWS::Region>>', 'us-east-1')
      .replaceAll('<<Ref:AWS::AccountId>>', '123456789012');
    for (const [logicalId, m] of Object.entries(resourcesOf(s.template, 'AWS::StepFunctions::StateMachine'))) {
      text = text.replaceAll(`<<GetAtt:${logicalId}.Name>>`, m.Properties.StateMachineName);
    }
    const escaped = text
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    return new RegExp(`^${escaped}$`);
  }

  test.each(ids)('states:DescribeExecution covers the executions of vesta-dev-%s', (id) => {
    const { statements } = roleStatements(s.template, idOf(s.stack.leases.renewer.role as any));
    const describe = statements
      .filter((st) => list(st.Action).includes('states:DescribeExecution'))
      .flatMap((st) => list(st.Resource));
    expect(describe.length).toBeGreaterThan(0);
    const arn = `arn:aws:states:us-east-1:123456789012:execution:vesta-dev-${id}:saga-0001`;
    expect(describe.some((r) => iamPattern(r).test(arn))).toBe(true);
  });

  test('and no execution of any other state machine', () => {
    const { statements } = roleStatements(s.template, idOf(s.stack.leases.renewer.role as any));
    const describe = statements
      .filter((st) => list(st.Action).includes('states:DescribeExecution'))
      .flatMap((st) => list(st.Resource));
    for (const arn of [
      'arn:aws:states:us-east-1:123456789012:execution:other-team-machine:run-1',
      'arn:aws:states:us-east-1:123456789012:execution:vesta-prod-saga:saga-0001',
      'arn:aws:states:us-east-1:123456789012:execution:vesta-dev-saga-copy:saga-0001',
    ]) {
      expect(describe.filter((r) => iamPattern(r).test(arn))).toEqual([]);
    }
  });
});

describe('Sagas: alarms', () => {
  const alarm = (a: { node: { defaultChild?: unknown } }) =>
    resourcesOf(s.template, 'AWS::CloudWatch::Alarm')[idOf(a)].Properties;
  const atLeastOnceIn5Minutes = {
    Statistic: 'Sum',
    Period: 300,
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
  };

  test('a failed compensation (the CompensationFailed metric of Powertools, service vesta) alarms at once', () => {
    expect(alarm(s.stack.sagas.alarms.compensationFailed)).toMatchObject({
      Namespace: 'Vesta',
      MetricName: 'CompensationFailed',
      Dimensions: [{ Name: 'service', Value: 'vesta' }],
      ...atLeastOnceIn5Minutes,
    });
  });

  /** The alarm's metric: `failures` less the `expected` ones that Vesta counts, per 5 minutes. */
  const faults = (failures: Record<string, unknown>, expected: Record<string, unknown>) => ({
    Metrics: [
      expect.objectContaining({ Expression: 'failures - FILL(expected, 0)' }),
      expect.objectContaining({
        Id: 'failures',
        ReturnData: false,
        MetricStat: { Metric: failures, Period: 300, Stat: 'Sum' },
      }),
      expect.objectContaining({
        Id: 'expected',
        ReturnData: false,
        MetricStat: { Metric: expected, Period: 300, Stat: 'Sum' },
      }),
    ],
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
  });

  test.each(ids)(
    'a failed execution of %s alarms, unless a saga outcome (compensated, waiting for a person) explains it',
    (id) => {
      expect(alarm(s.stack.sagas.alarms[`${id}Failed`])).toMatchObject(
        faults(
          {
            Namespace: 'AWS/States',
            MetricName: 'ExecutionsFailed',
            Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: idOf(machineOf(id)) } }],
          },
          {
            Namespace: 'Vesta',
            MetricName: 'SagaExecutionsFailedByOutcome',
            Dimensions: expect.arrayContaining([
              { Name: 'service', Value: 'vesta' },
              { Name: 'machine', Value: id },
            ]),
          },
        ),
      );
    },
  );

  test('an error of the step function alarms, unless it is a refused step or a compensation waiting for a person', () => {
    expect(alarm(s.stack.sagas.alarms.stepErrors)).toMatchObject(
      faults(
        {
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: idOf(stepFn()) } }],
        },
        { Namespace: 'Vesta', MetricName: 'SagaStepsRefused', Dimensions: [{ Name: 'service', Value: 'vesta' }] },
      ),
    );
  });

  test('these are the alarms of the construct; their only action is the alarm topic, added by Monitoring', () => {
    const mine = Object.values(s.stack.sagas.alarms).map(idOf);
    expect(mine).toHaveLength(2 + ids.length);
    const all = resourcesOf(s.template, 'AWS::CloudWatch::Alarm');
    const underSagas = Object.keys(all).filter((logicalId) => logicalId.startsWith('Sagas'));
    expect(underSagas.sort()).toEqual(mine.sort());
    const topic = { Ref: idOf(s.stack.monitoring.topic) };
    for (const id of mine) expect(all[id].Properties.AlarmActions).toEqual([topic]);
  });
});

describe('Sagas: construction', () => {
  test('state machines are named after the stage; a malformed stage is refused with the value echoed', () => {
    const stack = bareStack();
    const tables = new StateTables(stack, 'T', { stage: 'test', tableNamePrefix: 'vesta-test' });
    const sagas = new Sagas(stack, 'S', { stage: 'test', tables });
    for (const id of ids)
      expect(stack.resolve((sagas.stateMachines[id].node.defaultChild as any).stateMachineName)).toBe(
        `vesta-test-${id}`,
      );
    expect(() => new Sagas(bareStack(), 'S', { stage: 'Bad Stage', tables })).toThrow(/Received: "Bad Stage"/);
  });

  test('execution data (record values) is logged only when logExecutionData turns it on, in the stack too', () => {
    const logged = (c: Sagas | Snapshots) =>
      Object.values(c.stateMachines).map((m) => (m.node.defaultChild as any).loggingConfiguration.includeExecutionData);
    const built = (logExecutionData?: boolean) => {
      const stack = bareStack();
      const tables = new StateTables(stack, 'T', { stage: 'dev', tableNamePrefix: 'vesta-dev' });
      return [
        new Sagas(stack, 'S', { stage: 'dev', tables, logExecutionData }),
        new Snapshots(stack, 'N', { stage: 'dev', tables, logExecutionData }),
      ];
    };
    for (const c of built()) expect(logged(c)).toEqual(Object.keys(c.stateMachines).map(() => false));
    for (const c of built(false)) expect(new Set(logged(c))).toEqual(new Set([false]));
    for (const c of built(true)) expect(new Set(logged(c))).toEqual(new Set([true]));
    const on = synthesize({ stage: 'dev', logExecutionData: true });
    try {
      const configs = Object.values(resourcesOf(on.template, 'AWS::StepFunctions::StateMachine')).map(
        (m) => m.Properties.LoggingConfiguration,
      );
      expect(configs).toHaveLength(ALL_MACHINES.length);
      for (const c of configs) expect(c).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
    } finally {
      on.dispose();
    }
    const fromContext = (value: unknown) => {
      const stack = new VestaStack(
        new App({ context: { 'aws:cdk:bundling-stacks': [], [LOG_EXECUTION_DATA_CONTEXT]: value } }),
        'Ctx',
        { stage: 'dev' },
      );
      return logged(stack.sagas);
    };
    expect(fromContext('true')).toEqual([true, true]);
    expect(fromContext(false)).toEqual([false, false]);
    expect(() => fromContext('yes')).toThrow(/vesta:logExecutionData must be true or false. Received: "yes"/);
  });

  test('logs are retained on prod unless told otherwise', () => {
    const policies = (stage: string, retainLogs?: boolean) => {
      const stack = bareStack();
      const tables = new StateTables(stack, 'T', { stage, tableNamePrefix: `vesta-${stage}` });
      const sagas = new Sagas(stack, 'S', { stage, tables, retainLogs });
      return sagas.node
        .findAll()
        .filter((c) => (c.node.defaultChild as any)?.cfnResourceType === 'AWS::Logs::LogGroup')
        .map((c) => (c.node.defaultChild as any).cfnOptions.deletionPolicy);
    };
    expect(policies('prod').length).toBe(STATE_MACHINES.length + 1);
    expect(new Set(policies('prod'))).toEqual(new Set(['Retain']));
    expect(new Set(policies('dev'))).toEqual(new Set(['Delete']));
    expect(new Set(policies('dev', true))).toEqual(new Set(['Retain']));
  });
});
