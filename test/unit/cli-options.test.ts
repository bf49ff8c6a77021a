/**
 * Options declared once: the parser's specs, the usage line and the `--help` lines all come from
 * the same declaration.
 */
import { type OptionDecls, optionHelp, optionUsage, parserOptions } from '../../src/cli/options';

const decls: OptionDecls = {
  mode: { type: 'string', required: true, choices: ['a', 'b'], help: { a: ['only a'], b: ['b, and', 'more on b'] } },
  set: { type: 'string', multiple: true, value: 'k=v', help: ['set field k'] },
  all: { type: 'boolean', help: ['every page'] },
  cursor: { type: 'string', value: 'c', or: true, help: ['after a page'] },
  wait: { type: 'boolean', help: ['poll until done'] },
  interval: { type: 'string', value: '<ms>', within: true, help: ['pause between polls'] },
  require: { type: 'string', value: "'field op value'", help: ['only if it holds'] },
  help: { type: 'boolean', short: 'h', help: ['show help'] },
};

test('the parser gets each type, and multiple and short where declared', () => {
  expect(parserOptions(decls)).toEqual({
    mode: { type: 'string' },
    set: { type: 'string', multiple: true },
    all: { type: 'boolean' },
    cursor: { type: 'string' },
    wait: { type: 'boolean' },
    interval: { type: 'string' },
    require: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
});

test('the usage line brackets optional options, joins alternatives and nests what goes with another', () => {
  expect(optionUsage(decls)).toBe(
    "--mode a|b [--set k=v ...] [--all | --cursor c] [--wait [--interval <ms>]] [--require 'field op value'] [--help]",
  );
});

test('help lines align the text in one column, one entry per explained value, a long name on a line of its own', () => {
  expect(optionHelp(decls)).toEqual([
    '  --mode a                only a',
    '  --mode b                b, and',
    '                          more on b',
    '  --set k=v               set field k',
    '  --all                   every page',
    '  --cursor c              after a page',
    '  --wait                  poll until done',
    '  --interval <ms>         pause between polls',
    "  --require 'field op value'",
    '                          only if it holds',
    '  -h, --help              show help',
  ]);
});
