/**
 * One Standard state machine from an ASL file of `statemachines/`, as every Vesta workflow is
 * deployed: named `vesta-<stage>-<id>`, its definition substitution set to the one function its
 * Tasks invoke, every event logged (to a log group under /aws/vendedlogs/) without the execution
 * data unless `logExecutionData` says otherwise (states' inputs and outputs may hold record
 * values), traced,
 * its role allowed to invoke that function and nothing else, and an alarm on failed executions.
 * Construct ids (`<Id>`, `<Id>Logs`, `<Id>ExecutionsFailed`) are created in `scope`.
 *
 * The definition is the ASL file as `loadDefinition` reads it (the task contract of
 * `src/sagas/task-contract.ts` applied), the same one the local runner runs; it is deployed as a
 * file asset, like the file itself would be.
 */
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type CfnElement, FileSystem, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { type StateMachineDef, loadDefinition } from '../../src/sagas/state-machines';
import type { LogSettings } from './stage-construct';
import { vestaAlarm } from './monitoring/alarms';
import { countsDeliberateFailures, stateMachineMetrics } from './monitoring/metrics';

export interface AslStateMachineOptions extends LogSettings {
  readonly stage: string;
  readonly def: StateMachineDef<string>;
  /** The placeholder of the ASL file that names the function (`${...}`). */
  readonly substitution: string;
  /** The function every Task invokes. */
  readonly invokes: lambda.IFunction;
  /**
   * Log the execution data (every state's input and output) with the events.
   * @default false
   */
  readonly logExecutionData?: boolean;
  /**
   * Counts the executions that end failed on purpose, by an outcome (a compensated saga): the
   * failed-executions alarm leaves them out.
   * @default - every failed execution counts
   */
  readonly failedByOutcome?: cloudwatch.IMetric;
}

export interface AslStateMachine {
  readonly machine: sfn.StateMachine;
  /** At least one failed execution in 5 minutes, not counting those `failedByOutcome` counts. */
  readonly executionsFailedAlarm: cloudwatch.Alarm;
}

/**
 * A file holding `def`'s definition as `loadDefinition` gives it, in a new temporary directory,
 * under the ASL file's name. Throws what `loadDefinition` and the file system throw.
 */
function definitionFile(def: StateMachineDef<string>): string {
  const file = join(FileSystem.mkdtemp('vesta-asl-'), basename(def.file));
  writeFileSync(file, `${JSON.stringify(loadDefinition(def), null, 2)}\n`);
  return file;
}

/** `saga` gives `Saga`: construct ids of a state machine and what belongs to it. */
export const pascal = (id: string) => id.charAt(0).toUpperCase() + id.slice(1);

export function aslStateMachine(scope: Construct, opts: AslStateMachineOptions): AslStateMachine {
  const { def } = opts;
  const id = pascal(def.id);
  const name = `vesta-${opts.stage}-${def.id}`;
  // Under /aws/vendedlogs/ the log delivery needs no entry in the account's CloudWatch Logs
  // resource policy, whose size is limited.
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    logGroupName: `/aws/vendedlogs/states/${name}`,
    retention: opts.logRetention,
    removalPolicy: opts.logRemovalPolicy,
  });
  const machine = new sfn.StateMachine(scope, id, {
    stateMachineName: name,
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromFile(definitionFile(def)),
    definitionSubstitutions: { [opts.substitution]: opts.invokes.functionArn },
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: opts.logExecutionData ?? false },
    tracingEnabled: true,
  });
  // The definition comes from a file, so the CDK cannot see the Tasks: the one grant they need.
  opts.invokes.grantInvoke(machine);
  const functionId = Stack.of(scope).getLogicalId(opts.invokes.node.defaultChild as CfnElement);
  NagSuppressions.addResourceSuppressions(
    machine.role,
    [
      {
        id: 'AwsSolutions-IAM5',
        reason: `State machine ${machine.node.id}: log delivery to CloudWatch Logs and X-Ray tracing support no resource-level permissions (Resource *); lambda:InvokeFunction names the ${opts.invokes.node.id} function, plus its versions and aliases (<arn>:*) as the CDK grants it.`,
        appliesTo: ['Resource::*', `Resource::<${functionId}.Arn>:*`],
      },
    ],
    true,
  );
  if (opts.failedByOutcome) countsDeliberateFailures(machine, opts.failedByOutcome);
  const executionsFailedAlarm = vestaAlarm(scope, `${id}ExecutionsFailed`, {
    description: opts.failedByOutcome
      ? `Vesta ${name}: at least one execution in 5 minutes failed other than by a saga outcome (a compensated saga, a compensation that waits for a person); read its event history`
      : `Vesta ${name}: at least one failed execution in 5 minutes`,
    metric: stateMachineMetrics(machine).faults,
  });
  return { machine, executionsFailedAlarm };
}
