/**
 * Generators of hostile input for the fuzz suites, and the oracle every answer must satisfy.
 * Numbers are generated as JSON text (any number of digits, exponents past DynamoDB's range), so
 * the request carries exactly what a client could send; names include the ones that reach a
 * prototype in careless code; keys include encoded slashes, dot segments, spaces and `%`.
 */
import Big from 'big.js';
import fc from 'fast-check';
import { isNumeric, compareNumeric } from '../../src/core/decimal';
import { parseJson } from '../../src/core/json';
import type { Reply, TestApi } from './harness';

/** Names that a plain object would turn into something else. */
export const PROTO_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
  'isPrototypeOf',
];

const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));

/** A JSON number as text: small, long, near and past DynamoDB's limits, odd but valid forms. */
export const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.integer().map(String),
  fc.constantFrom(
    '0',
    '-0',
    '0.0',
    '1e0',
    '1E+2',
    '1.50',
    '9007199254740991',
    '9007199254740993',
    '-9007199254740993',
    '18446744073709551616',
  ),
  fc.constantFrom(
    '1e125',
    '9.9999999999999999999999999999999999999e125',
    '1e126',
    '-1e126',
    '1e-130',
    '1e-131',
    '-1e-130',
    '1e-129',
    '1e400',
    '1e-400',
  ),
  fc
    .tuple(fc.boolean(), fc.stringMatching(/^[1-9]$/), digits(0, 45))
    .map(([neg, d, ds]) => `${neg ? '-' : ''}${d}${ds}`),
  fc
    .tuple(fc.boolean(), digits(1, 20), digits(1, 30))
    .map(([neg, a, b]) => `${neg ? '-' : ''}${a.replace(/^0+(?=\d)/, '')}.${b}`),
  fc
    .tuple(fc.boolean(), fc.stringMatching(/^[1-9]$/), digits(0, 40), fc.integer({ min: -140, max: 140 }))
    .map(([neg, d, ds, e]) => `${neg ? '-' : ''}${d}${ds ? `.${ds}` : ''}e${e}`),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
);

/** A field name: allowed ones (prototype names among them) and refused ones. */
export const fieldName: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PROTO_NAMES) },
  { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'a.b',
      'a[0]',
      '#a0',
      ':v0',
      'f.#a',
      '\u0000',
      'a\u007f',
      '\ud800',
      'x'.repeat(255),
      'x'.repeat(256),
      '💥',
    ),
  },
);

/** A JSON value as text, numbers raw, nesting up to `depth`. */
export function valueText(depth: number): fc.Arbitrary<string> {
  const leaf = fc.oneof(
    numberText,
    fc.constantFrom('null', 'true', 'false'),
    fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s)),
  );
  if (depth <= 0) return leaf;
  return fc.oneof(
    { weight: 4, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(valueText(depth - 1), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`) },
    { weight: 1, arbitrary: objectText(fieldName, valueText(depth - 1), 4) },
  );
}

/** An object as text with members from `names` (no repeated name) and values from `values`. */
export function objectText(
  names: fc.Arbitrary<string>,
  values: fc.Arbitrary<string>,
  maxMembers: number,
): fc.Arbitrary<string> {
  return fc
    .uniqueArray(fc.tuple(names, values), { maxLength: maxMembers, selector: ([k]) => k })
    .map((members) => `{${members.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);
}

/** A key segment, raw in the path: encoded slashes, dot segments, spaces, `%`, Unicode. */
const segment = fc.oneof(
  fc.constantFrom(
    'a',
    'cart',
    '42',
    '.',
    '..',
    '%2e',
    '%2E%2e',
    '%2e%2e',
    '%2F',
    '%2f..',
    '..%2F..',
    '%252F',
    '%20',
    '+',
    '%25',
    '%',
    '%zz',
    '%C3%A9',
    '%ED%A0%80',
    'health',
    'v1',
    'txn',
    '~',
    "'",
    '"',
  ),
  fc.string({ minLength: 1, maxLength: 6 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }).map(encodeURIComponent),
);

/** A raw key path (segments joined by `/`). */
export const rawKey = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));

/** The key a raw path names, decoded once as the API does; undefined when it is not valid percent-encoding. */
export function decodedKey(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** The canonical path form of a key: each segment percent-encoded. */
export function keyPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/**
 * The oracle for any answer: never a 5xx; an error is a problem document with a code and detail,
 * and a 400 names the offending part in `field`. Returns a message when it does not hold.
 */
export function answerProblem(r: Reply): string | undefined {
  if (r.status >= 500) return `answered ${r.status}: ${r.text.slice(0, 300)}`;
  if (r.status < 400) return undefined;
  if (r.headers['content-type'] !== 'application/problem+json')
    return `a ${r.status} without a problem document (${r.headers['content-type']})`;
  const p = r.body as { code?: unknown; detail?: unknown; field?: unknown; status?: unknown } | undefined;
  if (!p || typeof p.code !== 'string' || typeof p.detail !== 'string' || p.status !== r.status)
    return `a malformed problem document: ${r.text.slice(0, 300)}`;
  if (r.status === 400 && (typeof p.field !== 'string' || p.field.length === 0))
    return `a 400 that names no field: ${r.text.slice(0, 300)}`;
  return undefined;
}

/** Whether two JSON values are equal, numbers by exact decimal value. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (isNumeric(a) || isNumeric(b)) return isNumeric(a) && isNumeric(b) && compareNumeric(a, b) === 0;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameJson((a as never)[k], (b as never)[k]));
}

/** A reply's body read losslessly. */
export function exact(r: Reply): unknown {
  return r.text ? parseJson(r.text, Infinity) : undefined;
}

/** Whether a JSON number text is within DynamoDB's range (38 digits, 1e-130 to under 1e126). */
export function storable(text: string): boolean {
  const b = new Big(text);
  if (b.c.length === 1 && b.c[0] === 0) return true;
  return b.c.length <= 38 && b.e <= 125 && b.e >= -130;
}

/** A fuzzing caller: sends raw bodies as JSON, checks every answer with the oracle, counts them. */
export class Fuzzer {
  public sent = 0;
  public refused = 0;

  public constructor(private readonly api: TestApi) {}

  public get accepted(): number {
    return this.sent - this.refused;
  }

  /** Sends one request. Throws (failing the property) when the answer breaks the oracle. */
  public async call(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
    this.sent++;
    const r = await this.api.call(
      method,
      path,
      body === undefined ? { headers } : { body, headers: { 'content-type': 'application/json', ...headers } },
    );
    const problem = answerProblem(r);
    if (problem)
      throw new Error(`${method} ${path} ${JSON.stringify(headers)} ${body?.slice(0, 300) ?? ''}: ${problem}`);
    if (r.status >= 400) this.refused++;
    return r;
  }

  /** The closing figures of a suite, one line. */
  public summary(name: string): string {
    return `${name}: ${this.sent} requests, ${this.accepted} accepted, ${this.refused} refused, 0 answers of 5xx`;
  }
}
