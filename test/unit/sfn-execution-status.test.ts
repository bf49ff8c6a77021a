/**
 * What the renewer makes of Step Functions' answers. There is no local Step Functions to describe
 * executions against, so the client is a stand-in that answers as the service does.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { SfnExecutionStatus } from '../../src/adapters/sfn/execution-status';

const answering = (answer: () => Promise<unknown>) => new SfnExecutionStatus({ send: answer } as unknown as SFNClient);
const failing = (name: string) => answering(() => Promise.reject(Object.assign(new Error(name), { name })));
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:other-team-machine:run-1';

test('a running execution is RUNNING', async () => {
  expect(await answering(() => Promise.resolve({ status: 'RUNNING' })).status(ARN)).toBe('RUNNING');
});

test.each(['AccessDeniedException', 'ExecutionDoesNotExist', 'InvalidArn'])(
  '%s (an execution of another state machine, a gone or malformed one) is UNKNOWN: its lease is left to expire, the run goes on',
  async (name) => {
    expect(await failing(name).status(ARN)).toBe('UNKNOWN');
  },
);

test('throttling and other failures are thrown: the run fails and the next one tries again', async () => {
  await expect(failing('ThrottlingException').status(ARN)).rejects.toThrow('ThrottlingException');
});
