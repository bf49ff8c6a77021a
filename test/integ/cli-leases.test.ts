import { cliAgainstLocalStack } from './cli-stack';
import { uniqueNs } from './harness';

const cli = cliAgainstLocalStack();
const { start, vesta, json } = cli;

async function grant(ttl = 30): Promise<string> {
  const r = await vesta(['lease', 'grant', '--ttl', String(ttl), '--id-only']);
  if (r.code !== 0) throw new Error(`lease grant exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Waits until `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const FAST = { VESTA_KEEPALIVE_INTERVAL_MS: '100' };

describe('leases', () => {
  test('a granted lease can be read, kept alive and revoked, and is gone after', async () => {
    const granted = await json(['lease', 'grant', '--ttl', '30']);
    const got = await json(['lease', 'get', granted.id]);
    const renewed = await json(['lease', 'keepalive', granted.id]);
    const revoked = await json(['lease', 'revoke', granted.id]);
    const after = await vesta(['lease', 'get', granted.id]);

    expect(granted).toEqual({ id: expect.any(String), ttlSeconds: 30, expiresAt: expect.any(String) });
    expect(got).toMatchObject({ id: granted.id, ttlSeconds: 30, keys: [] });
    expect(got.remainingSeconds).toBeGreaterThan(0);
    expect(renewed).toMatchObject({ id: granted.id, ttlSeconds: 30 });
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThanOrEqual(Date.parse(granted.expiresAt));
    expect(revoked).toEqual({ id: granted.id, revoked: true });
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/^error: NotFound \(404\): /);
    expect(after.stderr).toContain('grant a new lease');
  });

  test('lease grant --id-only prints only the id', async () => {
    const r = await vesta(['lease', 'grant', '--ttl', '30', '--id-only']);

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\S+\n$/);
    expect((await json(['lease', 'get', r.stdout.trim()])).id).toBe(r.stdout.trim());
  });

  test('a TTL outside the allowed range is rejected by the API with ValidationError', async () => {
    const r = await vesta(['lease', 'grant', '--ttl', '1']);

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: ValidationError \(400\): /);
  });

  test('a record written with --lease belongs to the lease and goes when it is revoked', async () => {
    const ns = uniqueNs('cli-lease');
    const lease = await grant();

    await json(['put', ns, 'session/1', '{"user":"ada"}', '--lease', lease]);
    const attached = await json(['lease', 'get', lease]);
    await json(['lease', 'revoke', lease]);
    const after = await vesta(['get', ns, 'session/1']);

    expect(attached.keys).toEqual([{ namespace: ns, key: 'session/1' }]);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('NotFound (404)');
  });

  test('a write with a revoked lease fails with LeaseNotFound and a hint to grant a new one', async () => {
    const ns = uniqueNs('cli-lease');
    const lease = await grant();
    await json(['lease', 'revoke', lease]);

    const r = await vesta(['patch', ns, 'k', '--set', 'a=1', '--lease', lease]);

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Conflict \(409\): /);
    expect(r.stderr).toContain('hint: the lease has expired, was revoked or never existed; grant a new lease');
  });
});

describe('lease keepalive --watch', () => {
  test('renews until the lease is revoked, then reports it LOST and exits 1', async () => {
    const lease = await grant(5);
    const watch = start(['lease', 'keepalive', lease, '--watch'], { env: FAST });
    await until(() => watch.stderr().includes(`renewed lease ${lease}`));

    await json(['lease', 'revoke', lease]);
    const r = await watch.done;

    expect(JSON.parse(r.stdout)).toMatchObject({ id: lease, ttlSeconds: 5 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`error: LOST lease ${lease} at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: the keepalive answered 404`),
    );
    expect(r.stderr).toContain('hint: ');
  });

  test('Ctrl-C stops it with exit 0 and leaves the lease to expire', async () => {
    const lease = await grant(5);
    const ctrlC = new AbortController();
    const watch = start(['lease', 'keepalive', lease, '--watch'], { env: FAST, interrupt: () => ctrlC.signal });
    await until(() => (watch.stderr().match(/renewed lease/g) ?? []).length >= 2);

    ctrlC.abort();
    const r = await watch.done;
    const still = await json(['lease', 'get', lease]);

    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`stopped at .+; lease ${lease} left to expire at \\d{4}-`));
    expect(still.id).toBe(lease);
  });

  test('a lease that is already gone fails at once with a hint to grant a new one', async () => {
    const lease = await grant();
    await json(['lease', 'revoke', lease]);

    const r = await start(['lease', 'keepalive', lease, '--watch'], { env: FAST }).done;

    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NotFound (404)');
    expect(r.stderr).toContain('grant a new lease');
  });
});

