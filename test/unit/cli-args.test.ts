import { recordPath } from '../../src/client';
import { checkKey, parseAssignment, parseIncrement, parseList, parseRequire, parseValue } from '../../src/cli/args';
import { UsageError } from '../../src/cli/errors';
import { buildPatchBody } from '../../src/cli/patch-body';

const noFlags = { set: [], remove: [], incr: [], require: [] };

describe('values after = are JSON when they parse, else strings', () => {
  test.each([
    ['7', 7],
    ['-1.5', -1.5],
    ['true', true],
    ['null', null],
    ['"7"', '7'],
    ['{"a":[1,2]}', { a: [1, 2] }],
    ['paid', 'paid'],
    ['007', '007'],
    ['', ''],
    ['{not json', '{not json'],
  ])('%j parses to %j', (text, expected) => {
    expect(parseValue(text)).toEqual(expected);
  });
});

describe('--set name=value', () => {
  test('splits at the first = so values may contain =', () => {
    expect(parseAssignment('expr=a=b', '--set')).toEqual(['expr', 'a=b']);
  });

  test('parses the value as JSON', () => {
    expect(parseAssignment('qty=3', '--set')).toEqual(['qty', 3]);
  });

  test.each(['qty', '=3', ''])('rejects %j as a usage error', (text) => {
    expect(() => parseAssignment(text, '--set')).toThrow(UsageError);
  });
});

describe('--incr name=n', () => {
  test('takes a negative amount', () => {
    expect(parseIncrement('qty=-2')).toEqual(['qty', -2]);
  });

  test('a bare name adds 1', () => {
    expect(parseIncrement('views')).toEqual(['views', 1]);
  });

  test.each(['qty=abc', 'qty="3"', 'qty=', 'qty=1e999'])('rejects the non-number amount in %j', (text) => {
    expect(() => parseIncrement(text)).toThrow(/expects a number/);
  });
});

describe("--require 'field op value'", () => {
  test.each([
    ['qty >= 1', { field: 'qty', op: '>=', value: 1 }],
    ['qty>=1', { field: 'qty', op: '>=', value: 1 }],
    ['qty > 0', { field: 'qty', op: '>', value: 0 }],
    ['qty < 10', { field: 'qty', op: '<', value: 10 }],
    ['qty <= 10', { field: 'qty', op: '<=', value: 10 }],
    ['status == paid', { field: 'status', op: '==', value: 'paid' }],
    ['status != "7"', { field: 'status', op: '!=', value: '7' }],
    ['note == two words', { field: 'note', op: '==', value: 'two words' }],
    ['  draft absent ', { field: 'draft', op: 'absent' }],
    ['owner exists', { field: 'owner', op: 'exists' }],
    ['first name == Ada', { field: 'first name', op: '==', value: 'Ada' }],
  ])('%j parses to %j', (text, expected) => {
    expect(parseRequire(text)).toEqual(expected);
  });

  test.each(['qty', 'qty = 1', '>= 1', 'qty >=', 'exists'])('rejects %j as a usage error', (text) => {
    expect(() => parseRequire(text)).toThrow(UsageError);
  });
});

describe('--fields a,b', () => {
  test('splits on commas and drops empty names', () => {
    expect(parseList('a,,b,', '--fields')).toEqual(['a', 'b']);
  });

  test('rejects a list with no names', () => {
    expect(() => parseList(',', '--fields')).toThrow(UsageError);
  });
});

describe('record keys in URLs', () => {
  test('a key a URL can carry is taken as it is, and the client encodes each segment', () => {
    for (const key of ['cart/42', 'a b/ü?#%', 'a/../b']) expect(checkKey(key)).toBe(key);
    expect(recordPath('n', checkKey('cart/42'))).toBe('/v1/ns/n/keys/cart/42');
    expect(recordPath('n', checkKey('a b/ü?#%'))).toBe('/v1/ns/n/keys/a%20b/%C3%BC%3F%23%25');
  });

  test('a key with a dot segment URLs would resolve away travels as one segment', () => {
    expect(recordPath('n', checkKey('a/../b'))).toBe('/v1/ns/n/keys/a%2F..%2Fb');
    expect(new URL(`http://h${recordPath('n', checkKey('a/./b'))}`).pathname).toBe('/v1/ns/n/keys/a%2F.%2Fb');
  });

  test.each(['', '.', '..'])('rejects the unaddressable key %j', (key) => {
    expect(() => checkKey(key)).toThrow(UsageError);
  });
});

describe('patch bodies from flags', () => {
  test('collects every kind of flag', () => {
    const body = buildPatchBody(
      {},
      {
        set: ['status=paid', 'n=1', 'n=2'],
        remove: ['draft'],
        incr: ['qty=-1', 'views'],
        require: ['qty >= 1'],
      },
    );
    expect(body).toEqual({
      set: { status: 'paid', n: 2 },
      remove: ['draft'],
      increment: { qty: -1, views: 1 },
      require: [{ field: 'qty', op: '>=', value: 1 }],
    });
  });

  test('adds the flags to a --body', () => {
    const base = { set: { a: 1 }, require: [{ field: 'a', op: 'absent' }] };
    const body = buildPatchBody(base, { ...noFlags, set: ['b=2'], require: ['c exists'] });
    expect(body).toEqual({
      set: { a: 1, b: 2 },
      require: [
        { field: 'a', op: 'absent' },
        { field: 'c', op: 'exists' },
      ],
    });
  });

  test('a --body alone passes through unchanged', () => {
    expect(buildPatchBody({ increment: { qty: 5 } }, noFlags)).toEqual({ increment: { qty: 5 } });
  });

  test('rejects a patch with nothing to change', () => {
    expect(() => buildPatchBody({}, { ...noFlags, require: ['qty > 0'] })).toThrow(
      /at least one of --set, --remove, --incr/,
    );
  });

  test('rejects a --body part of the wrong type instead of dropping it', () => {
    expect(() => buildPatchBody({ set: [1] }, { ...noFlags, set: ['a=1'] })).toThrow(/set must be an object/);
  });
});
