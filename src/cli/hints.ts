/**
 * How the CLI reports failures on standard error: one `error:` line with the problem's `detail`,
 * then a `hint:` line saying what to do next, from the client's typed errors.
 */
import {
  ApiError,
  ConflictError,
  NetworkError,
  PreconditionFailedError,
  RegionUnavailableError,
  apiError,
} from '../client';
import { ConfigError, LeaseLostError, SigningError, UsageError } from './errors';

const GRANT = '`vesta lease grant --ttl <seconds>`';

function preconditionHint(e: PreconditionFailedError, command?: string): string {
  const listed = Array.isArray(e.problem.failed);
  if (command === 'txn') {
    const which = listed ? `require entries ${JSON.stringify(e.failed)}` : 'the require entries';
    return `${which} did not hold and nothing was written; re-read those keys and retry with fresh ETags`;
  }
  if (/\b(?:expire|persist) names field\b/.test(e.detail)) {
    return '--expire and --persist name only fields the record has after the write; nothing was written (see the fields with `vesta ttl <ns> <key>`, or --set the field in the same patch)';
  }
  if (listed) {
    return `the --require conditions did not hold on the record as it stands; read it with \`vesta get\` before retrying${e.etag ? ` (current ETag: ${e.etag})` : ''}`;
  }
  const rev = e.current ? `, rev ${e.current.rev}` : '';
  if (e.etag) return `the record changed; re-read it and retry with the new ETag (current ETag: ${e.etag}${rev})`;
  return 'the record changed or no longer exists; re-read it and retry with the new ETag, or without --if-match';
}

function holderOf(e: ConflictError): string {
  const holder = e.holder;
  if (!holder || typeof holder !== 'object') return 'another lease holds the lock';
  const until = typeof holder.expiresAt === 'string' ? ` until ${holder.expiresAt} unless it is kept alive` : '';
  const token = typeof holder.fencingToken === 'number' ? ` with fencing token ${holder.fencingToken}` : '';
  return `another lease holds the lock${token}${until}`;
}

function conflictHint(e: ConflictError): string {
  const { reason } = e;
  switch (reason) {
    case 'SiblingsPresent':
    case 'SiblingLimit':
      return 'the record has concurrent versions; read them with `vesta get` and resolve them with `vesta put --if-match <that ETag>`';
    case 'RequestInProgress':
      return 'the same idempotency key is still being processed; retry in a moment';
    case 'SnapshotNotComplete':
      return 'only a COMPLETE snapshot can be restored; see its status with `vesta snapshot get <id>`, or take one with `vesta snapshot create --wait`';
    case 'LockHeld':
      return `${holderOf(e)}; retry after it is released or its lease expires`;
    case 'LeaseNotFound':
      return `the lease has expired, was revoked or never existed; grant a new lease with ${GRANT}`;
    case 'FencingTokenStale':
      return 'you no longer hold the lock and nothing was written; stop and re-acquire it with `vesta lock acquire`, then use the new token';
    case 'SagaIdReused':
      return 'a saga with this id already exists with another definition and nothing was started; start yours under another id, or see that one with `vesta saga get <id>`';
    case 'SnapshotIdReused':
      return 'this deployment has another snapshot under that id and nothing was imported; compare it with `vesta snapshot get <id>`';
    case 'LockNotHeld':
      return 'this lease does not hold the lock (another one does, or it was released or expired); nothing was changed';
    default:
      return `the write conflicts with the current state${reason ? ` (${reason})` : ''}; inspect it and retry`;
  }
}

function notFoundHint(command?: string): string {
  if (command?.startsWith('saga '))
    return 'that saga does not exist; check the id against the one `vesta saga start` printed';
  if (command === 'lock release') return 'nobody holds that lock: it was released, or its lease expired or was revoked';
  if (command?.startsWith('lease ') || command === 'lock acquire') {
    return `the lease has expired, was revoked or never existed; grant a new lease with ${GRANT}`;
  }
  if (command === 'snapshot import')
    return 'nothing is at that location; give the folder (or s3://<bucket>/<prefix>) that holds snapshots/<id>/manifest.json';
  if (command === 'snapshot restore-status')
    return 'no restore has that id; restore ids (rest-...) are printed by `vesta snapshot restore`';
  if (command?.startsWith('snapshot ')) return 'no snapshot has that id; `vesta snapshot list` lists them (snap-...)';
  return 'check the namespace and key; `vesta ls <ns>` lists the keys that exist';
}

