/**
 * When a saga id posted again names the same saga: `sameDefinition` compares canonical forms, so
 * member order and how a number is written do not matter, and any change of what the saga does
 * does.
 */
import Big from 'big.js';
import fc from 'fast-check';
import { Decimal } from '../../src/core/decimal';
import { parseJson } from '../../src/core/json';
import { definitionFingerprint, parseSagaBody, sameDefinition } from '../../src/core/sagas';

/** Parses a body as the API does (exact numbers). */
const parse = (text: string) => parseSagaBody(parseJson(text, Infinity));

/** The same JSON value with every object's members in another order. */
function shuffled(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x, i) => shuffled(x, seed + i));
  if (typeof v !== 'object' || v === null || v instanceof Decimal) return v;
  const entries = Object.entries(v as Record<string, unknown>);
  const order = entries.map((e, i) => ({ e, k: (i * 7919 + seed * 104729) % 9973 })).sort((a, b) => a.k - b.k);
  return Object.fromEntries(order.map(({ e: [k, x] }) => [k, shuffled(x, seed + 1)]));
}

/** Another way to write the same number: trailing zeros, or an exponent. */
function rewritten(text: string, how: number): string {
  const b = new Big(text);
  if (how === 0) return text.includes('.') || text.includes('e') ? `${b.toFixed()}` : `${text}.000`;
  return b.toExponential();
}

const numberText = fc.oneof(
  fc.integer({ min: 1, max: 1_000_000 }).map(String),
  fc.constantFrom('0.1', '30', '12345678901234567890.123456789012345678', '1e-130', '9.5e125', '7.25'),
);

function stepsText(ns: string, amount: string, name = 'debit') {
  return `{"id": "x", "namespace": "${ns}", "steps": [{"name": "${name}", "action": {"op": "patch", "key": "a",
    "increment": {"n": ${amount}}, "require": [{"field": "n", "op": ">=", "value": ${amount}}]},
    "compensation": {"op": "put", "key": "a", "fields": {"__proto__": {"deep": [${amount}, null, "s"]}}}}]}`;
}

test('the same saga however written: member order and number forms do not matter', () => {
  fc.assert(
    fc.property(numberText, fc.nat(), fc.integer({ min: 0, max: 1 }), (amount, seed, how) => {
      const a = parse(stepsText('bank', amount));
      const text = stepsText('bank', rewritten(amount, how));
      const b = parseSagaBody(shuffled(parseJson(text, Infinity), seed));
      expect(sameDefinition(a, b)).toBe(true);
    }),
  );
});

test('any change of what the saga does is another definition', () => {
  fc.assert(
    fc.property(numberText, numberText, (x, y) => {
      fc.pre(new Big(x).cmp(new Big(y)) !== 0);
      expect(sameDefinition(parse(stepsText('bank', x)), parse(stepsText('bank', y)))).toBe(false);
    }),
  );
  const base = parse(stepsText('bank', '1'));
  expect(sameDefinition(base, parse(stepsText('other', '1')))).toBe(false);
  expect(sameDefinition(base, parse(stepsText('bank', '1', 'credit')))).toBe(false);
  expect(sameDefinition(base, { ...base, steps: [...base.steps, { ...base.steps[0], name: 'twice' }] })).toBe(false);
  expect(sameDefinition(base, { ...base, steps: [{ ...base.steps[0], compensation: undefined }] })).toBe(false);
});

test('a list is never the same as a map, nor a number the same as a string', () => {
  const put = (value: string) =>
    parse(
      `{"namespace": "n", "steps": [{"name": "s", "action": {"op": "put", "key": "k", "fields": {"x": ${value}}}}]}`,
    );
  const forms = [
    '{"a": 1}',
    '[["a", 1]]',
    '[["a", {"n": "1"}]]',
    '{"m": [["a", 1]]}',
    '1',
    '"1"',
    '{"n": "1"}',
    'null',
  ];
  for (const [i, a] of forms.entries()) {
    for (const [j, b] of forms.entries()) expect(sameDefinition(put(a), put(b))).toBe(i === j);
  }
});

test('an empty require is no require; the id is not part of the definition', () => {
  const a = parse('{"id": "a", "namespace": "n", "steps": [{"name": "s", "action": {"op": "delete", "key": "k"}}]}');
  const b = parse(
    '{"id": "b", "namespace": "n", "steps": [{"name": "s", "action": {"op": "delete", "key": "k", "require": []}}]}',
  );
  expect(definitionFingerprint(a)).toBe(definitionFingerprint(b));
});

test('a transfer is its input; a steps saga that does the same is still another definition', () => {
  const t = (amount: string, extra = '') =>
    parse(
      `{"type": "transfer", "input": {"namespace": "n", "from": "a", "to": "b", "field": "f", "amount": ${amount}}${extra}}`,
    );
  expect(sameDefinition(t('30'), t('3e1'))).toBe(true);
  expect(sameDefinition(t('30'), t('30.0000000000000000000000000000000001'))).toBe(false);
  const asSteps = { ...t('30'), type: 'steps' as const, input: undefined };
  expect(sameDefinition(t('30'), asSteps)).toBe(false);
});
