/**
 * Lossless JSON and field maps as data: parse and write keep every number's digits and every
 * member name (`__proto__` included), depth is bounded before parsing, and the maps the domain
 * holds have no prototype.
 */
import fc from 'fast-check';
import { Decimal, numericText } from '../../src/core/decimal';
import { JsonSyntaxError, MAX_JSON_DEPTH, jsonDepth, parseJson, stringifyJson } from '../../src/core/json';
import { ValueProblem, readFields, readNumbers, readValue } from '../../src/core/values';

const nested = (n: number, inner = '1') => '['.repeat(n) + inner + ']'.repeat(n);

describe('lossless JSON', () => {
  it('writes back what it parsed, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        expect(stringifyJson(parseJson(text, Infinity))).toBe(JSON.stringify(JSON.parse(text)));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps every digit of numbers a double cannot hold', () => {
    const text = '{"a":12345678901234567890123,"b":0.12345678901234567890123,"c":-9007199254740993,"d":1e-130}';
    const v = parseJson(text) as Record<string, unknown>;
    expect(v.a).toBeInstanceOf(Decimal);
    expect(stringifyJson(v)).toBe(text.replace('1e-130', '1e-130'));
  });

  it('keeps __proto__ and constructor as members, not as the prototype', () => {
    const v = parseJson('{"__proto__": {"x": 1}, "constructor": 2}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'constructor']);
    expect(stringifyJson(v)).toBe('{"__proto__":{"x":1},"constructor":2}');
  });

  it('refuses nesting deeper than 64 levels before parsing, and counts only outside strings', () => {
    expect(() => parseJson(nested(MAX_JSON_DEPTH))).not.toThrow();
    expect(() => parseJson(nested(MAX_JSON_DEPTH + 1))).toThrow(JsonSyntaxError);
    expect(() => parseJson(nested(200_000))).toThrow(/nests deeper than 64/);
    expect(jsonDepth('["[[[[", "\\"[[["]')).toBe(1);
  });

  it('refuses malformed JSON and duplicate member names', () => {
    for (const bad of ['', '{', '{"a":1,}', '[1 2]', '{"a":1,"a":2}', 'NaN', '01', '"\\x"']) {
      expect(() => parseJson(bad)).toThrow(JsonSyntaxError);
    }
  });
});

describe('field maps as data', () => {
  const names = fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'),
    fc.string({ minLength: 1, maxLength: 20 }),
  );

  it('reads any allowed field name as a plain own member of a map without prototype', () => {
    fc.assert(
      fc.property(fc.uniqueArray(names, { maxLength: 8 }), (keys) => {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the names the contract refuses
        const allowed = keys.filter((k) => !/[\u0000-\u001f\u007f-\u009f]/.test(k));
        const text = `{${allowed.map((k, i) => `${JSON.stringify(k)}: ${i}`).join(',')}}`;
        const fields = readFields(parseJson(text));
        expect(Object.getPrototypeOf(fields)).toBeNull();
        // Integer-like names come first in any object's key order; compare the sets.
        expect(Object.keys(fields).sort()).toEqual([...allowed].sort());
        allowed.forEach((k, i) => {
          expect(fields[k]).toBe(i);
        });
      }),
    );
  });

  it('names the offending path: a bad field name, a number out of range, a lone surrogate', () => {
    const problem = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        if (e instanceof ValueProblem) return [e.path, e.message];
      }
      return undefined;
    };
    expect(problem(() => readFields(parseJson('{"": 1}')))).toEqual([[''], expect.stringMatching(/1 to 255/)]);
    expect(problem(() => readFields(parseJson('{"a\\u0001": 1}')))).toEqual([
      ['a\u0001'],
      expect.stringMatching(/control/),
    ]);
    expect(problem(() => readFields(parseJson('{"a": [1, {"b": 1e200}]}')))).toEqual([
      ['a', 1, 'b'],
      expect.stringMatching(/larger in magnitude/),
    ]);
    expect(problem(() => readValue(parseJson('"\\ud800"')))).toEqual([[], expect.stringMatching(/lone surrogate/)]);
    expect(problem(() => readNumbers(parseJson('{"n": "1"}')))).toEqual([['n'], 'must be a number']);
    expect(problem(() => readFields(parseJson('[1]')))).toEqual([[], expect.stringMatching(/object/)]);
  });

  it('copies nested maps without prototype too', () => {
    const fields = readFields(parseJson('{"a": {"__proto__": {"b": 12345678901234567890}}}'));
    const a = fields.a as Record<string, Record<string, unknown>>;
    expect(Object.getPrototypeOf(a)).toBeNull();
    expect(Object.getPrototypeOf(a.__proto__)).toBeNull();
    expect(numericText(a.__proto__.b as Decimal)).toBe('12345678901234567890');
  });
});