describe('locks', () => {
  test('a lock held by one lease is refused to another, with its token and expiry but never its lease id, until released', async () => {
    const ns = uniqueNs('cli-lock');
    const [a, b] = [await grant(), await grant()];

    const first = await json(['lock', 'acquire', ns, 'nightly', '--lease', a]);
    const again = await json(['lock', 'acquire', ns, 'nightly', '--lease', a]);
    const refused = await vesta(['lock', 'acquire', ns, 'nightly', '--lease', b]);
    const released = await json(['lock', 'release', ns, 'nightly', '--lease', a]);
    const second = await json(['lock', 'acquire', ns, 'nightly', '--lease', b]);

    expect(first).toEqual({
      name: 'nightly',
      leaseId: a,
      fencingToken: expect.any(Number),
      expiresAt: expect.any(String),
    });
    expect(again.fencingToken).toBe(first.fencingToken);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^error: Conflict \(409\): /);
    expect(refused.stderr).toContain(
      `hint: another lease holds the lock with fencing token ${first.fencingToken} until `,
    );
    expect(refused.stderr).not.toContain(a);
    expect(released).toEqual({ namespace: ns, name: 'nightly', released: true });
    expect(second.leaseId).toBe(b);
    expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
  });

  test('lock acquire --token-only prints <name>:<token>', async () => {
    const ns = uniqueNs('cli-lock');
    const lease = await grant();

    const r = await vesta(['lock', 'acquire', ns, 'jobs', '--lease', lease, '--token-only']);
    const token = (await json(['lock', 'acquire', ns, 'jobs', '--lease', lease])).fencingToken;

    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`jobs:${token}\n`);
  });

  test('releasing a lock nobody holds exits 1 with NotFound', async () => {
    const ns = uniqueNs('cli-lock');
    const lease = await grant();

    const r = await vesta(['lock', 'release', ns, 'free', '--lease', lease]);

    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NotFound (404)');
    expect(r.stderr).toContain('nobody holds that lock');
  });

  test('releasing a lock held by another lease exits 1 and leaves it held', async () => {
    const ns = uniqueNs('cli-lock');
    const [a, b] = [await grant(), await grant()];
    await json(['lock', 'acquire', ns, 'l', '--lease', a]);

    const r = await vesta(['lock', 'release', ns, 'l', '--lease', b]);
    const refused = await vesta(['lock', 'acquire', ns, 'l', '--lease', b]);

    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Conflict (409)');
    expect(refused.code).toBe(1);
  });
});

describe('fencing', () => {
  test('a write fenced with a stale token fails and writes nothing; the current token writes', async () => {
    const ns = uniqueNs('cli-fence');
    const [a, b] = [await grant(), await grant()];
    const stale = (await vesta(['lock', 'acquire', ns, 'leader', '--lease', a, '--token-only'])).stdout.trim();
    await json(['put', ns, 'config', '{"by":"a"}', '--fence', stale]);
    await json(['lock', 'release', ns, 'leader', '--lease', a]);
    const current = (await vesta(['lock', 'acquire', ns, 'leader', '--lease', b, '--token-only'])).stdout.trim();

    const r = await vesta(['put', ns, 'config', '{"by":"a, late"}', '--fence', stale]);
    const patched = await json(['patch', ns, 'config', '--set', 'by=b', '--fence', current]);

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Conflict \(409\): /);
    expect(r.stderr).toContain('hint: you no longer hold the lock and nothing was written; stop and re-acquire it');
    expect(patched.fields).toEqual({ by: 'b' });
    expect(patched.rev).toBe(2);
  });

  test('a txn fenced with a stale token fails and writes nothing', async () => {
    const ns = uniqueNs('cli-fence');
    const lease = await grant();
    const token = (await vesta(['lock', 'acquire', ns, 'leader', '--lease', lease, '--token-only'])).stdout.trim();
    await json(['lock', 'release', ns, 'leader', '--lease', lease]);
    const body = JSON.stringify({ ops: [{ op: 'put', key: 'x', fields: {} }] });

    const r = await vesta(['txn', ns, body, '--fence', token]);
    const after = await vesta(['get', ns, 'x']);

    expect(r.code).toBe(1);
    expect(r.stderr).toContain('you no longer hold the lock');
    expect(after.code).toBe(1);
  });
});
