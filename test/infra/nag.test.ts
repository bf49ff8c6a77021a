import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { synthesize, type Synthesized } from './synth';

const stages: Record<string, Synthesized> = {};

beforeAll(() => {
  for (const stage of ['dev', 'prod']) stages[stage] = synthesize({ stage });
});
afterAll(() => {
  for (const s of Object.values(stages)) s.dispose();
});

describe.each(['dev', 'prod'])('cdk-nag AwsSolutions on the %s stage', (stage) => {
  test('finds no unsuppressed errors', () => {
    const s = stages[stage];
    expect(Annotations.fromStack(s.stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  test('finds no unsuppressed warnings', () => {
    const s = stages[stage];
    expect(Annotations.fromStack(s.stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  test('every suppression names its rule and gives a reason of its own', () => {
    const suppressions = Object.values(stages[stage].template.toJSON().Resources as Record<string, any>).flatMap(
      (r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? [],
    );
    expect(suppressions.length).toBeGreaterThan(0);
    for (const sup of suppressions) {
      expect(sup.id).toMatch(/^AwsSolutions-[A-Z]+\d+$/);
      expect(sup.reason.length).toBeGreaterThan(60);
    }
    const reasons = new Map<string, string>();
    for (const sup of suppressions) {
      expect(reasons.get(sup.reason) ?? sup.id).toBe(sup.id);
      reasons.set(sup.reason, sup.id);
    }
  });
});
