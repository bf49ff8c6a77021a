/**
 * `vesta saga ls` and `vesta lock ls` in-process against the local stack: JSON pages with a
 * cursor, `--all`, filters, `--output table` and `--output yaml`, and usage errors.
 */
import { cliAgainstLocalStack } from './cli-stack';
import { uniqueNs } from './harness';

const cli = cliAgainstLocalStack();
const { vesta, json } = cli;

async function leaseId(ttl = 60): Promise<string> {
  const r = await vesta(['lease', 'grant', '--ttl', String(ttl), '--id-only']);
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

describe('lock ls', () => {
  test('JSON pages by name with a cursor, --all, --prefix; never a lease id', async () => {
    const ns = uniqueNs('cli-locks');
    const lease = await leaseId();
    for (const name of ['jobs.b', 'jobs.a', 'other']) await json(['lock', 'acquire', ns, name, '--lease', lease]);
    const first = await json(['lock', 'ls', ns, '--limit', '2']);
    expect(first.items.map((l: { name: string }) => l.name)).toEqual(['jobs.a', 'jobs.b']);
    expect(first.cursor).toEqual(expect.any(String));
    const rest = await json(['lock', 'ls', ns, '--cursor', first.cursor]);
    expect(rest).toEqual({
      items: [{ name: 'other', fencingToken: expect.any(Number), expiresAt: expect.any(String) }],
      cursor: null,
    });
    const all = await vesta(['lock', 'ls', ns, '--all']);
    expect(all.code).toBe(0);
    expect(all.stdout).not.toContain(lease);
    expect(JSON.parse(all.stdout).items).toHaveLength(3);
    const jobs = await json(['lock', 'ls', ns, '--prefix', 'jobs.']);
    expect(jobs.items.map((l: { name: string }) => l.name)).toEqual(['jobs.a', 'jobs.b']);
    await vesta(['lock', 'release', ns, 'other', '--lease', lease]);
    expect((await json(['lock', 'ls', ns])).items).toHaveLength(2);
  });

  test('--output table and --output yaml; a bad --limit is a usage error', async () => {
    const ns = uniqueNs('cli-locks');
    const lease = await leaseId();
    const grant = await json(['lock', 'acquire', ns, 'nightly', '--lease', lease]);
    const table = await vesta(['lock', 'ls', ns, '--output', 'table']);
    expect(table.code).toBe(0);
    const [head, row] = table.stdout.trim().split('\n');
    expect(head.split(/\s+/)).toEqual(['NAME', 'FENCINGTOKEN', 'EXPIRESAT']);
    expect(row.split(/\s+/)).toEqual(['nightly', String(grant.fencingToken), grant.expiresAt]);
    const yaml = await vesta(['lock', 'ls', ns, '--output', 'yaml']);
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toContain('name: nightly');
    expect(yaml.stdout).not.toContain(lease);
    const bad = await vesta(['lock', 'ls', ns, '--limit', 'ten']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--limit');
  });
});

describe('saga ls', () => {
  async function transfer(ns: string, amount: number): Promise<string> {
    const r = await vesta([
      'saga',
      'start',
      '--transfer',
      ns,
      'acct/a',
      'acct/b',
      'balance',
      String(amount),
      '--wait',
      '--interval',
      '50',
    ]);
    return JSON.parse(r.stdout).id;
  }

  test('newest first, --status, pages with a cursor, --output table and yaml; a bad --status is a usage error', async () => {
    const ns = uniqueNs('cli-sagas');
    await json(['put', ns, 'acct/a', JSON.stringify({ balance: 100 })]);
    await json(['put', ns, 'acct/b', JSON.stringify({ balance: 0 })]);
    const ok = await transfer(ns, 30);
    const refused = await transfer(ns, 1000);
    const compensated = await json(['saga', 'ls', '--status', 'COMPENSATED', '--limit', '1000']);
    expect(compensated.items.every((s: { status: string }) => s.status === 'COMPENSATED')).toBe(true);
    expect(compensated.items.map((s: { id: string }) => s.id)).toContain(refused);
    expect(compensated.items.map((s: { id: string }) => s.id)).not.toContain(ok);
    const all = await json(['saga', 'ls', '--limit', '1000']);
    const ids = all.items.map((s: { id: string }) => s.id);
    expect(ids.indexOf(refused)).toBeLessThan(ids.indexOf(ok));
    expect(all.items.find((s: { id: string }) => s.id === ok)).toEqual({
      id: ok,
      status: 'SUCCEEDED',
      type: 'transfer',
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
    });
    const one = await json(['saga', 'ls', '--limit', '1']);
    expect(one.items).toHaveLength(1);
    expect(one.cursor).toEqual(expect.any(String));
    const next = await json(['saga', 'ls', '--limit', '1', '--cursor', one.cursor]);
    expect(next.items[0].id).not.toBe(one.items[0].id);

    const table = await vesta(['saga', 'ls', '--status', 'SUCCEEDED', '--output', 'table', '--limit', '1000']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0].split(/\s+/)).toEqual(['ID', 'STATUS', 'TYPE', 'STARTEDAT', 'FINISHEDAT']);
    expect(lines.some((l) => l.startsWith(`${ok} `) && l.includes('SUCCEEDED'))).toBe(true);
    const yaml = await vesta(['saga', 'ls', '--status', 'COMPENSATED', '--output', 'yaml', '--limit', '1000']);
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toContain(`id: ${refused}`);

    const bad = await vesta(['saga', 'ls', '--status', 'done']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--status');
  });
});

test('completion offers the new commands and the saga statuses', async () => {
  const r = await vesta(['completion', 'bash']);
  expect(r.stdout).toContain('COMPENSATION_FAILED');
  expect(r.stdout).toMatch(/\bls\b/);
});
