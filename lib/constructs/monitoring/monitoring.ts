/**
 * Monitoring of one Vesta deployment: the alarm topic (`AlarmTopic`), alarms of its own on the
 * API, the functions, the tables and the dead letters of each background path, and the
 * `vesta-<stage>` dashboard. Every alarm it creates or
 * is handed (`alarms` prop, `addAlarms`) notifies the topic when it enters ALARM and when it is
 * OK again, and is listed in the dashboard's alarm widget.
 *
 * Metrics are made in `metrics.ts`, alarms in `alarms.ts`, widgets in `dashboard.ts`.
 */
import { Duration, Token } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { retainsByDefault, validateStage } from '../../stage';
import { AlarmTopic, type AlarmTopicProps, alarmEmailsOf, subscribeEmails } from './alarm-topic';
import { apiServerErrorsAlarm, deadLettersAlarm, functionAlarms, tableThrottlesAlarm } from './alarms';
import { DEAD_LETTER_SOURCES, type DeadLetterSource } from '../../../src/core/dead-letters';
import {
  alarmStatusWidget,
  apiWidgets,
  functionWidgets,
  sectionHeading,
  stateMachineWidgets,
  tableWidgets,
  vestaWidgets,
} from './dashboard';
import { apiMetrics, functionMetrics, idOf, labelOf, stateMachineMetrics, tableMetrics } from './metrics';

/** What is watched. Each list may be empty; its dashboard row and alarms are then left out. */
export interface MonitoredResourcesProps {
  /**
   * The REST API: a row of requests, 4XX, 5XX and latency, and the 5XX alarm.
   * @default - no API row and no 5XX alarm
   */
  readonly restApi?: apigw.RestApi;
  /**
   * Functions: a line each in the Lambda row, an errors and a throttles alarm each.
   * @default - none; add them later with `addFunctions`
   */
  readonly functions?: readonly lambda.IFunction[];
  /**
   * Tables: a line each in the DynamoDB row, a throttles alarm each.
   * @default - none
   */
  readonly tables?: readonly dynamodb.ITableV2[];
  /**
   * State machines: a line each in the Step Functions row (their failed-executions alarms belong
   * to the constructs that own them; pass those in `alarms`).
   * @default - none
   */
  readonly stateMachines?: readonly sfn.IStateMachine[];
  /**
   * Alarms made elsewhere, routed to the topic like this construct's own.
   * @default - none; add them later with `addAlarms`
   */
  readonly alarms?: readonly cloudwatch.IAlarm[];
}

export interface MonitoringThresholdProps {
  /**
   * 5XX answers of the API in 5 minutes at which its alarm fires; a whole number from 1.
   * @default 1
   */
  readonly apiServerErrorsThreshold?: number;
}

export interface MonitoringProps extends AlarmTopicProps, MonitoredResourcesProps, MonitoringThresholdProps {
  /** Deployment stage: names the dashboard (`vesta-<stage>`); decides the default of `retainKey`. */
  readonly stage: string;
  /**
   * Keep the alarm topic's KMS key when it leaves the stack (otherwise it is scheduled for deletion).
   * @default true for the `prod` stage, false for every other stage
   */
  readonly retainKey?: boolean;
  /**
   * A topic of yours for the alarms (ALARM and OK), instead of one of its own; `alarmEmails` are
   * subscribed to it. CloudWatch must be allowed to publish to it, and to use its key if it is
   * encrypted (so not with the AWS-managed `alias/aws/sns` key, whose policy cannot allow that).
   * @default - a topic of its own, TLS only, encrypted with a customer-managed key
   */
  readonly alarmTopic?: sns.ITopic;
}

export class Monitoring extends Construct {
  /** The topic every routed alarm notifies (ALARM and OK): `alarmTopic`, or one of its own. */
  readonly topic: sns.ITopic;
  /** The customer-managed key its own topic is encrypted with; absent with `alarmTopic`. */
  readonly topicKey?: kms.Key;
  readonly dashboard: cloudwatch.Dashboard;
  /** The API answered 5XX (`apiServerErrorsThreshold` or more in 5 minutes); absent without `restApi`. */
  readonly apiServerErrorsAlarm?: cloudwatch.Alarm;
  /** Per table: at least one throttled read or write in 5 minutes. */
  readonly tableThrottlesAlarms: readonly cloudwatch.Alarm[];
  /** Per background path: at least one item set aside as a dead letter in 5 minutes (`DeadLetters`). */
  readonly deadLettersAlarms: Readonly<Record<DeadLetterSource, cloudwatch.Alarm>>;
  private readonly alarmAction: actions.SnsAction;
  /** Routed alarms, in the order added; the dashboard's alarm widget reads this array at synthesis. */
  private readonly routed: cloudwatch.IAlarm[] = [];
  private readonly functionAlarmList: cloudwatch.Alarm[] = [];
  private readonly monitoredFunctions = new Set<lambda.IFunction>();

  /** Throws an `Error` when the stage, an alarm email (prop or context) or the threshold is malformed; the message echoes it. */
  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    validateStage(props.stage);
    const threshold = props.apiServerErrorsThreshold ?? 1;
    if (!Token.isUnresolved(threshold) && (!Number.isInteger(threshold) || threshold < 1)) {
      throw new Error(`apiServerErrorsThreshold must be a whole number from 1. Received: ${threshold}`);
    }

