/**
 * How every DynamoDB and Step Functions client of Vesta waits and retries, so that a store that is down or unreachable
 * is answered `503 Unavailable` in bounded time instead of hanging a request.
 *
 * - A connection must be made within 2 s and a request must not take more than 5 s; either is a
 *   `TimeoutError` (`throwOnRequestTimeout`: without it the SDK only logs a warning and waits on),
 *   which the SDK retries like a dropped connection.
 * - 3 attempts in all, with the SDK's own backoff (exponential with jitter, from 100 ms).
 *
 * So a hung store is answered after about 15 s (3 × 5 s, measured), inside API Gateway's 29 s;
 * a refused connection (the local stack's DynamoDB Local restarting) in well under a second.
 */
export const DYNAMODB_CLIENT_DEFAULTS = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 2000, requestTimeout: 5000, throwOnRequestTimeout: true },
} as const;
