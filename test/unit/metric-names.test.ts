/**
 * Every metric name that code emits (`addMetric`) or that the CDK stack graphs and alarms on
 * (`vestaMetric`, `vestaServiceMetric`, `vestaDimensionSearch`) is a `MetricName`, and every
 * `MetricName` is emitted somewhere. Read from the sources with the TypeScript parser, without
 * synthesizing the stack (that is the infra project's job, and slow).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ts from 'typescript';
import { METRIC_NAMES } from '../../src/core/metric-names';

const ROOT = join(__dirname, '..', '..');
const NAMES = new Set<string>(Object.values(METRIC_NAMES));
const EMITTERS = new Set(['addMetric']);
const CDK_METRIC_FUNCTIONS = new Set(['vestaMetric', 'vestaServiceMetric', 'vestaDimensionSearch']);

/** A metric name as the source gives it: resolved (a literal or a `METRIC_NAMES` entry), or a typed variable. */
interface NameUse {
  readonly file: string;
  readonly line: number;
  readonly call: string;
  /** The names the argument can take; empty for a variable (its `MetricName` type is checked by tsc). */
  readonly names: readonly string[];
  readonly text: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

const isMetricNamesEntry = (e: ts.Expression): e is ts.PropertyAccessExpression =>
  ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'METRIC_NAMES';

/** The names an argument can evaluate to: literals, `METRIC_NAMES.x` (as `<missing x>` when x is no key), both arms of a `?:`. */
function namesOf(e: ts.Expression): string[] {
  if (ts.isStringLiteralLike(e)) return [e.text];
  if (isMetricNamesEntry(e))
    return [(METRIC_NAMES as Record<string, string>)[e.name.text] ?? `<missing METRIC_NAMES.${e.name.text}>`];
  if (ts.isConditionalExpression(e)) return [...namesOf(e.whenTrue), ...namesOf(e.whenFalse)];
  if (ts.isParenthesizedExpression(e)) return namesOf(e.expression);
  return [];
}

function calleeName(call: ts.CallExpression): string | undefined {
  const callee = call.expression;
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  return undefined;
}

/** Calls of `callees` in the files under `dirs`, with the names their first argument can take; and every `METRIC_NAMES.x` read there. */
function scan(dirs: readonly string[], callees: ReadonlySet<string>): { uses: NameUse[]; referenced: Set<string> } {
  const uses: NameUse[] = [];
  const referenced = new Set<string>();
  for (const path of dirs.flatMap((d) => sourceFiles(join(ROOT, d)))) {
    const file = relative(ROOT, path);
    if (file === join('src', 'core', 'metric-names.ts')) continue;
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && node.arguments.length > 0) {
        const call = calleeName(node);
        if (call !== undefined && callees.has(call)) {
          const arg = node.arguments[0];
          uses.push({
            file,
            line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1,
            call,
            names: namesOf(arg),
            text: arg.getText(source),
          });
        }
      }
      if (ts.isPropertyAccessExpression(node) && isMetricNamesEntry(node)) referenced.add(namesOf(node)[0]);
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { uses, referenced };
}

const notMetricNames = (uses: readonly NameUse[]) =>
  uses.flatMap((u) =>
    u.names
      .filter((n) => !NAMES.has(n))
      .map((n) => `${u.file}:${u.line} ${u.call}(${u.text}) names ${JSON.stringify(n)}`),
  );

describe('metric names', () => {
  const emitted = scan(['src', 'lambdas'], EMITTERS);
  const cdk = scan(['lib'], CDK_METRIC_FUNCTIONS);

  test('every name the code emits is a MetricName', () => {
    expect(emitted.uses.length).toBeGreaterThan(0);
    expect(notMetricNames(emitted.uses)).toEqual([]);
  });

  test('every name the stack graphs or alarms on is a MetricName', () => {
    expect(cdk.uses.length).toBeGreaterThan(0);
    expect(notMetricNames(cdk.uses)).toEqual([]);
    expect([...cdk.referenced].filter((n) => !NAMES.has(n))).toEqual([]);
  });

  test('every MetricName is emitted somewhere, so no panel or alarm watches a name nothing sends', () => {
    const sent = new Set([...emitted.uses.flatMap((u) => u.names), ...emitted.referenced]);
    expect([...NAMES].filter((n) => !sent.has(n))).toEqual([]);
  });

  test('the scan finds a misspelt name (the check can fail)', () => {
    const e = ts.factory.createConditionalExpression(
      ts.factory.createTrue(),
      undefined,
      ts.factory.createStringLiteral('SagaSucceded'),
      undefined,
      ts.factory.createPropertyAccessExpression(ts.factory.createIdentifier('METRIC_NAMES'), 'operations'),
    );
    expect(notMetricNames([{ file: 'x.ts', line: 1, call: 'addMetric', names: namesOf(e), text: '…' }])).toEqual([
      'x.ts:1 addMetric(…) names "SagaSucceded"',
    ]);
  });
});
