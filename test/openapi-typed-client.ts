/**
 * Generated clients: TypeScript types generated from docs/openapi.yaml by openapi-typescript, and
 * the programs of test/openapi-client/ that use them through openapi-fetch, copied next to them
 * into a scratch folder under `.cache/` (inside the project, so that `openapi-fetch` resolves
 * from its node_modules) and type-checked with the project's TypeScript.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { OPENAPI_PATH } from './openapi';

const ROOT = join(__dirname, '..');
const PROGRAMS = join(__dirname, 'openapi-client');

/** The client programs, by file name. */
export const CALLS = 'calls.ts';
export const MISUSE = 'misuse.ts';

/**
 * A new scratch folder holding `schema.d.ts` (generated from the document) and copies of the
 * client programs. The caller removes it.
 */
export async function generateClient(): Promise<string> {
  const parent = join(ROOT, '.cache', 'openapi-client');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'gen-'));
  // Its command line, as a team generating its client runs it (its Node API is an ES module that
  // Jest's CommonJS runtime cannot load).
  const cli = join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
  await promisify(execFile)(process.execPath, [cli, OPENAPI_PATH, '--output', join(dir, 'schema.d.ts')]);
  for (const f of [CALLS, MISUSE]) copyFileSync(join(PROGRAMS, f), join(dir, f));
  return dir;
}

/** The compiler options a consumer of the generated types would use (strict, bundler resolution). */
const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  types: [],
  strict: true,
  noUnusedLocals: true,
  noEmit: true,
  skipLibCheck: true,
};

/** `tsc --noEmit` of `files` (in `dir`): every diagnostic, formatted as tsc prints it. */
export function typeCheck(dir: string, files: readonly string[]): string[] {
  const program = ts.createProgram(
    files.map((f) => join(dir, f)),
    OPTIONS,
  );
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => dir,
    getNewLine: () => '\n',
  };
  return ts.getPreEmitDiagnostics(program).map((d) => ts.formatDiagnostic(d, host).trim());
}
