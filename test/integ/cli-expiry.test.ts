/**
 * Field expiry from the command line, in-process against the local stack: `put --expire`,
 * `patch --expire --persist`, `vesta ttl` as JSON and as a table, and the usage errors of a bad
 * duration.
 */
import { cliAgainstLocalStack } from './cli-stack';
import { uniqueNs } from './harness';

const cli = cliAgainstLocalStack();
const { vesta, json } = cli;

describe('field expiry', () => {
  test('put --expire gives the field an expiry that ttl shows in seconds; the others have none', async () => {
    const ns = uniqueNs('cli-exp');
    const put = await json(['put', ns, 'otp/1', '{"code":"123","user":"ann"}', '--expire', 'code=5m']);

    const ttl = await json(['ttl', ns, 'otp/1']);

    expect(Object.keys(put.expires)).toEqual(['code']);
    expect(ttl).toEqual({ namespace: ns, key: 'otp/1', ttl: { code: expect.any(Number), user: null } });
    expect(ttl.ttl.code).toBeGreaterThan(290);
    expect(ttl.ttl.code).toBeLessThanOrEqual(300);
  });

  test('patch --expire and --persist alone change only expiries; ttl names the fields asked for', async () => {
    const ns = uniqueNs('cli-exp');
    await json(['put', ns, 'k', '{"a":1,"b":2}', '--expire', 'a=1h']);

    const patched = await json(['patch', ns, 'k', '--expire', 'b=2h', '--persist', 'a']);
    const ttl = await json(['ttl', ns, 'k', 'b', 'a', 'nope']);
    const table = await vesta(['ttl', ns, 'k', '--table']);

    expect(patched.fields).toEqual({ a: 1, b: 2 });
    expect(Object.keys(patched.expires)).toEqual(['b']);
    expect(ttl.ttl).toEqual({ b: expect.any(Number), a: null });
    expect(ttl.absent).toEqual(['nope']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^FIELD +TTL\na +no expiry\nb +7[0-9]{3}\n$/);
  });

  test('expire naming a field the record will not have fails with 412 and writes nothing', async () => {
    const ns = uniqueNs('cli-exp');
    await json(['put', ns, 'k', '{"a":1}']);

    const r = await vesta(['patch', ns, 'k', '--expire', 'nope=30s']);

    expect(r.code).toBe(1);
    expect(r.stderr).toContain('PreconditionFailed');
    expect(r.stderr).toContain('hint: --expire and --persist name only fields the record has after the write');
    expect(await json(['get', ns, 'k'])).toMatchObject({ rev: 1, fields: { a: 1 } });
  });

  test('a bad duration is a usage error naming the option; nothing is sent', async () => {
    const ns = uniqueNs('cli-exp');

    const put = await vesta(['put', ns, 'k', '{"a":1}', '--expire', 'a=soon']);
    const patch = await vesta(['patch', ns, 'k', '--expire', 'a=400d']);
    const ttl = await vesta(['ttl', ns]);

    expect(put.code).toBe(2);
    expect(put.stderr).toContain('--expire a expects a duration from 1s to 365d');
    expect(patch.code).toBe(2);
    expect(patch.stderr).toContain('--expire a expects a duration');
    expect(ttl.code).toBe(2);
    expect(ttl.stderr).toContain('ttl expects <ns> <key> [<field> ...]');
    expect((await vesta(['get', ns, 'k'])).code).toBe(1);
  });
});
