import { ApiError } from '../../src/client';
import { LeaseLostError, UsageError } from '../../src/cli/errors';
import { apiHint, describeError } from '../../src/cli/hints';
import {
  keepaliveIntervalMs,
  leaseWriteOptions,
  parseFence,
  parseIntervalOverride,
  parseTtl,
  requiredLease,
} from '../../src/cli/lease-args';
import { runCli } from '../cli-harness';

function conflict(reason: string, extra: Record<string, unknown> = {}): ApiError {
  return new ApiError({ status: 409, code: 'Conflict', reason, detail: 'conflict', ...extra });
}

describe('--ttl <seconds>', () => {
  test.each([
    ['30', 30],
    ['5', 5],
    ['86400', 86400],
  ])('%j parses to %d seconds', (text, seconds) => {
    expect(parseTtl(text)).toBe(seconds);
  });

  test.each(['', '0', '-5', '1.5', '30s', ' 30', '1e3', '99999999999999999999'])(
    'rejects %j as a usage error',
    (text) => {
      expect(() => parseTtl(text)).toThrow(UsageError);
    },
  );

  test('is required', () => {
    expect(() => parseTtl(undefined)).toThrow(/--ttl <seconds> is required/);
  });
});

describe('--fence <name>:<token>', () => {
  test.each(['jobs:17', 'a:b:3', 'x:0'])('%j is sent as it is', (text) => {
    expect(parseFence(text)).toBe(text);
  });

  test.each(['jobs', 'jobs:', ':17', 'jobs:abc', 'jobs:-1', 'jobs:1.5', 'jobs:99999999999999999999'])(
    'rejects %j as a usage error',
    (text) => {
      expect(() => parseFence(text)).toThrow(UsageError);
    },
  );
});

describe('lease and fence headers of a write', () => {
  test('--lease and --fence become the lease and fence of the write (X-Lease-Id and X-Fencing-Token)', () => {
    expect(leaseWriteOptions({ lease: 'L1', fence: 'jobs:17' })).toEqual({
      leaseId: 'L1',
      fence: { lock: 'jobs', token: 17 },
    });
    expect(leaseWriteOptions({ fence: 'a:b:3' })).toEqual({ leaseId: undefined, fence: { lock: 'a:b', token: 3 } });
  });

  test('absent options send neither header', () => {
    expect(leaseWriteOptions({})).toEqual({ leaseId: undefined });
  });

  test('an empty --lease is a usage error instead of an empty header', () => {
    expect(() => leaseWriteOptions({ lease: '' })).toThrow(UsageError);
  });

  test('the lock commands require --lease and name the command in the error', () => {
    expect(requiredLease({ lease: 'L1' }, 'lock acquire')).toBe('L1');
    expect(() => requiredLease({}, 'lock acquire')).toThrow(expect.objectContaining({ command: 'lock acquire' }));
  });
});

describe('keepalive interval', () => {
  test('is a third of the TTL, in whole milliseconds', () => {
    expect(keepaliveIntervalMs(30)).toBe(10000);
    expect(keepaliveIntervalMs(5)).toBe(1667);
  });

  test('VESTA_KEEPALIVE_INTERVAL_MS overrides it', () => {
    expect(keepaliveIntervalMs(30, parseIntervalOverride('50'))).toBe(50);
    expect(parseIntervalOverride(undefined)).toBeUndefined();
    expect(parseIntervalOverride('')).toBeUndefined();
  });

  test.each(['0', 'fast', '-1', '2.5'])('rejects the override %j as a usage error', (text) => {
    expect(() => parseIntervalOverride(text)).toThrow(UsageError);
  });
});

describe('hints for leases and locks', () => {
  test("LockHeld gives the holder's token and until when", () => {
    const hint = apiHint(
      conflict('LockHeld', { holder: { fencingToken: 17, expiresAt: '2026-11-22T10:00:30.000Z' } }),
      'lock acquire',
    );
    expect(hint).toContain('another lease holds the lock with fencing token 17 until 2026-11-22T10:00:30.000Z');
  });

  test('LockHeld without a holder still says the lock is taken', () => {
    expect(apiHint(conflict('LockHeld'), 'lock acquire')).toContain('another lease holds the lock');
  });

  test('LeaseNotFound says to grant a new lease', () => {
    expect(apiHint(conflict('LeaseNotFound'), 'put')).toContain('grant a new lease');
  });

  test('FencingTokenStale says to stop and re-acquire', () => {
    expect(apiHint(conflict('FencingTokenStale'), 'put')).toMatch(/you no longer hold the lock.*stop and re-acquire/);
  });

  test('LockNotHeld says this lease does not hold the lock', () => {
    expect(apiHint(conflict('LockNotHeld'), 'lock release')).toContain('this lease does not hold the lock');
  });

  test('NotFound on a lease command says the lease is gone, on lock release that nobody holds it', () => {
    const notFound = new ApiError({ status: 404, code: 'NotFound' });
    expect(apiHint(notFound, 'lease keepalive')).toContain('grant a new lease');
    expect(apiHint(notFound, 'lock release')).toContain('nobody holds that lock');
    expect(apiHint(notFound, 'get')).toContain('vesta ls');
  });

  test('a lost lease is reported as LOST with its time and what to do', () => {
    const text = describeError(new LeaseLostError('L1', '2026-11-22T10:00:00.000Z', 'revoked'));
    expect(text).toMatch(/^error: LOST lease L1 at 2026-11-22T10:00:00\.000Z: revoked\nhint: .*grant a new lease/);
  });
});

describe('lease and lock command lines', () => {
  const run = (argv: string[]) => runCli(argv, { url: 'http://127.0.0.1:9' });

  test.each([
    [['lease', 'grant']],
    [['lease', 'grant', '--ttl', 'soon']],
    [['lease', 'keepalive']],
    [['lease', 'get', 'a', 'b']],
    [['lock', 'acquire', 'ns', 'name']],
    [['lock', 'release', 'ns', 'name', '--lease', '']],
    [['lock', 'steal', 'ns', 'name']],
    [['put', 'ns', 'k', '{}', '--fence', 'name']],
  ])('%j exits 2 before sending anything', async (argv) => {
    const r = await run(argv);

    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: .+\nhint: see `vesta .*--help`\n$/);
  });

  test('`vesta lock --help` lists only the lock commands', async () => {
    const r = await run(['lock', '--help']);

    expect(r.code).toBe(0);
    expect(r.stdout).toContain('lock acquire');
    expect(r.stdout).toContain('lock release');
    expect(r.stdout).not.toContain('lease grant');
  });

  test('each write command documents --lease and --fence', async () => {
    for (const command of ['put', 'patch', 'delete', 'txn']) {
      const r = await run([command, '--help']);
      expect(r.stdout).toContain('--lease ID');
      expect(r.stdout).toContain('--fence NAME:TOKEN');
    }
  });
});
