/**
 * `--output yaml`: a JSON value as a YAML document, written with the `yaml` library and two tags
 * of our own. Loaded only when YAML is asked for (see `output.ts`), so other commands never load
 * the library.
 *
 * - Numbers are exact: a `Decimal` (a number a double cannot hold, `9007199254740993`) and a
 *   `number` are both written as plain YAML numbers, with the very digits `--output json`
 *   writes (`numericText`), never rounded and never quoted.
 * - Strings stay strings in YAML 1.2 (the `core` schema) and in YAML 1.1 readers too (`compat`):
 *   one that would read as another type (`"123"`, `"true"`, `"null"`, `""`, `"yes"`, `"~"`,
 *   `"2024-01-01"`, `"<<"`) is quoted. Keys are strings like any other (`__proto__`,
 *   `constructor`, `"a: b"`, `"#"`).
 * - A string holding a character a YAML reader may take for a line break or drop (NEL, LS, PS, a
 *   byte order mark) or that is not printable (C0/C1 controls, a lone surrogate), or of several
 *   lines one of which starts with a blank, is written double-quoted with escapes, on one line.
 *   Other strings of several lines are block scalars (`|`).
 * - No anchors or aliases, no folding of long lines: one value, one line, as in the JSON.
 */
import { Document, type ScalarTag, type Tags } from 'yaml';
import { Decimal, numericText } from '../client';

/** Characters written as escapes: controls, NEL, LS, PS, BOM, lone surrogates, noncharacters. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what gets escaped
const ESCAPED = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udfff]/u;
const ESCAPED_ALL = new RegExp(ESCAPED.source, 'gu');
/**
 * A line that starts with a space or a tab, in a string of several lines: in a block scalar (`|`)
 * it would need an indentation indicator, or read back shorter (a line of blanks only), so such
 * a string is escaped too.
 */
const BLANK_START = /(?:^|\n)[ \t]/;

/** Whether `value` is written as an escaped one-line string rather than as the library would. */
const escapes = (value: string): boolean => ESCAPED.test(value) || (value.includes('\n') && BLANK_START.test(value));

/** `value` as a one-line double-quoted YAML scalar: JSON's escapes, and `\uXXXX` for `ESCAPED`. */
function escapedString(value: string): string {
  return JSON.stringify(value).replace(ESCAPED_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$/;

/** A number held exactly (`Decimal`, or a finite `number`), written as its canonical decimal text. */
const exactNumber: ScalarTag = {
  tag: 'tag:yaml.org,2002:float',
  default: true,
  identify: (v) => v instanceof Decimal || (typeof v === 'number' && Number.isFinite(v)),
  // The library prefers a tag with a test among those that identify a value; this one goes first.
  test: JSON_NUMBER,
  // Never used to read: the CLI only writes YAML.
  resolve: (text) => text,
  stringify: ({ value }) => numericText(value as Decimal | number),
};

/** `exactNumber`, then the schema's own tags, the string one writing what `escapes` picks as `escapedString`. */
function tags(schemaTags: Tags): Tags {
  const withEscapes = schemaTags.map((t) => {
    if (typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:str' || !('resolve' in t)) return t;
    const str = t as ScalarTag;
    const escaping: ScalarTag = {
      ...str,
      stringify: (item, ctx, onComment, onChompKeep) =>
        typeof item.value === 'string' && escapes(item.value)
          ? escapedString(item.value)
          : (str.stringify?.(item, ctx, onComment, onChompKeep) ?? String(item.value)),
    };
    return escaping;
  });
  return [exactNumber, ...withEscapes];
}

/**
 * `value` (a JSON value as `parseJson` reads it) as one YAML document, ending with a newline.
 * Throws `Error` for a value YAML cannot hold here (a function, a symbol).
 */
export function toYaml(value: unknown): string {
  const doc = new Document(value, {
    schema: 'core',
    compat: 'yaml-1.1',
    customTags: tags,
    aliasDuplicateObjects: false,
    keepUndefined: false,
  });
  return doc.toString({ lineWidth: 0 });
}
