/** The local stack's log: LOG_LEVEL parsing, what each level shows, and the line format. */
import { formatLine, localLog, parseLogLevel, powertoolsLevel } from '../../src/local/log';

test('LOG_LEVEL: any case, INFO when unset or empty, an unknown level refused with the list', () => {
  expect(parseLogLevel(undefined)).toBe('INFO');
  expect(parseLogLevel(' ')).toBe('INFO');
  expect(parseLogLevel('debug')).toBe('DEBUG');
  expect(parseLogLevel('Warn')).toBe('WARN');
  expect(parseLogLevel('SILENT')).toBe('SILENT');
  expect(() => parseLogLevel('verbose')).toThrow(
    'LOG_LEVEL must be one of DEBUG, INFO, WARN, ERROR, SILENT (any case). Received: "verbose"',
  );
});

test("the functions' own loggers show their INFO lines only at DEBUG", () => {
  expect(powertoolsLevel('DEBUG')).toBe('DEBUG');
  expect(powertoolsLevel('INFO')).toBe('WARN');
  expect(powertoolsLevel('ERROR')).toBe('ERROR');
  expect(powertoolsLevel('SILENT')).toBe('SILENT');
});

function capture(level: Parameters<typeof localLog>[0]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = localLog(level, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    now: () => new Date('2026-12-06T20:01:02.345Z'),
  });
  log.debug('d');
  log.info('GET /v1/health 200 3 ms');
  log.warn('w', { n: 1 });
  log.error('e');
  return { out, err };
}

test('each level shows itself and what is more severe; warnings and errors go to standard error', () => {
  expect(capture('INFO')).toEqual({
    out: ['20:01:02.345 INFO  GET /v1/health 200 3 ms'],
    err: ['20:01:02.345 WARN  w n=1', '20:01:02.345 ERROR e'],
  });
  expect(capture('DEBUG').out).toEqual(['20:01:02.345 DEBUG d', '20:01:02.345 INFO  GET /v1/health 200 3 ms']);
  expect(capture('WARN')).toEqual({ out: [], err: ['20:01:02.345 WARN  w n=1', '20:01:02.345 ERROR e'] });
  expect(capture('ERROR')).toEqual({ out: [], err: ['20:01:02.345 ERROR e'] });
  expect(capture('SILENT')).toEqual({ out: [], err: [] });
});

test('data as key=value: plain words as they are, anything else as JSON, undefined left out', () => {
  expect(formatLine('m', { a: 'word', b: 'two words', c: 3, d: { x: [1] }, e: undefined })).toBe(
    'm a=word b="two words" c=3 d={"x":[1]}',
  );
  expect(formatLine('m')).toBe('m');
});
