/**
 * JSON arguments that may be written inline, read from a file (`@path`) or from standard
 * input (`-`).
 */
import { readFile } from 'node:fs/promises';
import { parseJson } from '../client';
import { UsageError } from './errors';
import type { CliIo } from './io';

async function source(arg: string, io: CliIo, what: string): Promise<{ text: string; from: string }> {
  if (arg === '-') return { text: await io.readStdin(), from: 'standard input' };
  if (!arg.startsWith('@')) return { text: arg, from: what };
  const path = arg.slice(1);
  try {
    return { text: await readFile(path, 'utf8'), from: path };
  } catch (e) {
    throw new UsageError(`cannot read ${what} from ${path}: ${(e as Error).message}`, undefined, { cause: e });
  }
}

/**
 * Reads and parses a JSON argument: inline JSON, `@file` or `-` for standard input.
 * Throws `UsageError` when the file cannot be read or the text is not JSON.
 */
export async function readJsonArg(arg: string, io: CliIo, what: string): Promise<unknown> {
  const { text, from } = await source(arg, io, what);
  try {
    return parseJson(text, Infinity);
  } catch (e) {
    throw new UsageError(`${what} from ${from} is not valid JSON: ${(e as Error).message}`, undefined, { cause: e });
  }
}

/**
 * Like `readJsonArg`, and requires a JSON object.
 * Throws `UsageError` when the value is not an object (arrays and null included).
 */
export async function readJsonObject(arg: string, io: CliIo, what: string): Promise<Record<string, unknown>> {
  const value = await readJsonArg(arg, io, what);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${what} must be a JSON object. Received: ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}
