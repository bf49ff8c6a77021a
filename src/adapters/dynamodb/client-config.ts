/**
 * How every DynamoDB and Step Functions client of Vesta waits and retries, so that a store that is down or unreachable
 * is answered `503 Unavailable` in bounded time instead of hanging a request.
 *
 * - A connection must be made within 2 s and a request must not sit idle for more than 5 s;
 *   either is a `TimeoutError`, which the SDK retries like a dropped connection.
 * - 3 attempts in all, with the SDK's own backoff (exponential with jitter, from 100 ms).
 *
 * So the slowest failure is about 3 × 7 s plus backoff: well inside API Gateway's 29 s, and a
 * refused connection (the local stack's DynamoDB Local restarting) fails in well under a second.
 */
export const DYNAMODB_CLIENT_DEFAULTS = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 2000, requestTimeout: 5000 },
} as const;
