/**
 * The CDK app: one Vesta stack for the stage given as context (`cdk synth -c stage=prod`),
 * checked by cdk-nag's AwsSolutions rules. Synthesizes without an AWS account: when
 * CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION are unset the stack is environment-agnostic.
 */
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { VestaStack } from '../lib/stacks/vesta-stack';

const app = new App();
const stage: string = app.node.tryGetContext('stage') ?? 'dev';
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;

new VestaStack(app, `Vesta-${stage}`, {
  stage,
  env: account || region ? { account, region } : undefined,
  description: `Vesta state service (${stage})`,
});
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
