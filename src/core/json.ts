/**
 * Lossless JSON: every number keeps its exact decimal value (see `decimal.ts`), member names are
 * data (`__proto__` is a member like any other), and nesting is bounded before parsing starts, so
 * a deep body is a clear error rather than a stack overflow. Parsing and writing use the
 * `lossless-json` library; only the depth scan is ours.
 */
import { parse, stringify } from 'lossless-json';
import { Decimal, numberFromText } from './decimal';

/** Deepest nesting of arrays and objects a JSON text may have (the contract's limit for bodies). */
export const MAX_JSON_DEPTH = 64;

/** Malformed JSON, or JSON nested deeper than allowed. */
export class JsonSyntaxError extends SyntaxError {
  public constructor(message: string) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

/** Deepest nesting of `[` and `{` outside strings; stops counting once past `limit`. */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return max;
}

/**
 * Parses JSON text. Numbers come back as `number` or `Decimal` (never rounded); objects are plain
 * objects whose members are all own properties. Throws `JsonSyntaxError` for malformed JSON,
 * duplicate member names, or nesting deeper than `maxDepth`.
 */
export function parseJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonDepth(text, maxDepth) > maxDepth) throw new JsonSyntaxError(`nests deeper than ${maxDepth} levels`);
  try {
    return parse(text, null, { parseNumber: numberFromText });
  } catch (e) {
    throw new JsonSyntaxError((e as Error).message);
  }
}

const DECIMALS = [{ test: (v: unknown) => v instanceof Decimal, stringify: (v: unknown) => (v as Decimal).text }];

/**
 * Writes JSON, numbers digit for digit. Throws `TypeError` for values JSON cannot hold (bigint
 * aside, which is written as digits) and for circular structures.
 */
export function stringifyJson(value: unknown, space?: number): string {
  const out = stringify(value, undefined, space, DECIMALS);
  if (out === undefined) throw new TypeError('the value has no JSON form');
  return out;
}
