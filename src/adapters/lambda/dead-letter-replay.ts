/**
 * Replays in AWS: the API reads the entry, then invokes the function of the entry's source
 * (synchronously, `{"action": "replayDeadLetter", "id"}`), which replays it with its own code and
 * permissions and answers the outcome. So the API function needs `lambda:InvokeFunction` on those
 * six functions, not every permission of every background path.
 */
import type { InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DEAD_LETTER_SOURCES,
  type DeadLetterSource,
  type ReplayOutcome,
  type ReplayResponse,
  isDeadLetterId,
} from '../../core/dead-letters';
import { NotFoundError, ThrottledError, UnavailableError, ValidationError } from '../../core/errors';
import { parseJson } from '../../core/json';
import type { DeadLetterReplay, DeadLetterStore } from '../../core/ports';
import { type ClientSource, clientOf, lambdaSdk } from '../lazy-sdk';

/** The environment variable that names each source's function (set by the CDK stack on the API function). */
export const REPLAY_FUNCTION_ENV: Readonly<Record<DeadLetterSource, string>> = {
  publisher: 'VESTA_PUBLISHER_FUNCTION',
  snapshot: 'VESTA_SNAPSHOT_EXPORT_FUNCTION',
  restore: 'VESTA_SNAPSHOT_RESTORE_FUNCTION',
  reaper: 'VESTA_LEASE_REAPER_FUNCTION',
  renewer: 'VESTA_LEASE_RENEWER_FUNCTION',
  sweeper: 'VESTA_FIELD_SWEEPER_FUNCTION',
};

/** The function names from the environment. Throws an `Error` naming the first variable missing. */
export function replayFunctions(env: Readonly<Record<string, string | undefined>>): Record<DeadLetterSource, string> {
  return Object.fromEntries(
    DEAD_LETTER_SOURCES.map((source) => {
      const name = env[REPLAY_FUNCTION_ENV[source]];
      if (!name)
        throw new Error(`environment variable ${REPLAY_FUNCTION_ENV[source]} (the ${source} function) is not set`);
      return [source, name];
    }),
  ) as Record<DeadLetterSource, string>;
}

/** Turns an error a function answered back into the domain's (by name); others become an `Error`. */
function errorFrom(e: { name: string; message: string }): Error {
  if (e.name === 'NotFoundError') return new NotFoundError(e.message);
  if (e.name === 'ValidationError') return new ValidationError('id', e.message.replace(/^id: /, ''));
  if (e.name === 'ThrottledError') return new ThrottledError(e.message);
  if (e.name === 'UnavailableError') return new UnavailableError(e.message);
  return Object.assign(new Error(e.message), { name: e.name });
}

export class LambdaDeadLetterReplay implements DeadLetterReplay {
  private readonly client: () => LambdaClient;

  /** @param client the client, or how to make it at the first replay (the Lambda SDK is loaded then) */
  public constructor(
    client: ClientSource<LambdaClient>,
    private readonly store: DeadLetterStore,
    private readonly functions: () => Record<DeadLetterSource, string>,
  ) {
    this.client = clientOf(client);
  }

  public async replay(id: string): Promise<ReplayOutcome> {
    const entry = isDeadLetterId(id) ? await this.store.get(id) : undefined;
    if (!entry) throw new NotFoundError(`no dead letter ${id}`);
    const { InvokeCommand } = lambdaSdk();
    let out: InvokeCommandOutput;
    try {
      out = await this.client().send(
        new InvokeCommand({
          FunctionName: this.functions()[entry.source],
          Payload: Buffer.from(JSON.stringify({ action: 'replayDeadLetter', id })),
        }),
      );
    } catch (e) {
      const name = (e as { name?: string }).name ?? '';
      if (/Throttl|TooManyRequests/.test(name))
        throw new ThrottledError(`the ${entry.source} function is throttled; replay later`, 1, { cause: e });
      throw new UnavailableError(`the ${entry.source} function could not be invoked`, 2, { cause: e });
    }
    const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
    if (out.FunctionError)
      throw new Error(`the ${entry.source} function failed while replaying ${id}: ${text.slice(0, 500)}`);
    const answer = parseJson(text, Infinity) as ReplayResponse;
    if ('error' in answer) throw errorFrom(answer.error);
    return answer;
  }
}
