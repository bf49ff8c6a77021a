/**
 * How the Step Functions workflow adapter redrives a saga's execution, against a stand-in client
 * that answers as the service does (there is no local Step Functions to redrive against).
 */
import { RedriveExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { ConflictError, ThrottledError, UnavailableError } from '../../src/core/errors';
import { SfnWorkflows } from '../../src/adapters/sfn/workflows';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:vesta-dev-saga';
const ARNS = { saga: MACHINE, transfer: `${MACHINE}-t`, snapshot: `${MACHINE}-s`, restore: `${MACHINE}-r` };

/** A client whose answers are `answers`, one per call, the last one repeated. */
function client(...answers: (string | undefined)[]) {
  const sent: unknown[] = [];
  const send = async (command: unknown) => {
    sent.push(command);
    const name = answers.length > 1 ? answers.shift() : answers[0];
    if (name) throw Object.assign(new Error(`${name}: answered`), { name });
    return {};
  };
  return { sent, workflows: new SfnWorkflows({ send } as unknown as SFNClient, ARNS) };
}

test("RedriveExecution on the saga's execution ARN", async () => {
  const { sent, workflows } = client(undefined);
  await workflows.redrive('saga', 'order-991');
  expect(sent).toHaveLength(1);
  expect(sent[0]).toBeInstanceOf(RedriveExecutionCommand);
  expect((sent[0] as RedriveExecutionCommand).input).toEqual({
    executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:vesta-dev-saga:order-991',
  });
});

test('not redrivable while it is still failing: asked again, and a later answer counts', async () => {
  const { sent, workflows } = client('ExecutionNotRedrivable', 'ExecutionNotRedrivable', undefined);
  await workflows.redrive('saga', 'order-991', 1);
  expect(sent).toHaveLength(3);
});

test('never redrivable (or no such execution): ConflictError SagaNotRetryable', async () => {
  for (const name of ['ExecutionNotRedrivable', 'ExecutionDoesNotExist']) {
    const { workflows } = client(name);
    const e = await workflows.redrive('transfer', 't-1', 1).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConflictError);
    expect((e as ConflictError).reason).toBe('SagaNotRetryable');
  }
});

test('throttled: ThrottledError; any other failure: UnavailableError', async () => {
  await expect(client('ThrottlingException').workflows.redrive('saga', 'x')).rejects.toBeInstanceOf(ThrottledError);
  await expect(client('InternalServerError').workflows.redrive('saga', 'x')).rejects.toBeInstanceOf(UnavailableError);
});
