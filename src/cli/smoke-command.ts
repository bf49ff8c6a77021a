/**
 * `vesta smoke`: the post-deploy check. One command that exercises a running stack end to end in a
 * scratch namespace, through the typed client: conditional writes, a patch, a transaction, a
 * lease, a lock and fenced writes, a saga, the change feed and a snapshot. Each step prints one
 * line with its latency; the first failure stops the run, names the step and the problem, and
 * exits 1. What the run created is cleaned up whatever happened: the scratch namespace's records
 * are deleted and the lease revoked. The saga and the snapshot stay: the API deletes neither.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { NAMESPACE_PATTERN } from '../core/name-rules';
import type { Command, CommandContext } from './command';
import { UsageError } from './errors';
import { describeError, isSigningError } from './hints';
import { waitSignal } from './io';
import { str } from './options';
import { EXIT_INTERRUPTED } from './saga-args';
import { EMPTY_NAMESPACE_STEP, SmokeCheckError, type SmokeStepState, cleanUp, steps } from './smoke-steps';

export const DEFAULT_SMOKE_TIMEOUT_SECONDS = 60;
const MAX_SMOKE_TIMEOUT_SECONDS = 3600;

/** One step as the run reports it. */
export interface SmokeStep {
  readonly name: string;
  readonly ok: boolean;
  /** How long the step took, in whole milliseconds. */
  readonly ms: number;
  /** Why it failed (the problem the API returned, or the check that did not hold); null when ok. */
  readonly error: string | null;
}

/** What `--output json|yaml` prints. */
export interface SmokeReport {
  readonly ok: boolean;
  readonly url: string;
  readonly namespace: string;
  /** The first step that failed, or null. */
  readonly failedStep: string | null;
  readonly steps: readonly SmokeStep[];
  /** What the run left behind because the API has no delete for it. */
  readonly left: { readonly saga: string | null; readonly snapshot: string | null };
}

/** A default scratch namespace: `smoke-<yyyymmdd>-<hhmmss>-<6 hex>`, valid per the contract's rule. Never throws. */
export function scratchNamespace(now: Date = new Date()): string {
  const iso = now.toISOString();
  const day = iso.slice(0, 10).replaceAll('-', '');
  const time = iso.slice(11, 19).replaceAll(':', '');
  return `smoke-${day}-${time}-${randomBytes(3).toString('hex')}`;
}

/** `--namespace`, checked against the contract's rule, or a fresh scratch name. Throws `UsageError`. */
function parseNamespace(value: string | undefined): string {
  if (value === undefined) return scratchNamespace();
  if (!NAMESPACE_PATTERN.test(value))
    throw new UsageError(
      `--namespace must match ${NAMESPACE_PATTERN.source} (lowercase letters, digits, ".", "_", "-"; at most 63). Received: ${JSON.stringify(value)}`,
      'smoke',
    );
  return value;
}

/** `--timeout` in seconds (above 0, at most 3600), or the default. Throws `UsageError`. */
function parseTimeout(value: string | undefined): number {
  if (value === undefined) return DEFAULT_SMOKE_TIMEOUT_SECONDS;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0) || n > MAX_SMOKE_TIMEOUT_SECONDS)
    throw new UsageError(
      `--timeout must be a number of seconds above 0, at most ${MAX_SMOKE_TIMEOUT_SECONDS}. Received: ${JSON.stringify(value)}`,
      'smoke',
    );
  return n;
}

/** The text of a step's failure: one line, the problem as the API returned it. Never throws. */
function failureText(e: unknown): string {
  if (e instanceof SmokeCheckError) return e.message;
  return describeError(e)
    .split('\n')[0]
    .replace(/^error: /, '');
}

/** The step line of the default output: `ok   put (CAS)              12 ms`. */
function stepLine(step: SmokeStep): string {
  return `${(step.ok ? 'ok' : 'FAIL').padEnd(5)}${step.name.padEnd(24)}${String(step.ms).padStart(6)} ms\n`;
}

const EXIT_CODES = [
  'Exit codes: 0 every step passed and the clean-up too; 1 a step or the clean-up failed (the API',
  'answered with an error, could not be reached, or answered other than the contract says: the',
  'step and the problem are named on standard error); 2 the command line is wrong (nothing was',
  'sent); 130 Ctrl-C stopped the run (what it created was cleaned up).',
].join('\n');