/**
 * What to do about an error response of `command`; undefined when there is nothing useful to say.
 * Never throws.
 */
export function apiHint(error: ApiError, command?: string): string | undefined {
  // The client throws the class of each problem code; one built from a bare problem gets it here.
  const e = error.constructor === ApiError ? apiError(error.problem, error.etag, error.retryAfterSeconds) : error;
  const { status, code } = e;
  if (e instanceof PreconditionFailedError) return preconditionHint(e, command);
  if (e instanceof ConflictError) return conflictHint(e);
  switch (code) {
    case 'NotFound':
      return notFoundHint(command);
    case 'ValidationError':
      if (command === 'saga start')
        return 'the saga was rejected as malformed; fix the field named above (see `vesta saga start --help`)';
      return 'the request was rejected as malformed; fix the field named above (see `vesta <command> --help`)';
    case 'TypeMismatch':
      return '--incr only works on fields holding numbers; use --set to replace the value';
    case 'SnapshotDamaged':
      return 'that snapshot does not match its manifest and nothing was imported; copy it again from a good source, or move it out of the location to import the others';
    case 'IdempotencyKeyReused':
      return 'that idempotency key was used for a different request; use a new --idempotency-key';
    case 'PayloadTooLarge':
      return 'request bodies are limited to 256 KiB and records to 350 KiB';
    case 'Throttled':
    case 'Unavailable':
      return `nothing was written; retry${e.retryAfterSeconds !== undefined ? ` after ${Math.ceil(e.retryAfterSeconds)} s` : ' later'}`;
    default:
      return status >= 500 ? 'this is a server bug; report it with the request id above' : undefined;
  }
}

/** Formats any failure of `command` for standard error, ending with a newline. Never throws. */
export function describeError(e: unknown, command?: string): string {
  if (e instanceof ApiError) {
    const hint = apiHint(e, command);
    const detail = e.detail || (e.problem.title ?? '');
    return `error: ${e.code} (${e.status}): ${detail}\n${hint ? `hint: ${hint}\n` : ''}`;
  }
  if (e instanceof LeaseLostError) {
    return `error: ${e.message}\nhint: records written with the lease are gone and its locks are free for others; stop work that relied on them, then grant a new lease and re-acquire its locks\n`;
  }
  if (e instanceof RegionUnavailableError) {
    return `error: ${e.message}\nhint: try again later, or grant a new lease in another Region (--region) and re-acquire its locks there\n`;
  }
  if (e instanceof NetworkError) {
    const hint = isLocal(e.url)
      ? 'start the local stack with `npm start`, or point --url (or VESTA_URL, or `vesta config set url`) at a running Vesta API'
      : 'check the URL (`vesta config get url`) and that the stack is deployed and reachable from here';
    return `error: ${e.message}\nhint: ${hint}\n`;
  }
  if (e instanceof ConfigError) {
    return `error: ${e.message}\nhint: fix the file, or remove it and set the URL again with \`vesta config set url <url>\`\n`;
  }
  if (e instanceof SigningError || isSigningError(e)) {
    const profile = e instanceof SigningError ? e.profile : undefined;
    const source = profile ? `AWS profile "${profile}"` : 'the default AWS credential chain (no profile given)';
    return `error: cannot sign the request for the deployed API with ${source}: ${(e as Error).message}\nhint: ${SIGNING_HINT}\n`;
  }
  if (e instanceof UsageError) {
    const help = (e.command ?? command) ? `vesta ${e.command ?? command} --help` : 'vesta --help';
    return `error: ${e.message}\nhint: see \`${help}\`\n`;
  }
  return `error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`;
}

const SIGNING_HINT =
  'requests to an execute-api URL are signed with AWS credentials from the default chain: sign in (`aws sso login`, `aws configure`), ' +
  'pick a profile with --profile (or AWS_PROFILE, or `vesta config set profile`), and a region with --region if the URL has none';

/** Whether `url` is the local stack's (loopback). Never throws. */
function isLocal(url: string): boolean {
  try {
    return ['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * Whether `e` failed the signing of a request before it was sent: no credentials (the credential
 * chain's `CredentialsProviderError`) or no region. The client passes these on untyped.
 */
export function isSigningError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  return (
    ['CredentialsProviderError', 'TokenProviderError', 'ProviderError'].includes(e.name) ||
    e.message.startsWith('Cannot sign the request')
  );
}