    if (props.alarmTopic) {
      this.topic = props.alarmTopic;
      subscribeEmails(this.topic, alarmEmailsOf(this, props.alarmEmails));
    } else {
      const alarmTopic = new AlarmTopic(this, 'AlarmTopic', {
        alarmEmails: props.alarmEmails,
        retainKey: props.retainKey ?? retainsByDefault(props.stage),
      });
      this.topic = alarmTopic.topic;
      this.topicKey = alarmTopic.key;
    }
    this.alarmAction = new actions.SnsAction(this.topic);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `vesta-${props.stage}`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(alarmStatusWidget(this.routed));

    if (props.restApi) {
      const metrics = apiMetrics(props.restApi);
      this.apiServerErrorsAlarm = apiServerErrorsAlarm(this, 'ApiServerErrors', metrics, threshold);
      this.addAlarms(this.apiServerErrorsAlarm);
      this.addSection('API', apiWidgets(metrics));
    }

    this.monitorFunctions('Lambda', props.functions ?? []);

    const tables = (props.tables ?? []).map((table) => ({ table, label: labelOf(table) }));
    const tableRows = tables.map(({ table, label }) => ({ label, metrics: tableMetrics(table, label) }));
    this.tableThrottlesAlarms = tableRows.map(({ label, metrics }) =>
      tableThrottlesAlarm(this, idOf(label), metrics, label),
    );
    this.addAlarms(...this.tableThrottlesAlarms);
    if (tableRows.length > 0) this.addSection('DynamoDB', tableWidgets(tableRows));

    const machines = (props.stateMachines ?? []).map((m) => ({ label: labelOf(m), metrics: stateMachineMetrics(m) }));
    if (machines.length > 0) this.addSection('Step Functions', stateMachineWidgets(machines));

    this.deadLettersAlarms = Object.fromEntries(
      DEAD_LETTER_SOURCES.map((source) => [source, deadLettersAlarm(this, source)]),
    ) as Record<DeadLetterSource, cloudwatch.Alarm>;
    this.addAlarms(...Object.values(this.deadLettersAlarms));

    this.addSection('Vesta', vestaWidgets());
    this.addAlarms(...(props.alarms ?? []));
  }

  /** Every alarm routed to the topic so far: this construct's own and those handed in. */
  get alarms(): readonly cloudwatch.IAlarm[] {
    return [...this.routed];
  }

  /** The errors and throttles alarms of the monitored functions. */
  get functionAlarms(): readonly cloudwatch.Alarm[] {
    return [...this.functionAlarmList];
  }

  /**
   * Routes alarms to the topic (alarm and OK actions) and lists them in the alarm widget. An alarm
   * already routed is left as it is. Throws an `Error` naming the alarm when it is not defined in
   * this app (an imported alarm, e.g. `Alarm.fromAlarmArn`, takes no actions from here).
   */
  addAlarms(...alarms: cloudwatch.IAlarm[]): void {
    for (const alarm of alarms) {
      if (this.routed.includes(alarm)) continue;
      const resource = alarm.node.defaultChild;
      if (
        !(alarm instanceof cloudwatch.AlarmBase) ||
        !(resource instanceof cloudwatch.CfnAlarm || resource instanceof cloudwatch.CfnCompositeAlarm)
      ) {
        throw new Error(
          `addAlarms takes alarms defined in this app (Alarm or CompositeAlarm); an imported alarm cannot be given actions. Received: ${alarm.node.path}`,
        );
      }
      alarm.addAlarmAction(this.alarmAction);
      alarm.addOkAction(this.alarmAction);
      this.routed.push(alarm);
    }
  }

  /**
   * Watches more functions: an errors and a throttles alarm each (routed), and a Lambda row of
   * their own titled `Lambda: <labels>`. A function already watched is skipped.
   */
  addFunctions(...functions: lambda.IFunction[]): void {
    const added = [...new Set(functions)].filter((fn) => !this.monitoredFunctions.has(fn));
    if (added.length > 0) this.monitorFunctions(`Lambda: ${added.map(labelOf).join(', ')}`, added);
  }

  /**
   * Appends a row to the dashboard: a heading, then the widgets (wrapping at 24 units). Throws an
   * `Error` when the title is blank or there is no widget.
   */
  addSection(title: string, widgets: readonly cloudwatch.IWidget[]): void {
    if (title.trim() === '') throw new Error(`addSection needs a title. Received: ${JSON.stringify(title)}`);
    if (widgets.length === 0)
      throw new Error(`addSection needs at least one widget. Received none for ${JSON.stringify(title)}`);
    this.dashboard.addWidgets(sectionHeading(title));
    this.dashboard.addWidgets(...widgets);
  }

  private monitorFunctions(title: string, functions: readonly lambda.IFunction[]): void {
    const unique = [...new Set(functions)].filter((fn) => !this.monitoredFunctions.has(fn));
    if (unique.length === 0) return;
    const rows = unique.map((fn) => {
      this.monitoredFunctions.add(fn);
      const label = labelOf(fn);
      const metrics = functionMetrics(fn);
      const made = functionAlarms(this, idOf(label), metrics, label);
      this.functionAlarmList.push(made.errors, made.throttles);
      this.addAlarms(made.errors, made.throttles);
      return { label, metrics };
    });
    this.addSection(title, functionWidgets(rows));
  }
}
