/**
 * What the capability constructs (`Api`, `Sagas`, `Leases`, `Snapshots`, `ChangeEvents`) share:
 * the deployment stage, checked before anything is made, and the settings of their log groups,
 * resolved once from `LogProps` (their functions', their state machines' and their API's).
 */
import { Construct } from 'constructs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { RemovalPolicy } from 'aws-cdk-lib';
import { removalPolicyOf, retainsByDefault, validateStage } from '../stage';

/** What a construct that owns log groups (of its functions, its state machines, its API) takes about them. */
export interface LogProps {
  /**
   * How long the construct's logs are kept: its functions', and its access or execution logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Keep the log groups when they leave the stack.
   * @default true for the `prod` stage, false for every other stage
   */
  readonly retainLogs?: boolean;
}

/** `LogProps` with their defaults filled in: what the construct's log groups are made with. */
export interface LogSettings {
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/** The log settings of a construct of `stage` (validate the stage first). Never throws. */
export function logSettings(stage: string, props: LogProps): LogSettings {
  return {
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    logRemovalPolicy: removalPolicyOf(props.retainLogs ?? retainsByDefault(stage)),
  };
}

/** What every capability construct takes. */
export interface StageProps extends LogProps {
  /** Deployment stage (`STAGE_PATTERN` of `lib/stage.ts`); decides the default of `retainLogs`. */
  readonly stage: string;
}

/** A capability construct of one deployment stage: the stage is checked, the log settings resolved. */
export abstract class StageConstruct extends Construct {
  /** The settings of every log group the construct makes. */
  protected readonly log: LogSettings;

  /** Throws an `Error` when `props.stage` is malformed; the message echoes it. */
  protected constructor(scope: Construct, id: string, props: StageProps) {
    super(scope, id);
    validateStage(props.stage);
    this.log = logSettings(props.stage, props);
  }
}
