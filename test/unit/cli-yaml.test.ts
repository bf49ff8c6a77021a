/**
 * `--output yaml`: what `toYaml` writes reads back, with the `yaml` library, as exactly the value
 * written: numbers digit for digit (read back from their source text, never through a double),
 * strings that look like numbers, booleans, null or dates still strings (in YAML 1.2 and in YAML
 * 1.1), odd keys as keys. And the CLI prints its results that way, on standard output only.
 */
import fc from 'fast-check';
import { type ScalarTag, type Tags, parse, parseAllDocuments } from 'yaml';
import { Decimal, numberFromText, parseJson, stringifyJson } from '../../src/client';
import { toYaml } from '../../src/cli/yaml';
import { runCli } from '../cli-harness';

/** The schema's tags with every number read from its text, exactly (`numberFromText`). */
function exactNumbers(tags: Tags): Tags {
  return tags.map((t) => {
    if (typeof t === 'string' || !/:(int|float)$/.test(t.tag)) return t;
    return { ...(t as ScalarTag), resolve: (text: string) => numberFromText(text) };
  });
}

/** Reads YAML back as YAML 1.2 (core schema) or YAML 1.1, numbers exact. Throws on any error or warning. */
function readBack(text: string, version: '1.1' | '1.2' = '1.2'): unknown {
  return parse(text, {
    version,
    customTags: exactNumbers,
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
    logLevel: 'error',
  });
}

/** The value as `--output json` writes it: equal texts mean the same value, key order included. */
const asJson = (value: unknown) => stringifyJson(value, 2);

function expectRoundTrip(value: unknown): void {
  const text = toYaml(value);
  expect(asJson(readBack(text))).toBe(asJson(value));
  expect(asJson(readBack(text, '1.1'))).toBe(asJson(value));
}

/** An object with exactly these own members, `__proto__` included (as `parseJson` makes them). */
function objectOf(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries)
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

// Strings YAML readers are known to take for something else, or that need care to write.
const LOOKALIKES = [
  ...[
    '123',
    '-1',
    '+1',
    '0',
    '-0',
    '007',
    '1.0',
    '.5',
    '1e5',
    '1E+5',
    '1_000',
    '0x1F',
    '0o17',
    '0b101',
    '1:20',
    '190:20:30',
  ],
  ...['true', 'false', 'True', 'FALSE', 'yes', 'No', 'on', 'OFF', 'y', 'n', 'Y', 'N'],
  ...['null', 'Null', 'NULL', '~', '', '.inf', '-.Inf', '.nan', '.NaN'],
  ...['2001-12-14', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10 -5', '<<', '='],
  ...['- a', '-', '? b', '?', 'a: b', 'a:', ':', 'a:b', '#c', 'a #b', '#', '%d', '%', '---', '...', '--- x', '... x'],
  ...['|', '>', '&a', '*a', '!t', '!!str', '@', '`', "'", '"', '[', ']', '{', '}', ',', '[a, b]', '{a: b}'],
  ...[' ', '  ', '\t', '\n', 'a\n', '\na', 'a\n\n', ' \n', '\n ', 'a \nb', 'a\n b', 'a\r\nb', '\r'],
  ...[
    '\u0085',
    '\u2028',
    '\u2029',
    '\ufeff',
    '\ufeffa',
    'a\u00a0',
    '\u00a0',
    '\u0000',
    '\u001b[31m',
    '\ud800',
    '\udc00x',
  ],
  ...['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'a b', 'é', '日本', '🙂', 'x'.repeat(1100)],
];

/** Exact decimals in their held form: doubles, and `Decimal`s a double cannot hold. */
const numberText = fc
  .tuple(
    fc.boolean(),
    fc.stringMatching(/^(?:0|[1-9][0-9]{0,30})$/),
    fc.option(fc.stringMatching(/^[0-9]{1,25}$/)),
    fc.option(fc.integer({ min: -120, max: 120 })),
  )
  .map(([neg, int, frac, exp]) => `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}${exp === null ? '' : `e${exp}`}`);
const exactNumber = fc.oneof(
  numberText.map((t) => numberFromText(t)),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => numberFromText(String(d))),
  fc.bigInt({ min: -(2n ** 130n), max: 2n ** 130n }).map((b) => numberFromText(b.toString())),
  fc.integer(),
);

const anyString = fc.oneof(
  fc.constantFrom(...LOOKALIKES),
  fc.string(),
  fc.string({ unit: 'binary' }),
  // Any UTF-16 code units: lone surrogates and controls too.
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
  fc
    .array(fc.constantFrom(...LOOKALIKES, 'a', ' ', '\n', '#', ':', '-', '\t'), { maxLength: 8 })
    .map((p) => p.join('')),
);

const { value: jsonValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyString,
    exactNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 6 }),
    fc
      .uniqueArray(fc.tuple(anyString, tie('value')), { selector: ([k]) => k, maxLength: 6 })
      .map((entries) => objectOf(entries)),
  ),
}));

