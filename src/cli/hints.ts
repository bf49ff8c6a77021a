/**
 * How the CLI reports failures on standard error: one `error:` line, then a `hint:` line saying
 * what to do next.
 */
import { ApiError, LeaseLostError, NetworkError, type Problem, UsageError } from './errors';

const GRANT = '`vesta lease grant --ttl <seconds>`';

function preconditionHint(e: ApiError, command?: string): string {
  const { failed } = e.problem;
  if (command === 'txn') {
    const which = Array.isArray(failed) ? `require entries ${JSON.stringify(failed)}` : 'the require entries';
    return `${which} did not hold and nothing was written; re-read those keys and retry with fresh ETags`;
  }
  if (Array.isArray(failed)) {
    return `the --require conditions did not hold on the record as it stands; read it with \`vesta get\` before retrying${e.etag ? ` (current ETag: ${e.etag})` : ''}`;
  }
  if (e.etag) return `the record changed; re-read it and retry with the new ETag (current ETag: ${e.etag})`;
  return 'the record changed or no longer exists; re-read it and retry with the new ETag, or without --if-match';
}

function holderOf(problem: Problem): string {
  const holder = problem.holder as { leaseId?: unknown; expiresAt?: unknown } | undefined;
  if (!holder || typeof holder !== 'object') return 'another lease holds the lock';
  const until = typeof holder.expiresAt === 'string' ? ` until ${holder.expiresAt} unless it is kept alive` : '';
  return `lease ${String(holder.leaseId)} holds the lock${until}`;
}

function conflictHint(problem: Problem): string {
  const { reason } = problem;
  switch (reason) {
    case 'SiblingsPresent':
    case 'SiblingLimit':
      return 'the record has concurrent versions; read them with `vesta get` and resolve them with `vesta put --if-match <that ETag>`';
    case 'RequestInProgress':
      return 'the same idempotency key is still being processed; retry in a moment';
    case 'SnapshotNotComplete':
      return 'only a COMPLETE snapshot can be restored; see its status with `vesta snapshot get <id>`, or take one with `vesta snapshot create --wait`';
    case 'LockHeld':
      return `${holderOf(problem)}; retry after it is released or its lease expires`;
    case 'LeaseNotFound':
      return `the lease has expired, was revoked or never existed; grant a new lease with ${GRANT}`;
    case 'FencingTokenStale':
      return 'you no longer hold the lock and nothing was written; stop and re-acquire it with `vesta lock acquire`, then use the new token';
    case 'LockNotHeld':
      return 'this lease does not hold the lock (another one does, or it was released or expired); nothing was changed';
    default:
      return `the write conflicts with the current state${typeof reason === 'string' ? ` (${reason})` : ''}; inspect it and retry`;
  }
}

function notFoundHint(command?: string): string {
  if (command?.startsWith('saga ')) return 'that saga does not exist; check the id against the one `vesta saga start` printed';
  if (command === 'lock release') return 'nobody holds that lock: it was released, or its lease expired or was revoked';
  if (command?.startsWith('lease ') || command === 'lock acquire') {
    return `the lease has expired, was revoked or never existed; grant a new lease with ${GRANT}`;
  }
  if (command === 'snapshot restore-status') return 'no restore has that id; restore ids (rest-...) are printed by `vesta snapshot restore`';
  if (command?.startsWith('snapshot ')) return 'no snapshot has that id; `vesta snapshot list` lists them (snap-...)';
  return 'check the namespace and key; `vesta ls <ns>` lists the keys that exist';
}

/**
 * What to do about an error response of `command`; undefined when there is nothing useful to say.
 * Never throws.
 */
export function apiHint(e: ApiError, command?: string): string | undefined {
  const { status, code } = e.problem;
  switch (code) {
    case 'PreconditionFailed':
      return preconditionHint(e, command);
    case 'NotFound':
      return notFoundHint(command);
    case 'ValidationError':
      if (command === 'saga start') return 'the saga was rejected as malformed; fix the field named above (see `vesta saga start --help`)';
      return 'the request was rejected as malformed; fix the field named above (see `vesta <command> --help`)';
    case 'Conflict':
      return conflictHint(e.problem);
    case 'TypeMismatch':
      return '--incr only works on fields holding numbers; use --set to replace the value';
    case 'IdempotencyKeyReused':
      return 'that idempotency key was used for a different request; use a new --idempotency-key';
    case 'PayloadTooLarge':
      return 'request bodies are limited to 256 KiB and records to 350 KiB';
    case 'Throttled':
    case 'Unavailable':
      return `nothing was written; retry${e.retryAfter ? ` after ${e.retryAfter} s` : ' later'}`;
    default:
      return status >= 500 ? 'this is a server bug; report it with the request id above' : undefined;
  }
}

/** Formats any failure of `command` for standard error, ending with a newline. Never throws. */
export function describeError(e: unknown, command?: string): string {
  if (e instanceof ApiError) {
    const hint = apiHint(e, command);
    const detail = e.problem.detail ?? e.problem.title ?? '';
    return `error: ${e.problem.code} (${e.problem.status}): ${detail}\n${hint ? `hint: ${hint}\n` : ''}`;
  }
  if (e instanceof LeaseLostError) {
    return `error: ${e.message}\nhint: records written with the lease are gone and its locks are free for others; stop work that relied on them, then grant a new lease and re-acquire its locks\n`;
  }
  if (e instanceof NetworkError) {
    return `error: ${e.message}\nhint: start the local stack with \`npm start\`, or point --url (or VESTA_URL) at a running Vesta API\n`;
  }
  if (e instanceof UsageError) {
    const help = (e.command ?? command) ? `vesta ${e.command ?? command} --help` : 'vesta --help';
    return `error: ${e.message}\nhint: see \`${help}\`\n`;
  }
  return `error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`;
}
