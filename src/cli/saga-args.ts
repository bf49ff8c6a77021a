/**
 * Pure parts of the saga commands: what `saga start` sends, the poll interval, the lines
 * `saga watch` prints for each change it sees and the exit code of a finished saga. Nothing here
 * reads files or the network.
 */
import type { SagaStatus, Saga as SagaView, SagaStep as StepView } from '../client';
import { type OptionValues, flag, str } from './options';
import { UsageError } from './errors';

export type { SagaView, StepView };

/** How a saga ends. */
export type EndedStatus = Exclude<SagaStatus, 'RUNNING'>;

/**
 * The exit code of `saga start --wait` and `saga watch` for each way a saga ends; apart from the
 * codes of every command (1 the API answered with an error or could not be reached, 2 usage).
 */
export const SAGA_EXIT_CODES: Readonly<Record<EndedStatus, number>> = {
  SUCCEEDED: 0,
  COMPENSATED: 3,
  COMPENSATION_FAILED: 4,
};

/** The exit code when Ctrl-C stops the wait before the saga ended (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** The pause between polls of `saga watch` and `saga start --wait`, in milliseconds. */
export const DEFAULT_POLL_INTERVAL_MS = 500;

/** The words after `--transfer`. */
export const TRANSFER_ARGS = ['ns', 'from', 'to', 'field', 'amount'] as const;

const WHOLE = /^[0-9]+$/;
const AMOUNT = /^[0-9]+(\.[0-9]+)?$/;

/** Where the saga to start comes from. */
export type StartSource =
  /** A JSON body read from a file, or from standard input when `path` is `-`. */
  | { readonly kind: 'file'; readonly path: string }
  /** The built-in transfer, from the five words after `--transfer`. */
  | { readonly kind: 'transfer'; readonly args: readonly string[] };

/**
 * Decides from `--file` / `--transfer` and the positionals what `saga start` sends.
 * Throws `UsageError` when neither or both are given, when `--transfer` is not followed by
 * exactly `<ns> <from> <to> <field> <amount>`, or when `--file` comes with positionals.
 */
export function parseStartSource(positionals: readonly string[], values: OptionValues): StartSource {
  const file = str(values, 'file');
  const transfer = flag(values, 'transfer');
  if (file !== undefined && transfer) throw new UsageError('give either --file or --transfer, not both', 'saga start');
  if (transfer) {
    if (positionals.length !== TRANSFER_ARGS.length) {
      const expected = TRANSFER_ARGS.map((a) => `<${a}>`).join(' ');
      throw new UsageError(`--transfer expects ${expected}; received ${positionals.length} argument(s)`, 'saga start');
    }
    return { kind: 'transfer', args: positionals };
  }
  if (file === undefined) {
    throw new UsageError(
      'saga start needs --file <saga.json> (or --file - for standard input) or --transfer <ns> <from> <to> <field> <amount>',
      'saga start',
    );
  }
  if (file === '') throw new UsageError('--file expects a path, or - for standard input', 'saga start');
  if (positionals.length > 0) {
    throw new UsageError(
      `saga start --file takes no other arguments; received ${JSON.stringify(positionals.join(' '))}`,
      'saga start',
    );
  }
  return { kind: 'file', path: file };
}

/**
 * The body of a built-in transfer from `<ns> <from> <to> <field> <amount>`. The API validates
 * the names; the amount must be a positive decimal number here.
 * Throws `UsageError` when there are not five words or the amount is not a positive number.
 */
export function transferBody(args: readonly string[]): Record<string, unknown> {
  if (args.length !== TRANSFER_ARGS.length)
    throw new UsageError(`--transfer expects 5 arguments; received ${args.length}`, 'saga start');
  const [namespace, from, to, field, text] = args;
  const amount = AMOUNT.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(amount) || amount <= 0) {
    throw new UsageError(
      `--transfer <amount> expects a positive number. Received: ${JSON.stringify(text)}`,
      'saga start',
    );
  }
  return { type: 'transfer', input: { namespace, from, to, field, amount } };
}

/**
 * `body` with `id` set when `--id` was given (replacing any id of the body), else unchanged.
 * Throws `UsageError` for an empty `--id`; the API validates the rest.
 */
export function withSagaId(body: Record<string, unknown>, id: string | undefined): Record<string, unknown> {
  if (id === undefined) return body;
  if (id === '') throw new UsageError('--id expects a saga id: 1 to 80 letters, digits, ".", "_" or "-"', 'saga start');
  return { ...body, id };
}

/**
 * Parses `--interval <ms>`: a positive whole number of milliseconds, the default when absent.
 * Throws `UsageError` otherwise.
 */
export function parsePollInterval(text: string | undefined): number {
  if (text === undefined) return DEFAULT_POLL_INTERVAL_MS;
  const ms = WHOLE.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new UsageError(`--interval expects a whole number of milliseconds. Received: ${JSON.stringify(text)}`);
  }
  return ms;
}

/** The exit code of a saga that ended with `status`. Never throws. */
export function sagaExitCode(status: EndedStatus): number {
  return SAGA_EXIT_CODES[status];
}

function why(step: StepView): string {
  if ((step.status !== 'FAILED' && step.status !== 'COMPENSATION_FAILED') || !step.error) return '';
  return ` (${step.error.error}: ${step.error.cause})`;
}

function stepLabel(index: number, step: StepView): string {
  return `step ${index} ${step.name}`;
}

/**
 * The lines `saga watch` prints on seeing `after`, having seen `before` (undefined on the first
 * poll): one per step whose status changed (`step 1 credit: PENDING -> DONE`, with the error for
 * FAILED and COMPENSATION_FAILED), then one if the saga's status changed. On the first poll:
 * the saga's status and each step that is no longer PENDING, as they stand. Steps are numbered
 * from 0, as the API numbers them. Never throws.
 */
export function sagaChanges(before: SagaView | undefined, after: SagaView): string[] {
  if (!before) {
    const header = `saga ${after.id} (${after.type}, namespace ${after.namespace}, ${after.steps.length} steps): ${after.status}`;
    const advanced = after.steps.flatMap((s, i) =>
      s.status === 'PENDING' ? [] : [`${stepLabel(i, s)}: ${s.status}${why(s)}`],
    );
    return [header, ...advanced];
  }
  const lines = after.steps.flatMap((s, i) => {
    const was = before.steps[i]?.status ?? 'PENDING';
    return s.status === was ? [] : [`${stepLabel(i, s)}: ${was} -> ${s.status}${why(s)}`];
  });
  if (after.status !== before.status) lines.push(`saga ${after.id}: ${before.status} -> ${after.status}`);
  return lines;
}

/** The last line of `saga watch`: how the saga ended and when. Never throws. */
export function finalLine(saga: SagaView): string {
  return `saga ${saga.id} ended ${saga.status}${saga.finishedAt ? ` at ${saga.finishedAt}` : ''}`;
}
