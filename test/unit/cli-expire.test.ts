import { COMMANDS, COMMON_OPTIONS, findCommand } from '../../src/cli/commands';
import { completionScript } from '../../src/cli/completion';
import { parseDuration, parseExpires } from '../../src/cli/expire-args';
import { buildPatchBody } from '../../src/cli/patch-body';
import { fieldTtls, ttlTable } from '../../src/cli/ttl-command';
import { commandUsage, toolUsage } from '../../src/cli/usage';

const noFlags = { set: [], remove: [], incr: [], require: [] };

describe('--expire durations', () => {
  test.each([
    ['30', 30],
    ['30s', 30],
    ['5m', 300],
    ['2h', 7200],
    ['1d', 86_400],
    ['365d', 31_536_000],
  ])('%s is %d seconds', (text, seconds) => {
    expect(parseDuration(text, '--expire code')).toBe(seconds);
  });

  test.each(['0', '0s', '366d', '1.5s', '-5', '5w', 'soon', '', '1 h'])(
    '%j is a usage error naming the option',
    (text) => {
      expect(() => parseDuration(text, '--expire code')).toThrow(
        /^--expire code expects a duration from 1s to 365d, like 30s, 5m, 2h, 1d or whole seconds/,
      );
    },
  );

  test('field=duration splits at the last =, a later value wins', () => {
    expect(parseExpires(['a=b=5m', 'code=30s', 'code=1m'])).toEqual({ 'a=b': 300, code: 60 });
  });

  test('a value without a field name is a usage error', () => {
    expect(() => parseExpires(['30s'])).toThrow(/--expire expects field=duration/);
    expect(() => parseExpires(['=30s'])).toThrow(/--expire expects field=duration/);
  });
});

describe('patch bodies with expiries', () => {
  test('--expire and --persist alone make a patch, added to a --body', () => {
    const body = buildPatchBody(
      { expire: { a: 5 }, persist: ['b'] },
      { ...noFlags, expire: ['code=2m'], persist: ['c'] },
    );

    expect(body).toEqual({ expire: { a: 5, code: 120 }, persist: ['b', 'c'] });
  });

  test('a patch with nothing to do names all five flags', () => {
    expect(() => buildPatchBody({}, noFlags)).toThrow(
      'patch needs at least one of --set, --remove, --incr, --expire, --persist',
    );
  });

  test('a bad duration names the option and the field', () => {
    expect(() => buildPatchBody({}, { ...noFlags, expire: ['code=soon'] })).toThrow(/^--expire code expects/);
  });
});

describe('vesta ttl', () => {
  const now = Date.parse('2026-01-01T00:00:00.000Z');
  const record = {
    fields: { code: '1', user: 'ann' },
    expires: { code: '2026-01-01T00:00:29.500Z' },
  };

  test('every field: seconds left rounded up, null without expiry', () => {
    expect(fieldTtls(record, [], now)).toEqual({ ttl: { code: 30, user: null } });
  });

  test('named fields only, those the record lacks listed as absent', () => {
    expect(fieldTtls(record, ['code', 'gone'], now)).toEqual({ ttl: { code: 30 }, absent: ['gone'] });
  });

  test('the table says no expiry and absent in words', () => {
    const table = ttlTable({ namespace: 'n', key: 'k', ttl: { code: 30, user: null }, absent: ['gone'] });

    expect(table.split('\n')).toEqual(['FIELD  TTL', 'code   30', 'user   no expiry', 'gone   absent', '']);
  });

  test('siblings each show their own expiries', () => {
    const table = ttlTable({ namespace: 'n', key: 'k', siblings: [{ ttl: { a: 5 } }, { ttl: { a: null } }] });

    expect(table.split('\n')).toEqual(['SIBLING  FIELD  TTL', '0        a      5', '1        a      no expiry', '']);
  });
});

describe('help and completion', () => {
  test('ttl is listed, and put, patch and ttl explain the new options', () => {
    const put = commandUsage(findCommand(['put'])!);
    const patch = commandUsage(findCommand(['patch'])!);
    const ttl = commandUsage(findCommand(['ttl'])!);

    expect(toolUsage()).toMatch(/\n {2}ttl +print the seconds each field has left before it expires\n/);
    expect(put).toContain('[--expire k=DURATION ...]');
    expect(put).toMatch(/--expire k=DURATION +field k disappears that long after the write/);
    expect(patch).toMatch(/--persist k +drop field k's expiry/);
    expect(ttl).toContain('usage: vesta ttl <ns> <key> [<field> ...] [--table]');
  });

  test('bash completion offers ttl and the expiry options of put and patch', () => {
    const script = completionScript('bash', COMMANDS, COMMON_OPTIONS);

    expect(script).toMatch(/compgen -W "get put patch delete ttl /);
    expect(script).toMatch(/"put"\) flags="[^"]*--expire/);
    expect(script).toMatch(/"patch"\) flags="[^"]*--expire --persist/);
    expect(script).toContain('"ttl") flags="--table"');
  });
});
