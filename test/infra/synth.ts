/**
 * Builds a Vesta stack the way bin/app.ts does (cdk-nag AwsSolutions checks included) into a
 * fresh cloud assembly folder under the temp dir, which test/env.ts points into .cache.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { VestaStack, type VestaStackProps } from '../../lib/stacks/vesta-stack';

export interface SynthOptions {
  /** Bundle the Lambda code with esbuild (about a second); otherwise a placeholder asset. */
  readonly bundle?: boolean;
  /** Context values of the app, e.g. `{ regions: '["eu-west-1","us-east-1"]' }`. */
  readonly context?: Record<string, unknown>;
}

export interface Synthesized {
  readonly stack: VestaStack;
  readonly template: Template;
  /** The cloud assembly folder. */
  readonly outdir: string;
  /** Removes the cloud assembly folder. */
  readonly dispose: () => void;
}

export function synthesize(props: Partial<VestaStackProps> = {}, opts: SynthOptions = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk.out-infra-'));
  const app = new App({
    outdir,
    context: { ...(opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }), ...opts.context },
  });
  const stage = props.stage ?? 'dev';
  const stack = new VestaStack(app, `Vesta-${stage}`, { ...props, stage });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  const template = Template.fromStack(stack);
  return { stack, template, outdir, dispose: () => rmSync(outdir, { recursive: true, force: true }) };
}

type CfnResource = {
  Type: string;
  Properties?: any;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Metadata?: any;
};

/** All resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

/** A stack in an app that skips bundling, for tests of a single construct. */
export function bareStack(): Stack {
  return new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Bare');
}
