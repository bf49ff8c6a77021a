/**
 * The SNS topic every Vesta alarm notifies, and its email subscriptions.
 *
 * The topic is TLS only and encrypted with a customer-managed KMS key (rotated yearly): CloudWatch
 * alarms cannot publish to a topic encrypted with the AWS-managed `alias/aws/sns` key, whose
 * policy nobody can change, so the key policy of this key lets `cloudwatch.amazonaws.com` use it.
 * The topic policy lets CloudWatch publish for the alarms of this account and Region only.
 */
import { ALARM_TOPIC_KEY_ACTIONS, ALARM_TOPIC_PUBLISH_ACTIONS } from '../../perms';
import { ArnFormat, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** CDK context key of the alarm emails, comma-separated: `cdk deploy -c vesta:alarmEmails=ops@example.com`. */
export const ALARM_EMAILS_CONTEXT = 'vesta:alarmEmails';

/** An address a subscription can be sent to: one `@`, a dot in the domain, no spaces or list separators. */
const EMAIL_PATTERN = /^[^\s@,;<>"]+@[^\s@,;<>".]+(\.[^\s@,;<>".]+)+$/;
const EMAIL_MAX_LENGTH = 254;

export interface AlarmTopicProps {
  /**
   * Email addresses subscribed to the alarms. Each gets a confirmation mail from AWS and receives
   * nothing until the link in it is followed.
   * @default - the `vesta:alarmEmails` context value (comma-separated), else no subscription
   */
  readonly alarmEmails?: readonly string[];
}

export interface AlarmTopicConstructProps extends AlarmTopicProps {
  /**
   * Keep the KMS key when it leaves the stack (otherwise it is scheduled for deletion).
   * @default false
   */
  readonly retainKey?: boolean;
}

/**
 * Checks an email address. Throws an `Error` that echoes the received value when it is not one;
 * unresolved tokens are accepted as they are.
 */
export function validateAlarmEmail(email: string): void {
  if (Token.isUnresolved(email)) return;
  if (email.length > EMAIL_MAX_LENGTH || !EMAIL_PATTERN.test(email)) {
    throw new Error(
      `alarmEmails must hold email addresses such as ops@example.com, at most ${EMAIL_MAX_LENGTH} characters each. Received: ${JSON.stringify(email)}`,
    );
  }
}

/**
 * The addresses of the `vesta:alarmEmails` context value: a comma-separated string (blanks around
 * commas and empty entries ignored) or a list of strings (from `cdk.json`); `undefined` when the
 * key is not set. Throws an `Error` that echoes any other value.
 */
export function alarmEmailsFromContext(scope: Construct): string[] | undefined {
  const value: unknown = scope.node.tryGetContext(ALARM_EMAILS_CONTEXT);
  if (value === undefined) return undefined;
  if (typeof value === 'string')
    return value
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
  if (Array.isArray(value) && value.every((e) => typeof e === 'string')) return value.map((e: string) => e.trim());
  throw new Error(
    `context ${ALARM_EMAILS_CONTEXT} must be a comma-separated list of email addresses. Received: ${JSON.stringify(value)}`,
  );
}

/**
 * The addresses to subscribe: `given`, else the `vesta:alarmEmails` context value, else none;
 * without duplicates, in the order given. Throws an `Error` that echoes a malformed address.
 */
export function alarmEmailsOf(scope: Construct, given: readonly string[] | undefined): string[] {
  const emails = [...new Set(given ?? alarmEmailsFromContext(scope) ?? [])];
  emails.forEach(validateAlarmEmail);
  return emails;
}

/** Subscribes each address to `topic` by email. Never throws. */
export function subscribeEmails(topic: sns.ITopic, emails: readonly string[]): void {
  for (const email of emails) topic.addSubscription(new subscriptions.EmailSubscription(email));
}

export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  /** The subscribed addresses, without duplicates, in the order given. */
  readonly emails: readonly string[];

  /** Throws an `Error` when an address (prop or context) is malformed; the message echoes it. */
  constructor(scope: Construct, id: string, props: AlarmTopicConstructProps = {}) {
    super(scope, id);
    const emails = alarmEmailsOf(this, props.alarmEmails);
    this.emails = emails;

    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: 'Vesta alarm topic: encrypts alarm notifications at rest',
      enableKeyRotation: true,
      removalPolicy: props.retainKey ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // As the SNS documentation gives it for AWS service publishers: the service principal, no
    // condition (CloudWatch calls KMS through SNS, and the request carries no alarm ARN to match).
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: [...ALARM_TOPIC_KEY_ACTIONS],
        resources: ['*'],
      }),
    );

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Vesta alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    // With `enforceSSL` the topic gets a policy of its own, which replaces the default one: name
    // the publisher explicitly, for the alarms of this account and Region.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: [...ALARM_TOPIC_PUBLISH_ACTIONS],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );

    subscribeEmails(this.topic, emails);
  }
}
