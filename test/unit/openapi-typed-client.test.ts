/**
 * The document is usable by teams that generate their client: openapi-typescript generates types
 * from it, and with them openapi-fetch calls every kind of operation type-checked (bodies of PATCH,
 * transactions and sagas, `require` clauses, the ETag header, a 412's `current`), while mistakes
 * (test/openapi-client/misuse.ts, each marked `@ts-expect-error`) are type errors.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CALLS, MISUSE, generateClient, typeCheck } from '../openapi-typed-client';

let dir: string;

beforeAll(async () => {
  dir = await generateClient();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('the generated types have no `unknown` request body or component schema but JSON values', () => {
  const schema = readFileSync(join(dir, 'schema.d.ts'), 'utf8');
  // `JsonValue` is any JSON value by design; everything a client writes or reads has a shape.
  const unknownSchemas = [...schema.matchAll(/^ {8}(\w+): unknown[;&| ]/gm)].map((m) => m[1]);
  expect(unknownSchemas).toEqual(['JsonValue']);
  expect(schema).not.toMatch(/"application\/json": unknown/);
});

test('a client program using every kind of operation type-checks with no error', () => {
  expect(typeCheck(dir, [CALLS])).toEqual([]);
});

test('every deliberate misuse is a type error (no unused @ts-expect-error)', () => {
  const source = readFileSync(join(dir, MISUSE), 'utf8');
  expect(source.match(/@ts-expect-error/g)?.length).toBeGreaterThanOrEqual(12);
  expect(typeCheck(dir, [MISUSE])).toEqual([]);
});
