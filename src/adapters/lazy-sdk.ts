/**
 * The AWS SDK packages that only some paths of a function need (Step Functions, Lambda, S3 and
 * its multipart upload, EventBridge), loaded when first used instead of at the function's init.
 * Each such package adds 10 to 50 ms to a cold start even after DynamoDB's (they share the SDK's
 * core), and e.g. a record request of the API needs none of them. The SDK is left out of the
 * bundles (the Lambda runtime provides it), so each `require` below stays where it is written and
 * runs only when its loader is called.
 *
 * The types come from `typeof import(...)`, which loads nothing at run time.
 */

/** The value that `make` returns at the first call, and the same value at every call after. */
export function once<T>(make: () => T): () => T {
  let made: { readonly value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}

/** A client as it is, or how to make it when it is first used. */
export type ClientSource<C extends object> = C | (() => C);

/** `source`'s client: made at the first call when `source` says how, else `source` itself. */
export function clientOf<C extends object>(source: ClientSource<C>): () => C {
  return typeof source === 'function' ? once(source as () => C) : () => source;
}

export type SfnSdk = typeof import('@aws-sdk/client-sfn');
export type LambdaSdk = typeof import('@aws-sdk/client-lambda');
export type S3Sdk = typeof import('@aws-sdk/client-s3');
export type S3UploadSdk = typeof import('@aws-sdk/lib-storage');
export type EventBridgeSdk = typeof import('@aws-sdk/client-eventbridge');

/** Each package's loader: loads it at the first call. */
export const sfnSdk = once((): SfnSdk => require('@aws-sdk/client-sfn'));
export const lambdaSdk = once((): LambdaSdk => require('@aws-sdk/client-lambda'));
export const s3Sdk = once((): S3Sdk => require('@aws-sdk/client-s3'));
export const s3UploadSdk = once((): S3UploadSdk => require('@aws-sdk/lib-storage'));
export const eventBridgeSdk = once((): EventBridgeSdk => require('@aws-sdk/client-eventbridge'));
