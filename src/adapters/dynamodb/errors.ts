/**
 * Turns AWS SDK errors into domain errors. Condition failures are handled where they happen;
 * what reaches here is throttling, an unreachable store, or an item-size limit.
 */
import { PayloadTooLargeError, ThrottledError, UnavailableError, VestaError } from '../../core/errors';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
]);
const UNAVAILABLE = new Set(['ServiceUnavailable', 'InternalServerError', 'ResourceNotFoundException', 'TimeoutError']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

export function errorName(e: unknown): string {
  return (e as { name?: string })?.name ?? '';
}

export function isConditionFailure(e: unknown): boolean {
  return errorName(e) === 'ConditionalCheckFailedException';
}

/** DynamoDB's answer to an update whose operand has the wrong type (e.g. `+` on a string). */
export function isOperandTypeError(e: unknown): boolean {
  return (
    errorName(e) === 'ValidationException' &&
    /incorrect (data|operand) type|operand type/i.test(String((e as Error).message))
  );
}

/** DynamoDB's answer to a number it cannot hold (more than 38 digits, overflow, underflow). */
export function isNumberRangeError(e: unknown): boolean {
  return (
    errorName(e) === 'ValidationException' &&
    /precision|number overflow|number underflow|magnitude/i.test(String((e as Error).message))
  );
}

/** Maps an SDK failure to a domain error; returns other errors unchanged (they are bugs: 500). */
export function translate(e: unknown): unknown {
  if (e instanceof VestaError) return e;
  const name = errorName(e);
  const message = String((e as Error)?.message ?? e);
  if (THROTTLING.has(name)) return new ThrottledError('the store throttled the request; retry later', 1, { cause: e });
  const code = (e as { code?: string })?.code ?? '';
  if (UNAVAILABLE.has(name) || NETWORK.has(code) || NETWORK.has(name) || /ECONNREFUSED|socket hang up/.test(message)) {
    return new UnavailableError('the store is unavailable; nothing was written', 2, { cause: e });
  }
  if (name === 'ValidationException' && /item size|maximum allowed size/i.test(message)) {
    return new PayloadTooLargeError('the record would exceed the store item size limit', { cause: e });
  }
  return e;
}

/** Runs a store call, translating its failures. */
export async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw translate(e);
  }
}

/**
 * The domain error of the first SDK failure in `e`'s chain of causes (at most five deep), e.g.
 * under a library's own error that wraps it; `undefined` when none maps to one.
 */
export function translateCause(e: unknown): VestaError | undefined {
  for (let c: unknown = e, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    const t = translate(c);
    if (t instanceof VestaError) return t;
  }
  return undefined;
}
