/**
 * Deployment stages (`dev`, `test`, `prod`, ...). The stage names the stack (`Vesta-<stage>`),
 * prefixes the physical table names (`vesta-<stage>-records`) and names the API Gateway stage.
 */
import { RemovalPolicy, Token } from 'aws-cdk-lib';

/** The stage whose tables and logs outlive the stack by default. */
export const PRODUCTION_STAGE = 'prod';

/**
 * Lowercase letter first, then lowercase letters, digits and hyphens; at most 20 characters.
 * Valid at once in stack names, DynamoDB table names and API Gateway stage names.
 */
export const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/** Whether a stage keeps its data when the stack or a resource is deleted, unless told otherwise. */
export function retainsByDefault(stage: string): boolean {
  return stage === PRODUCTION_STAGE;
}

/** `RETAIN` when a resource is kept once it leaves the stack, else `DESTROY`. Never throws. */
export function removalPolicyOf(retain: boolean): RemovalPolicy {
  return retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

/**
 * Checks a stage name. Throws an `Error` that echoes the received value when it does not match
 * `STAGE_PATTERN`; unresolved tokens are accepted as they are.
 */
export function validateStage(stage: string): void {
  if (Token.isUnresolved(stage)) return;
  if (!STAGE_PATTERN.test(stage)) {
    throw new Error(
      `stage must start with a lowercase letter and hold only lowercase letters, digits and hyphens, at most 20 characters. Received: ${JSON.stringify(stage)}`,
    );
  }
}
