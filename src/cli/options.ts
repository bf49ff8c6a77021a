/**
 * Option values as `util.parseArgs` yields them, and typed access to them. Its own module so that
 * what reads options (`connection.ts`, the argument parsers) needs nothing of the commands.
 */
import type { ParseArgsConfig } from 'node:util';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

/** A string option's value, or undefined when absent. */
export function str(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable string option's values, empty when absent. */
export function strs(values: OptionValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
}

/** Whether a boolean option was given. */
export function flag(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

/**
 * One option of a command, declared once: how `util.parseArgs` reads it, and how the usage line
 * and `--help` show it. Checking its value is left to the command (each says what is wrong in
 * words of its own).
 */
export interface OptionDecl {
  readonly type: 'string' | 'boolean';
  /** May be given more than once; its values come as a list. @default false */
  readonly multiple?: boolean;
  /** A one-letter alias, e.g. `h` for `-h`. */
  readonly short?: string;
  /** What its value stands for in usage and help, e.g. `ETAG`, `<n>`. */
  readonly value?: string;
  /** The values it takes, shown as `a|b` in the usage line instead of `value`. */
  readonly choices?: readonly string[];
  /**
   * Its lines in `--help`, the first beside its name; or, for an option whose values are
   * explained one by one (`--conflicts reject`, `--conflicts siblings`), the lines of each value.
   */
  readonly help: readonly string[] | Readonly<Record<string, readonly string[]>>;
  /** Shown without brackets in the usage line. @default false */
  readonly required?: boolean;
  /** Shown as an alternative to the option declared before it: `[--all | --cursor c]`. @default false */
  readonly or?: boolean;
  /** Shown inside the brackets of the option declared before it: `[--wait [--interval <ms>]]`. @default false */
  readonly within?: boolean;
}

export type OptionDecls = Readonly<Record<string, OptionDecl>>;

/** Help lines start their text in this column, after two spaces, the option and its value. */
const LABEL_WIDTH = 22;
const TEXT_INDENT = ' '.repeat(LABEL_WIDTH + 4);

/** What `util.parseArgs` needs of `decls`. Never throws. */
export function parserOptions(decls: OptionDecls): OptionSpecs {
  return Object.fromEntries(
    Object.entries(decls).map(([name, d]) => [
      name,
      { type: d.type, ...(d.multiple ? { multiple: true } : {}), ...(d.short ? { short: d.short } : {}) },
    ]),
  );
}

function entry(label: string, lines: readonly string[]): string[] {
  const [first, ...rest] = lines;
  const head =
    label.length > LABEL_WIDTH
      ? [`  ${label}`, `${TEXT_INDENT}${first}`]
      : [`  ${label.padEnd(LABEL_WIDTH)}  ${first}`];
  return [...head, ...rest.map((l) => `${TEXT_INDENT}${l}`)];
}

/** The `--help` lines of `decls`, in the order they are declared. Never throws. */
export function optionHelp(decls: OptionDecls): string[] {
  return Object.entries(decls).flatMap(([name, d]) => {
    const flag = `${d.short ? `-${d.short}, ` : ''}--${name}`;
    if (!Array.isArray(d.help))
      return Object.entries(d.help).flatMap(([value, lines]) => entry(`${flag} ${value}`, lines));
    return entry(d.value ? `${flag} ${d.value}` : flag, d.help as readonly string[]);
  });
}

/** The usage line of `decls`: `--ttl <seconds> [--id-only]`, `[--wait [--interval <ms>]]`. Never throws. */
export function optionUsage(decls: OptionDecls): string {
  const groups: { text: string; required: boolean }[] = [];
  for (const [name, d] of Object.entries(decls)) {
    const value = d.choices ? ` ${d.choices.join('|')}` : d.value ? ` ${d.value}` : '';
    const form = `--${name}${value}${d.multiple ? ' ...' : ''}`;
    const last = groups[groups.length - 1];
    if (last && d.or) last.text += ` | ${form}`;
    else if (last && d.within) last.text += ` [${form}]`;
    else groups.push({ text: form, required: d.required === true });
  }
  return groups.map((g) => (g.required ? g.text : `[${g.text}]`)).join(' ');
}
