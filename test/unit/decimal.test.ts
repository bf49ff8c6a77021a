/**
 * Exact decimals: every number DynamoDB can hold goes from text to memory and back without
 * changing its value, sums and comparisons are exact, and the range is DynamoDB's.
 */
import Big from 'big.js';
import fc from 'fast-check';
import {
  Decimal,
  addNumeric,
  compareNumeric,
  negateNumeric,
  numberFromText,
  numberProblem,
  numericText,
  toNumeric,
} from '../../src/core/decimal';

/** Decimal text within DynamoDB's range: up to 38 significant digits, exponent -130..125. */
const storableText = fc
  .tuple(fc.boolean(), fc.stringMatching(/^[1-9][0-9]{0,37}$/), fc.integer({ min: -130, max: 125 }))
  .map(([neg, digits, e]) => {
    // digits d1.d2d3... x 10^e, written in scientific form
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${neg ? '-' : ''}${mantissa}e${e}`;
  })
  .filter((t) => new Big(t).e >= -130);

const same = (a: string, b: string) => new Big(a).eq(new Big(b));

describe('numbers held exactly', () => {
  it('keeps the value of any storable number from text to memory and back', () => {
    fc.assert(
      fc.property(storableText, (text) => {
        const v = numberFromText(text);
        expect(same(numericText(v), text)).toBe(true);
        expect(numberProblem(v)).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it('writes one canonical text per value, whatever form it came in', () => {
    fc.assert(
      fc.property(storableText, (text) => {
        const canonical = numericText(numberFromText(text));
        expect(numericText(numberFromText(canonical))).toBe(canonical);
        expect(numericText(numberFromText(new Big(text).toFixed()))).toBe(canonical);
      }),
      { numRuns: 1000 },
    );
  });

  it('holds a number as a double only when the double is exactly its value', () => {
    expect(numberFromText('9007199254740993')).toBeInstanceOf(Decimal);
    expect(numberFromText('0.12345678901234567890123')).toBeInstanceOf(Decimal);
    expect(numberFromText('0.1')).toBe(0.1);
    expect(numberFromText('1e125')).toBe(1e125);
    expect(numberFromText('1.50')).toBe(1.5);
    expect(Object.is(numberFromText('-0'), 0)).toBe(true);
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        const v = numberFromText(String(d));
        expect(same(numericText(v), String(d))).toBe(true);
      }),
    );
  });

  it('writes integers as digits up to 40 of them and the rest in exponent form', () => {
    expect(numericText(numberFromText('12345678901234567890123'))).toBe('12345678901234567890123');
    expect(numericText(numberFromText('1E+25'))).toBe('10000000000000000000000000');
    expect(numericText(numberFromText('1e125'))).toBe('1e+125');
    expect(numericText(numberFromText('1e-130'))).toBe('1e-130');
    expect(numericText(numberFromText('-0.000001'))).toBe('-0.000001');
    expect(numericText(numberFromText('9.9999999999999999999999999999999999999e125'))).toBe(
      '9.9999999999999999999999999999999999999e+125',
    );
  });

  it('adds exactly, like big.js, however large or small the operands', () => {
    fc.assert(
      fc.property(storableText, storableText, (a, b) => {
        const sum = addNumeric(numberFromText(a), numberFromText(b));
        expect(same(numericText(sum), new Big(a).plus(new Big(b)).toString())).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expect(numericText(addNumeric(9007199254740991, 2))).toBe('9007199254740993');
    expect(addNumeric(0.1, 0.2)).toBe(0.3);
  });

  it('compares exactly, numbers held as doubles included', () => {
    fc.assert(
      fc.property(storableText, storableText, (a, b) => {
        expect(Math.sign(compareNumeric(numberFromText(a), numberFromText(b)))).toBe(new Big(a).cmp(new Big(b)));
      }),
      { numRuns: 2000 },
    );
    expect(compareNumeric(numberFromText('9007199254740993'), 9007199254740992)).toBeGreaterThan(0);
  });

  it('negates exactly', () => {
    fc.assert(
      fc.property(storableText, (a) => {
        expect(same(numericText(negateNumeric(numberFromText(a))), new Big(a).neg().toString())).toBe(true);
      }),
    );
  });

  it('names what DynamoDB cannot hold: more than 38 digits, magnitude past 1e126 or under 1e-130', () => {
    expect(numberProblem(numberFromText('123456789012345678901234567890123456789'))).toMatch(/39 significant digits/);
    expect(numberProblem(numberFromText('1e126'))).toMatch(/larger/);
    expect(numberProblem(numberFromText('1e-131'))).toMatch(/smaller/);
    expect(numberProblem(numberFromText('1e-130'))).toBeUndefined();
    expect(numberProblem(numberFromText('-9.9999999999999999999999999999999999999e125'))).toBeUndefined();
    expect(numberProblem(addNumeric(1, numberFromText('1e-130')))).toMatch(/significant digits/);
    expect(numberProblem(Infinity)).toMatch(/finite/);
  });

  it('takes bigints past 2^53 without loss', () => {
    expect(numericText(toNumeric(2n ** 64n))).toBe('18446744073709551616');
  });
});
