/**
 * The local stack's own log (`npm start`): plain lines, one per request at `INFO` (method, path,
 * status, milliseconds), background work summarised (an execution's end, a minute of change
 * events), each change event and more only at `DEBUG`. Warnings and errors always show unless
 * the level is `SILENT`. `LOG_LEVEL` chooses the level; the functions' own Powertools loggers
 * follow it (`powertoolsLevel`), so `LOG_LEVEL=debug` shows everything they log too.
 */

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Readonly<Record<LogLevel, number>> = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3, SILENT: 4 };

export interface LocalLog {
  readonly level: LogLevel;
  /** Whether a line of `level` is written. */
  enabled(level: Exclude<LogLevel, 'SILENT'>): boolean;
  debug(message: string, data?: Readonly<Record<string, unknown>>): void;
  info(message: string, data?: Readonly<Record<string, unknown>>): void;
  warn(message: string, data?: Readonly<Record<string, unknown>>): void;
  error(message: string, data?: Readonly<Record<string, unknown>>): void;
}

/**
 * The level `LOG_LEVEL` names, in any case (`debug`, `INFO`, ...); `INFO` when unset or empty.
 * Throws an `Error` that lists the levels and echoes the value when it names none.
 */
export function parseLogLevel(value: string | undefined): LogLevel {
  if (value === undefined || value.trim() === '') return 'INFO';
  const level = value.trim().toUpperCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (any case). Received: ${JSON.stringify(value)}`);
}

/**
 * The level of the functions' Powertools loggers for a local log level: their `INFO` lines are one
 * or more per request and per background run, so they show only at `DEBUG`.
 */
export function powertoolsLevel(level: LogLevel): LogLevel {
  return level === 'INFO' ? 'WARN' : level;
}

const show = (v: unknown): string => {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
};

/** `message key=value ...`, values as JSON unless they are plain words. */
export function formatLine(message: string, data?: Readonly<Record<string, unknown>>): string {
  const pairs = Object.entries(data ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${show(v)}`);
  return pairs.length > 0 ? `${message} ${pairs.join(' ')}` : message;
}

export interface LocalLogOptions {
  /** Where `DEBUG` and `INFO` lines go. @default standard output */
  readonly out?: (line: string) => void;
  /** Where `WARN` and `ERROR` lines go. @default standard error */
  readonly err?: (line: string) => void;
  /** @default the current time */
  readonly now?: () => Date;
}

/** A log at `level`: each line is `<HH:MM:SS.mmm> <LEVEL> <message> key=value ...`. */
export function localLog(level: LogLevel, opts: LocalLogOptions = {}): LocalLog {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = opts.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = opts.now ?? (() => new Date());
  const enabled = (l: Exclude<LogLevel, 'SILENT'>) => RANK[l] >= RANK[level];
  const write = (l: Exclude<LogLevel, 'SILENT'>, message: string, data?: Readonly<Record<string, unknown>>) => {
    if (!enabled(l)) return;
    const line = `${now().toISOString().slice(11, 23)} ${l.padEnd(5)} ${formatLine(message, data)}`;
    (RANK[l] >= RANK.WARN ? err : out)(line);
  };
  return {
    level,
    enabled,
    debug: (m, d) => write('DEBUG', m, d),
    info: (m, d) => write('INFO', m, d),
    warn: (m, d) => write('WARN', m, d),
    error: (m, d) => write('ERROR', m, d),
  };
}

/** A log that writes nothing (in-process stacks of tests). */
export const SILENT_LOG: LocalLog = localLog('SILENT');
