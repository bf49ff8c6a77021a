/**
 * One Vesta deployment (one stage in one account and Region) as a stack of its own: a
 * `VestaService` and the outputs a deployer needs (API URL, alarm topic, event bus, snapshot
 * bucket). The service's id is `Default`, which CDK leaves out of logical IDs, so the resources
 * keep the logical IDs they had when the stack built them itself: an existing deployment updates
 * in place and replaces nothing.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { VestaService, type VestaServiceProps } from '../vesta-service';

export { LOG_EXECUTION_DATA_CONTEXT, type VestaThrottling } from '../vesta-service';

export interface VestaStackProps extends StackProps, VestaServiceProps {
  /** Deployment stage, e.g. `dev` or `prod`; it names the stack's resources (see `VestaServiceProps.stage`). */
  readonly stage: string;
}

/** Throws an `Error` when the stage, a throttling limit or a context value is malformed. */
export class VestaStack extends Stack {
  readonly service: VestaService;
  readonly tables: VestaService['tables'];
  readonly api: VestaService['api'];
  readonly leases: VestaService['leases'];
  readonly fieldSweeper: VestaService['fieldSweeper'];
  readonly sagas: VestaService['sagas'];
  readonly snapshots: VestaService['snapshots'];
  readonly changeEvents: VestaService['changeEvents'];
  readonly monitoring: VestaService['monitoring'];

  constructor(scope: Construct, id: string, props: VestaStackProps) {
    super(scope, id, props);
    this.service = new VestaService(this, 'Default', props);
    ({
      tables: this.tables,
      api: this.api,
      leases: this.leases,
      fieldSweeper: this.fieldSweeper,
      sagas: this.sagas,
      snapshots: this.snapshots,
      changeEvents: this.changeEvents,
      monitoring: this.monitoring,
    } = this.service);
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.monitoring.topic.topicArn,
      description:
        'SNS topic of every Vesta alarm (ALARM and OK); email subscriptions from -c vesta:alarmEmails=a@example.com,b@example.com.',
    });
    new CfnOutput(this, 'EventBusName', {
      value: this.changeEvents.bus.eventBusName,
      description: 'EventBridge bus of the change events (source vesta, detail-type vesta.StateChanged).',
    });
    new CfnOutput(this, 'SnapshotBucketName', {
      value: this.snapshots.bucket.bucketName,
      description: 'Bucket of the snapshots: snapshots/<id>/part-NNNNN.jsonl.gz and manifest.json.',
    });
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: 'Invoke URL of the API stage; requests are signed with SigV4 (service execute-api).',
    });
  }
}
