/**
 * Pure parsing of the CLI's argument values: `k=v` assignments, `--require` clauses, field lists
 * and record keys. Nothing here reads files or the network.
 */
import {
  type JsonValue,
  type Numeric,
  REQUIRE_OPS,
  type RequireOp,
  isNumeric,
  numberProblem,
  parseJson,
} from '../client';
import { UsageError } from './errors';

/** A JSON value as the API accepts it (numbers exact: a `Decimal` when a double cannot hold one). */
export type Json = JsonValue;

/** A `require` clause of a PATCH body. */
export interface RequireClause {
  readonly field: string;
  readonly op: RequireOp;
  readonly value?: Json;
}

/** Parses `text` as JSON when it is valid JSON, else takes it as a string. Never throws. */
export function parseValue(text: string): Json {
  try {
    return parseJson(text, Infinity) as Json;
  } catch {
    return text;
  }
}

/**
 * Splits `name=value` at the first `=` and parses the value with `parseValue`.
 * Throws `UsageError` when there is no `=` or the name is empty.
 */
export function parseAssignment(text: string, option: string): [string, Json] {
  const at = text.indexOf('=');
  if (at <= 0) throw new UsageError(`${option} expects name=value. Received: ${JSON.stringify(text)}`);
  return [text.slice(0, at), parseValue(text.slice(at + 1))];
}

/**
 * Parses `name=n` (or a bare `name`, meaning 1) for `--incr`.
 * Throws `UsageError` when the amount is not a number DynamoDB can hold (38 digits, magnitude
 * 1e-130 to under 1e126) or the name is empty.
 */
export function parseIncrement(text: string): [string, Numeric] {
  if (!text.includes('=')) {
    if (!text) throw new UsageError('--incr expects name=n or name');
    return [text, 1];
  }
  const [name, by] = parseAssignment(text, '--incr');
  const problem = isNumeric(by) ? numberProblem(by) : 'is not a number';
  if (problem || !isNumeric(by)) {
    throw new UsageError(
      `--incr ${name} expects a number DynamoDB can hold; ${JSON.stringify(text.slice(name.length + 1))} ${problem}`,
    );
  }
  return [name, by];
}

const UNARY = /^(.*\S)\s+(exists|absent)$/;
const BINARY = /^(.+?)\s*(==|!=|<=|>=|<|>)\s*(.*)$/;

/**
 * Parses a clause written `field op value` (`qty >= 1`, `status == "paid"`, `draft absent`).
 * The value goes through `parseValue`. Field names holding an operator or surrounding spaces
 * cannot be written this way; use `--body` for them.
 * Throws `UsageError` when no operator is found or a comparison has no value.
 */
export function parseRequire(text: string): RequireClause {
  const trimmed = text.trim();
  const unary = UNARY.exec(trimmed);
  if (unary) return { field: unary[1], op: unary[2] as RequireOp };
  const binary = BINARY.exec(trimmed);
  if (!binary?.[1].trim()) {
    throw new UsageError(
      `--require expects 'field op value' with op one of ${REQUIRE_OPS.join(' ')}. Received: ${JSON.stringify(text)}`,
    );
  }
  if (binary[3] === '') throw new UsageError(`--require ${JSON.stringify(text)} has no value after ${binary[2]}`);
  return { field: binary[1].trim(), op: binary[2] as RequireOp, value: parseValue(binary[3]) };
}

/** Splits `a,b,c` into names, dropping empty entries. Throws `UsageError` when none is left. */
export function parseList(text: string, option: string): string[] {
  const names = text.split(',').filter((s) => s !== '');
  if (names.length === 0) throw new UsageError(`${option} expects a comma-separated list of names`);
  return names;
}

const DOT_SEGMENT = /^\.{1,2}$/;

/**
 * Returns `key` when a URL can carry it; the client encodes it (a key with a `.` or `..` segment
 * travels as one percent-encoded segment). Throws `UsageError` for an empty key, or a key that is
 * only `.` or `..`, which no URL can address.
 */
export function checkKey(key: string): string {
  if (key === '') throw new UsageError('the key must not be empty');
  if (DOT_SEGMENT.test(key)) throw new UsageError(`the key ${JSON.stringify(key)} cannot be addressed in a URL`);
  return key;
}