export const smokeCommand: Command = {
  name: 'smoke',
  args: [],
  summary: 'check a deployed (or local) stack end to end in a scratch namespace',
  about: [
    'After a deploy: writes, reads and deletes in a scratch namespace through every part of the',
    'API, one line per step with its latency: a create (If-None-Match: *), a conditional PUT',
    '(If-Match) and a PUT with a stale ETag (must be 412), a PATCH (set and increment), a txn, a',
    'lease with a lock and a fenced write (a stale fencing token must be refused), the lease',
    'revoked (its record must go), a two-step saga (must end SUCCEEDED), a long-poll of the change',
    'feed that must see a write of the run, and a snapshot of the namespace (must be COMPLETE, its',
    'manifest must count the records). The first failure stops the run and is named with the',
    'problem the API returned. Then, whatever happened, every record of the scratch namespace is',
    'deleted and the lease revoked. The saga and the snapshot stay (the API has no delete for',
    "them; the snapshot bucket's retention removes the snapshot). A namespace that already holds",
    'records is refused.',
  ].join('\n'),
  options: {
    namespace: {
      type: 'string',
      value: '<ns>',
      help: ['the scratch namespace, empty (default: a new smoke-<time>-<random>)'],
    },
    timeout: {
      type: 'string',
      value: '<seconds>',
      help: [
        `how long the saga, the change and the snapshot are each waited for`,
        `(default ${DEFAULT_SMOKE_TIMEOUT_SECONDS})`,
      ],
    },
    table: {
      type: 'boolean',
      help: [
        'one line per step: ok or FAIL, the step, its latency (the default;',
        '--output json or yaml prints {"ok", "url", "namespace", "failedStep",',
        '"steps": [{"name", "ok", "ms", "error"}], "left"} instead)',
      ],
    },
  },
  exitCodes: EXIT_CODES,
  async run(ctx) {
    return smoke(ctx);
  },
};

async function smoke({ values, client, io, output }: CommandContext): Promise<number> {
  const ns = parseNamespace(str(values, 'namespace'));
  const timeoutMs = parseTimeout(str(values, 'timeout')) * 1000;
  // Lines unless a document is asked for: --output json or yaml.
  const lines = str(values, 'output') === undefined || output.format === 'table';
  const log = lines ? io.out : io.err;
  const signal = waitSignal(io);
  const state: SmokeStepState = {};
  const done: SmokeStep[] = [];
  let failure: { step: string; error: unknown } | undefined;

  const timed = async (name: string, fn: () => Promise<void>, afterCtrlC = false): Promise<boolean> => {
    const t0 = performance.now();
    let error: unknown;
    try {
      if (signal.aborted && !afterCtrlC) throw signal.reason;
      await fn();
    } catch (e) {
      error = e;
    }
    const step: SmokeStep = {
      name,
      ok: error === undefined,
      ms: Math.round(performance.now() - t0),
      error: error === undefined ? null : signal.aborted && !afterCtrlC ? 'stopped by Ctrl-C' : failureText(error),
    };
    done.push(step);
    log(stepLine(step));
    if (error !== undefined) failure ??= { step: name, error };
    return error === undefined;
  };

  log(`smoke test of ${client.url} in namespace ${ns}\n`);
  const started = performance.now();
  for (const step of steps(client, ns, timeoutMs, signal, state)) if (!(await timed(step.name, step.run))) break;
  // Whatever happened, and also after Ctrl-C: the clean-up runs (a second Ctrl-C ends the process).
  // A namespace found holding records is not the run's to clean.
  if (failure?.step !== EMPTY_NAMESPACE_STEP) await timed('cleanup', () => cleanUp(client, ns, state), true);

  const report: SmokeReport = {
    ok: failure === undefined,
    url: client.url,
    namespace: ns,
    failedStep: failure?.step ?? null,
    steps: done,
    left: { saga: state.saga ?? null, snapshot: state.snapshot ?? null },
  };
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (!lines) output.print(report);
  else if (report.ok) io.out(`smoke passed: ${done.length} steps in ${seconds} s\n`);
  if (state.saga || state.snapshot) {
    const kept = [state.saga && `saga ${state.saga}`, state.snapshot && `snapshot ${state.snapshot}`].filter(Boolean);
    const kinds = [state.saga && 'sagas', state.snapshot && 'snapshots'].filter(Boolean);
    const retention = state.snapshot ? " (the snapshot bucket's retention removes snapshots)" : '';
    io.err(`note: the run leaves ${kept.join(' and ')}: the API has no delete for ${kinds.join(' or ')}${retention}\n`);
  }
  if (!failure) return 0;
  if (signal.aborted) {
    const cleaned = done.some((x) => x.name === 'cleanup' && x.ok);
    io.err(
      `stopped at ${new Date().toISOString()} during step "${failure.step}"; ${cleaned ? 'what the run created was cleaned up' : 'the clean-up did not finish'}\n`,
    );
    return EXIT_INTERRUPTED;
  }
  // Unsigned requests to a deployed stack: main names the profile and says how to sign in.
  if (isSigningError(failure.error)) throw failure.error;
  const described =
    failure.error instanceof SmokeCheckError
      ? `error: ${failure.error.message}\n`
      : describeError(failure.error, 'smoke');
  io.err(described.replace(/^error: /, `error: smoke step "${failure.step}" failed: `));
  return 1;
}
