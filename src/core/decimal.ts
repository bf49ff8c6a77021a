/**
 * Exact decimal numbers, as DynamoDB stores them (`N` is decimal text, up to 38 significant digits,
 * magnitude 1e-130 to 9.9999999999999999999999999999999999999e125).
 *
 * A number in a record is held in memory in one of two forms, chosen by its value alone:
 * - a JavaScript `number` when its shortest double form (`String(n)`) is exactly its canonical
 *   text: then nothing is lost by holding it as a double (0.1, 3, 1e+125, 1e-130);
 * - a `Decimal` otherwise (9007199254740993, 0.12345678901234567890123, 1e+21 written as digits).
 * So one value always has one form, and `numericText` writes either out digit for digit. Arithmetic
 * never happens in doubles: `addNumeric` and `compareNumeric` are exact (big.js).
 */
import Big from 'big.js';

/** DynamoDB's limits on a number. */
export const MAX_SIGNIFICANT_DIGITS = 38;
export const MAX_EXPONENT = 125;
export const MIN_EXPONENT = -130;

/**
 * A number is written in plain digits when its integer part has fewer digits than this (and it is
 * at least 1e-6 in magnitude, as JavaScript writes numbers), else in exponent form (`1.5e+125`,
 * `1e-130`). Doubles have no fraction past 1e21, so a double is always written as `String(n)`.
 */
const PLAIN_INTEGER_DIGITS = 40;

/** Canonical JSON text of a big.js value: no sign for zero, no trailing zeros. */
function format(b: Big): string {
  const digits = b.c.join('');
  if (digits === '0') return '0';
  const sign = b.s < 0 ? '-' : '';
  const e = b.e;
  const integer = e >= digits.length - 1;
  if (e > -7 && e < PLAIN_INTEGER_DIGITS) {
    if (integer) return sign + digits + '0'.repeat(e - digits.length + 1);
    if (e >= 0) return `${sign}${digits.slice(0, e + 1)}.${digits.slice(e + 1)}`;
    return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  }
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${mantissa}e${e < 0 ? '-' : '+'}${Math.abs(e)}`;
}

/** A number that a double cannot hold exactly. Immutable; compare with `compareNumeric`. */
export class Decimal {
  /** The canonical JSON text of the value. */
  public readonly text: string;

  private constructor(private readonly big: Big) {
    this.text = format(big);
  }

  /** Parses decimal text (JSON number grammar, or DynamoDB's `N`). Throws `SyntaxError` when it is not a number. */
  public static parse(text: string): Decimal {
    try {
      return new Decimal(new Big(text));
    } catch {
      throw new SyntaxError(`not a decimal number: ${JSON.stringify(text.slice(0, 60))}`);
    }
  }

  /** @internal the big.js value, for the helpers below. */
  public static big(v: Numeric): Big {
    return typeof v === 'number' ? new Big(v) : v.big;
  }

  /** @internal wraps a big.js value. */
  public static of(b: Big): Decimal {
    return new Decimal(b);
  }

  public toString(): string {
    return this.text;
  }

  /** The value as a bigint. Throws `RangeError` when it is not an integer. */
  public toBigInt(): bigint {
    if (this.big.e < this.big.c.length - 1) throw new RangeError(`${this.text} is not an integer`);
    return BigInt(this.big.toFixed());
  }

  /** The nearest double (a view: loses digits past about 17). */
  public toNumber(): number {
    return Number(this.text);
  }

  /**
   * What `JSON.stringify` writes: the digits as a JSON string, so that a log line never loses a
   * digit (nor fails). Data paths write JSON with `stringifyJson` (src/core/json.ts), which
   * writes the number itself.
   */
  public toJSON(): string {
    return this.text;
  }
}

/** A number held exactly: a double when that is exact, else a `Decimal`. */
export type Numeric = number | Decimal;

export function isNumeric(v: unknown): v is Numeric {
  return typeof v === 'number' || v instanceof Decimal;
}

/** The form a big.js value is held in (see the module comment). */
function normalize(b: Big): Numeric {
  const d = Decimal.of(b);
  const n = Number(d.text);
  if (String(n) === d.text) return n === 0 ? 0 : n;
  return d;
}

/**
 * A number from its decimal text (a JSON number, or DynamoDB's `N`), in the form it is held in.
 * Throws `SyntaxError` when the text is not a number.
 */
export function numberFromText(text: string): Numeric {
  const n = Number(text);
  if (String(n) === text) return n;
  return normalize(Decimal.big(Decimal.parse(text)));
}

/** A JavaScript number or bigint as a held number (a bigint past 2^53 becomes a `Decimal`). Never throws for finite input. */
export function toNumeric(v: number | bigint): Numeric {
  return typeof v === 'bigint' ? numberFromText(v.toString()) : numberFromText(String(v));
}

/** The canonical decimal text, as written to JSON and to DynamoDB. */
export function numericText(v: Numeric): string {
  return typeof v === 'number' ? String(v) : v.text;
}

/** Exact sum. Never throws; check the result with `numberProblem`. */
export function addNumeric(a: Numeric, b: Numeric): Numeric {
  if (
    typeof a === 'number' &&
    typeof b === 'number' &&
    Number.isSafeInteger(a) &&
    Number.isSafeInteger(b) &&
    Number.isSafeInteger(a + b)
  ) {
    return a + b;
  }
  return normalize(Decimal.big(a).plus(Decimal.big(b)));
}

/** Exact negation. Never throws. */
export function negateNumeric(a: Numeric): Numeric {
  return typeof a === 'number' ? (a === 0 ? 0 : -a) : normalize(Decimal.big(a).neg());
}

/** Exact order: negative, zero or positive. */
export function compareNumeric(a: Numeric, b: Numeric): number {
  // Distinct doubles have disjoint shortest forms in the same order, so comparing doubles is exact.
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  return Decimal.big(a).cmp(Decimal.big(b));
}

/** Why DynamoDB cannot hold this number (digits or magnitude), or undefined when it can. */
export function numberProblem(v: Numeric): string | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 'is not a finite number';
    const a = Math.abs(v);
    if (a === 0 || (a >= 1e-129 && a < 1e125)) return undefined;
  }
  const b = Decimal.big(v);
  if (b.c.length === 1 && b.c[0] === 0) return undefined;
  if (b.c.length > MAX_SIGNIFICANT_DIGITS)
    return `has ${b.c.length} significant digits; at most ${MAX_SIGNIFICANT_DIGITS}`;
  if (b.e > MAX_EXPONENT) return 'is larger in magnitude than 9.9999999999999999999999999999999999999e+125';
  if (b.e < MIN_EXPONENT) return 'is smaller in magnitude than 1e-130';
  return undefined;
}
