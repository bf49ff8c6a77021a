/**
 * The CDK app: one Vesta stack for the stage given as context (`cdk synth -c stage=prod`),
 * checked by cdk-nag's AwsSolutions rules. Account and Region come from context
 * (`-c account=123456789012 -c region=eu-west-1`), else from the credentials the CLI uses
 * (CDK_DEFAULT_ACCOUNT, with CDK_DEFAULT_REGION from AWS_REGION or the profile); when neither
 * says, the stack is environment-agnostic, which is how it synthesizes without an account.
 */
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { VestaStack } from '../lib/stacks/vesta-stack';

const app = new App();
const stage: string = app.node.tryGetContext('stage') ?? 'dev';
const account: string | undefined = app.node.tryGetContext('account') ?? process.env.CDK_DEFAULT_ACCOUNT;
// Without credentials the CLI still says us-east-1, a default rather than a choice: it counts only
// with the account the credentials give.
const region: string | undefined =
  app.node.tryGetContext('region') ?? (process.env.CDK_DEFAULT_ACCOUNT ? process.env.CDK_DEFAULT_REGION : undefined);

new VestaStack(app, `Vesta-${stage}`, {
  stage,
  env: account || region ? { account, region } : undefined,
  description: `Vesta state service (${stage})`,
});
Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