describe('toYaml', () => {
  test('writes exact decimals as plain numbers, digit for digit', () => {
    const value = parseJson(
      '{"price": 19.990000000000000001, "big": 9007199254740993, "small": 1e-130, "huge": -1.5e+125, "n": 3, "f": 0.1}',
    );

    expect(toYaml(value)).toBe(
      'price: 19.990000000000000001\nbig: 9007199254740993\nsmall: 1e-130\nhuge: -1.5e+125\n"n": 3\nf: 0.1\n',
    );
    expect(asJson(readBack(toYaml(value)))).toBe(asJson(value));
  });

  test('quotes strings that would read as numbers, booleans, null or dates', () => {
    const text = toYaml(['123', 'true', 'null', '', 'yes', '~', '19.990000000000000001', '2024-01-01', '<<', 'plain']);

    expect(text).toBe(
      '- "123"\n- "true"\n- "null"\n- ""\n- "yes"\n- "~"\n- "19.990000000000000001"\n- "2024-01-01"\n- "<<"\n- plain\n',
    );
  });

  test('keeps odd keys as keys: __proto__, constructor, spaces, %, :, #, unicode, empty', () => {
    const value = parseJson(
      '{"__proto__": {"constructor": 1}, "a b": 2, "%": 3, ":": 4, "#": 5, "é": 6, "": 7, "123": 8, "a: b": 9, "<<": 10}',
    );
    const back = readBack(toYaml(value)) as Record<string, unknown>;

    expect(asJson(back)).toBe(asJson(value));
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(toYaml(value)).toContain('__proto__:\n  constructor: 1\n');
  });

  test('writes characters a reader may drop or break lines at as escapes, on one line', () => {
    const text = toYaml({ s: 'a\u2028b\u0085c\ufeffd\u0000e\u001bf\ud800' });

    expect(text).toBe('s: "a\\u2028b\\u0085c\\ufeffd\\u0000e\\u001bf\\ud800"\n');
    expect(readBack(text)).toEqual({ s: 'a\u2028b\u0085c\ufeffd\u0000e\u001bf\ud800' });
  });

  test('writes no anchors or aliases for a value met twice, and no folded lines', () => {
    const shared = { a: 1 };
    const d = Decimal.parse('9007199254740993');
    const text = toYaml({ x: shared, y: shared, d1: d, d2: d, long: 'word '.repeat(50).trim() });

    expect(text).not.toMatch(/[&*]/);
    expect(text.split('\n').find((l) => l.startsWith('long:'))).toBe(`long: ${'word '.repeat(50).trim()}`);
  });

  test.each([
    ['the lookalikes as values', LOOKALIKES],
    ['the lookalikes as keys', objectOf(LOOKALIKES.map((k, i) => [k, i]))],
    ['empty containers', { a: [], b: {}, c: [[]], d: [{}] }],
    ['a scalar document', '123'],
    ['null', null],
  ])('reads back %s exactly', (_name, value) => {
    expectRoundTrip(value);
  });

  test('reads back deep and wide values exactly', () => {
    let deep: unknown = Decimal.parse('0.12345678901234567890123');
    for (let i = 0; i < 100; i++) deep = i % 2 ? [deep, String(i)] : objectOf([[`k${i}`, deep]]);
    const wide = objectOf(Array.from({ length: 3000 }, (_, i) => [String(i % 7 ? `key ${i}` : i), i % 3 ? `${i}` : i]));
    const long = Array.from({ length: 5000 }, (_, i) =>
      i % 2 ? numberFromText(`${i}.000000000000000000001`) : 'true',
    );

    expectRoundTrip(deep);
    expectRoundTrip(wide);
    expectRoundTrip(long);
  });

  test('property: any JSON value reads back exactly, in YAML 1.2 and 1.1', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        expectRoundTrip(value);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  test('property: a number is written as its JSON text, unquoted', () => {
    fc.assert(
      fc.property(exactNumber, (n) => {
        expect(toYaml({ n })).toBe(`"n": ${stringifyJson(n)}\n`);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  test('property: a string is never read back as another type', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        expect(readBack(toYaml(s))).toBe(s);
        expect(readBack(toYaml(s), '1.1')).toBe(s);
        expect(readBack(toYaml(objectOf([[s, s]])))).toEqual(objectOf([[s, s]]));
      }),
      { numRuns: 5000, seed: 7 },
    );
  });
});

describe('vesta --output yaml', () => {
  const record = {
    namespace: 'shop',
    key: 'cart/1',
    fields: { price: '__DECIMAL__', big: '__BIG__', code: '007', flag: 'true', none: 'null', empty: '', __proto__: 1 },
    rev: 1,
    vv: { a: 1 },
    updatedAt: '2024-01-01T00:00:00.000Z',
  };
  // The body as the API sends it: numbers a double cannot hold, written as digits.
  const body = JSON.stringify(record)
    .replace('"__DECIMAL__"', '19.990000000000000001')
    .replace('"__BIG__"', '9007199254740993');
  const fetch = (async () =>
    new Response(body, {
      status: 200,
      headers: { 'content-type': 'application/json', etag: '"e1"' },
    })) as unknown as typeof globalThis.fetch;

  test('prints the record as YAML on standard output, digit for digit, nothing on standard error', async () => {
    const r = await runCli(['get', 'shop', 'cart/1', '--output', 'yaml'], { url: 'http://127.0.0.1:1', fetch });

    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('  price: 19.990000000000000001\n');
    expect(r.stdout).toContain('  big: 9007199254740993\n');
    expect(r.stdout).toContain('  code: "007"\n');
    expect(asJson(readBack(r.stdout))).toBe(asJson(parseJson(body)));
  });

  test('prints the same value --output json prints', async () => {
    const json = await runCli(['get', 'shop', 'cart/1', '--output', 'json'], { url: 'http://127.0.0.1:1', fetch });
    const yaml = await runCli(['get', 'shop', 'cart/1', '--output', 'yaml'], { url: 'http://127.0.0.1:1', fetch });

    expect(asJson(readBack(yaml.stdout))).toBe(asJson(parseJson(json.stdout)));
  });

  test('--output yaml with --table is a usage error', async () => {
    const r = await runCli(['get', 'shop', 'k', '--output', 'yaml', '--table'], { url: 'http://127.0.0.1:1' });

    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('--output yaml and --table ask for two formats; give one');
  });

  test('config get prints the settings as YAML', async () => {
    const r = await runCli(['config', 'get', '--output', 'yaml'], { env: { VESTA_CONFIG: '/nonexistent/vesta.json' } });

    expect(r).toEqual({ code: 0, stdout: '{}\n', stderr: '' });
  });

  test('a YAML stream of documents reads back as the items, one per document', () => {
    const items = [parseJson('{"rev": 9007199254740993}'), { key: 'true' }];
    const stream = items.map((v) => `---\n${toYaml(v)}`).join('');
    const docs = parseAllDocuments(stream, { customTags: exactNumbers });

    expect(Array.isArray(docs) && docs.map((d) => asJson(d.toJS()))).toEqual(items.map(asJson));
  });
});
