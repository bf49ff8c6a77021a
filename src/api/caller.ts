/**
 * Who is calling. In AWS every method uses IAM authorization, so API Gateway puts the signing
 * principal's ARN in `requestContext.identity.userArn` (an IAM user, or an assumed-role session
 * `arn:aws:sts::<account>:assumed-role/<role>/<session>`); no header a client sets can change it.
 * The local gateway has no IAM: it maps the `X-Vesta-Caller` header into the same identity fields,
 * so the handlers read the caller from one place in both.
 *
 * A caller is anonymous when the identity carries no principal: locally, a request without
 * `X-Vesta-Caller` (or with an empty one). All anonymous requests are one caller. In AWS an
 * anonymous request cannot reach the function (IAM authorization refuses it first).
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';

/** The local gateway's stand-in for the IAM principal. */
export const CALLER_HEADER = 'x-vesta-caller';

/** The caller's principal, or `null` for the anonymous caller. Never throws. */
export function callerOf(event: APIGatewayProxyEvent): string | null {
  const arn = event.requestContext?.identity?.userArn;
  return typeof arn === 'string' && arn.length > 0 ? arn : null;
}

/**
 * The identity fields the local gateway sets from the value of `X-Vesta-Caller` (`undefined` when
 * the header is absent): the principal in `userArn`, `caller` and `user`, as API Gateway fills
 * them for a signed request; all `null` for the anonymous caller. Never throws.
 */
export function localIdentity(header: string | undefined): {
  userArn: string | null;
  caller: string | null;
  user: string | null;
} {
  const principal = header?.trim() || null;
  return { userArn: principal, caller: principal, user: principal };
}
