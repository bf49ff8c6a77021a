/**
 * Sagas: the saga-step Lambda function and one Standard state machine per ASL file of
 * `src/sagas/state-machines.ts`, every Task of which invokes the step function. The state machines
 * log every event (without the execution data unless `logExecutionData` is on) and are traced; each role may invoke the step function and nothing
 * else. The alarms are read from the readonly properties by the stack, which hands them to
 * `Monitoring` (SNS topic, dashboard).
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { STATE_MACHINES, STEP_FUNCTION_SUBSTITUTION, type StateMachineId } from '../../src/sagas/state-machines';
import { aslStateMachine } from './asl-state-machine';
import { NagSuppressions } from 'cdk-nag';
import { SAGA_REDRIVE_ACTIONS, SAGA_START_ACTIONS } from '../perms';
import { METRIC_DIMENSIONS, METRIC_NAMES } from '../../src/core/metric-names';
import { createVestaFunction, vestaMetric } from './function-defaults';
import { vestaAlarm } from './monitoring/alarms';
import { MONITORING_PERIOD, countsDeliberateFailures, functionMetrics } from './monitoring/metrics';
import { StageConstruct, type StageProps } from './stage-construct';
import type { StateTables } from './state-tables';

/**
 * The saga-step function's timeout: below the Task timeout of its Tasks (`TASK_CLASSES` of
 * `src/sagas/task-contract.ts`, 60 s), so a slow call fails in the function first.
 */
export const STEP_FUNCTION_TIMEOUT_SECONDS = 30;

export interface SagasProps extends StageProps {
  /** Deployment stage: names the state machines (`vesta-<stage>-<id>`); decides the default of `retainLogs`. */
  readonly stage: string;
  /** The tables the step function reads and writes. */
  readonly tables: StateTables;
  /**
   * Log the state machines' execution data (every state's input and output, e.g. a step's error with record values) with their events.
   * Off, the logs hold the events only: no record values, no ids beyond the execution's own.
   * @default false
   */
  readonly logExecutionData?: boolean;
}

export class Sagas extends StageConstruct {
  /** The function every Task of every state machine invokes. */
  readonly stepFunction: lambda.Function;
  /** The state machines by their id in `STATE_MACHINES`. */
  readonly stateMachines: Readonly<Record<StateMachineId, sfn.StateMachine>>;
  /**
   * Every alarm of this construct, by name: `compensationFailed`, at least one saga could not be
   * compensated in 5 minutes (the step function's `CompensationFailed` metric); `stepErrors`, the
   * step function failed at least once in 5 minutes (retried by the state machine, but worth a
   * look); `<machine id>Failed` (`sagaFailed`, `transferFailed`), at least one failed execution of
   * that state machine in 5 minutes.
   */
  readonly alarms: Readonly<Record<'compensationFailed' | 'stepErrors' | `${StateMachineId}Failed`, cloudwatch.Alarm>>;

  /** Throws an `Error` when `stage` is malformed; the message echoes it. */
  constructor(scope: Construct, id: string, props: SagasProps) {
    super(scope, id, props);

    this.stepFunction = createVestaFunction(this, 'StepFunction', {
      ...this.log,
      entry: 'saga-step.ts',
      description: 'Vesta saga step',
      tables: props.tables,
      memorySize: 512,
      timeout: Duration.seconds(STEP_FUNCTION_TIMEOUT_SECONDS),
    }).function;
    props.tables.grant(this.stepFunction, 'sagaStep');

    const machines: Partial<Record<StateMachineId, sfn.StateMachine>> = {};
    const failed: Partial<Record<`${StateMachineId}Failed`, cloudwatch.Alarm>> = {};
    for (const def of STATE_MACHINES) {
      const made = aslStateMachine(this, {
        stage: props.stage,
        def,
        substitution: STEP_FUNCTION_SUBSTITUTION,
        invokes: this.stepFunction,
        ...this.log,
        logExecutionData: props.logExecutionData,
        failedByOutcome: vestaMetric(METRIC_NAMES.sagaExecutionsFailedByOutcome, 'Sum', MONITORING_PERIOD, {
          [METRIC_DIMENSIONS[METRIC_NAMES.sagaExecutionsFailedByOutcome]]: def.id,
        }),
      });
      machines[def.id] = made.machine;
      failed[`${def.id}Failed`] = made.executionsFailedAlarm;
    }
    this.stateMachines = machines as Record<StateMachineId, sfn.StateMachine>;

    // The metric is only emitted when a compensation fails: no data means none did.
    const compensationFailed = vestaAlarm(this, 'CompensationFailed', {
      description:
        'Vesta sagas: at least one saga could not be compensated in 5 minutes; its records need a manual fix',
      metric: vestaMetric(METRIC_NAMES.compensationFailed, 'Sum', MONITORING_PERIOD),
    });
    // A refused step (its require did not hold) fails its invocation on purpose: not a fault.
    countsDeliberateFailures(this.stepFunction, vestaMetric(METRIC_NAMES.sagaStepsRefused, 'Sum', MONITORING_PERIOD));
    const stepErrors = vestaAlarm(this, 'StepErrors', {
      description:
        'Vesta saga step: at least one failed invocation in 5 minutes, not counting refused steps (Vesta.StepFailed) and compensations waiting for a person (Vesta.CompensationFailed)',
      metric: functionMetrics(this.stepFunction).faults,
    });
    this.alarms = {
      compensationFailed,
      stepErrors,
      ...(failed as Record<`${StateMachineId}Failed`, cloudwatch.Alarm>),
    };
  }

  /** `states:StartExecution` on exactly the state machines of this construct. */
  grantStart(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...SAGA_START_ACTIONS],
      resourceArns: STATE_MACHINES.map((def) => this.stateMachines[def.id].stateMachineArn),
    });
  }

  /**
   * `states:RedriveExecution` on the executions of exactly the state machines of this construct
   * (`arn:<partition>:states:<region>:<account>:execution:<state machine name>:*`: execution names
   * are saga ids, known at run time), in a policy of its own so that its cdk-nag suppression covers
   * this statement only.
   */
  grantRedrive(grantee: iam.IGrantable & { readonly role?: iam.IRole }): iam.Policy {
    const executions = STATE_MACHINES.map((def) =>
      Stack.of(this).formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${this.stateMachines[def.id].stateMachineName}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    const policy = new iam.Policy(this, 'RedriveExecutions', {
      roles: grantee.role ? [grantee.role] : [],
      statements: [new iam.PolicyStatement({ actions: [...SAGA_REDRIVE_ACTIONS], resources: executions })],
    });
    NagSuppressions.addResourceSuppressions(policy, [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          "The API only calls states:RedriveExecution, on the executions of this stack's own saga state machines (a person's retry of a COMPENSATION_FAILED saga): an execution ARN is <state machine ARN with :execution:>:<execution name>, and execution names (saga ids) are only known at run time, hence the trailing :*.",
        appliesTo: [
          {
            regex:
              '/^Resource::arn:(<AWS::Partition>|aws[a-z-]*):states:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\\d{12}):execution:<[A-Za-z0-9]+\\.Name>:\\*$/g',
          },
        ],
      },
    ]);
    return policy;
  }

  /** Environment variables that carry each state machine's ARN: `{ [def.envVar]: stateMachineArn }`. */
  environment(): Record<string, string> {
    return Object.fromEntries(STATE_MACHINES.map((def) => [def.envVar, this.stateMachines[def.id].stateMachineArn]));
  }
}
