/**
 * `--table`: aligned columns for people, JSON stays the default, and commands without a table
 * form refuse the option instead of ignoring it.
 */
import {
  MAX_CELL,
  cell,
  leaseTable,
  listTable,
  locksTable,
  recordTable,
  renderTable,
  sagaTable,
  sagasTable,
  snapshotsTable,
} from '../../src/cli/table';
import { runCli } from '../cli-harness';

const record = {
  namespace: 'shop',
  key: 'cart/1',
  fields: { qty: 2, sku: 'A1', tags: ['x', 'y'] },
  rev: 3,
  vv: { local: 3 },
  lease: null,
  updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('rendering', () => {
  test('saga ls: one row per saga; a running saga has an empty end', () => {
    expect(
      sagasTable([
        { id: 'b', status: 'RUNNING', type: 'steps', startedAt: '2026-01-01T00:00:01.000Z', finishedAt: null },
        {
          id: 'a',
          status: 'SUCCEEDED',
          type: 'transfer',
          startedAt: '2026-01-01T00:00:00.000Z',
          finishedAt: '2026-01-01T00:00:02.000Z',
        },
      ]),
    ).toBe(
      [
        'ID  STATUS     TYPE      STARTEDAT                 FINISHEDAT',
        'b   RUNNING    steps     2026-01-01T00:00:01.000Z',
        'a   SUCCEEDED  transfer  2026-01-01T00:00:00.000Z  2026-01-01T00:00:02.000Z',
        '',
      ].join('\n'),
    );
  });

  test('lock ls: name, fencing token, expiry', () => {
    expect(locksTable([{ name: 'leader', fencingToken: 17, expiresAt: '2026-01-01T00:00:30.000Z' }])).toBe(
      'NAME    FENCINGTOKEN  EXPIRESAT\nleader  17            2026-01-01T00:00:30.000Z\n',
    );
  });

  test('columns are aligned under upper-case headers, the last one unpadded', () => {
    expect(
      renderTable(
        ['key', 'rev'],
        [
          ['a', 1],
          ['long/key', 12],
        ],
      ),
    ).toBe('KEY       REV\na         1\nlong/key  12\n');
  });

  test('cells: objects as compact JSON, null as empty, long values cut', () => {
    expect(cell({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(cell(null)).toBe('');
    expect(cell('x'.repeat(100))).toHaveLength(MAX_CELL);
    expect(cell('x'.repeat(100)).endsWith('…')).toBe(true);
  });

  test('a record: what it is, then one row per field', () => {
    const text = recordTable(record, '"e1"');
    expect(text).toContain('key:        shop/cart/1\n');
    expect(text).toContain('etag:       "e1"\n');
    expect(text).toMatch(/FIELD +VALUE\nqty +2\nsku +A1\ntags +\["x","y"\]\n$/);
  });

  test('a record with expiring fields: an EXPIRES column, empty for a field without expiry', () => {
    const text = recordTable({ ...record, expires: { qty: '2026-01-01T00:05:00.000Z' } }, '"e1"');

    expect(text).toMatch(/FIELD +VALUE +EXPIRES\nqty +2 +2026-01-01T00:05:00.000Z\nsku +A1\ntags +\["x","y"\]\n$/);
  });

  test('siblings with expiries: each its own EXPIRES cell', () => {
    const siblings = {
      namespace: 'shop',
      key: 'k',
      rev: 4,
      vv: { a: 1, b: 1 },
      siblings: [
        { fields: { v: 1 }, expires: { v: 't9' }, updatedAt: 't1' },
        { fields: { v: 2 }, updatedAt: 't2' },
      ],
    };

    expect(recordTable(siblings, '"e"')).toMatch(
      /SIBLING +UPDATEDAT +FIELDS +EXPIRES\n0 +t1 +\{"v":1\} +\{"v":"t9"\}\n1 +t2 +\{"v":2\}\n$/,
    );
  });

  test('a record with siblings: one row per concurrent value', () => {
    const siblings = {
      namespace: 'shop',
      key: 'k',
      rev: 4,
      vv: { a: 1, b: 1 },
      siblings: [
        { fields: { v: 1 }, updatedAt: 't1' },
        { fields: { v: 2 }, updatedAt: 't2' },
      ],
    };
    expect(recordTable(siblings, '"e"')).toMatch(/SIBLING +UPDATEDAT +FIELDS\n0 +t1 +\{"v":1\}\n1 +t2 +\{"v":2\}\n$/);
  });

  test('a listing, with fields only when it has them; empty ones say so', () => {
    expect(listTable({ items: [{ key: 'a', rev: 1, updatedAt: 't' }], cursor: null })).toBe(
      'KEY  REV  UPDATEDAT\na    1    t\n',
    );
    expect(listTable({ items: [{ key: 'a', rev: 1, updatedAt: 't', fields: { x: 1 } }], cursor: null })).toContain(
      'FIELDS\na    1    t          {"x":1}\n',
    );
    expect(listTable({ items: [], cursor: null })).toBe('(no keys)\n');
    expect(snapshotsTable([])).toBe('(no snapshots)\n');
  });

  test('snapshots, leases and sagas', () => {
    const snap = {
      id: 'snap-1',
      namespace: null,
      status: 'COMPLETE' as const,
      items: 5,
      bytes: 100,
      parts: [],
      segments: 4,
      startedAt: 's',
      finishedAt: 'f',
      format: 'vesta-snapshot/1' as const,
    };
    expect(snapshotsTable([snap])).toMatch(
      /^ID +NAMESPACE +STATUS +RECORDS +BYTES +PARTS +STARTEDAT +FINISHEDAT\nsnap-1 +\(all\) +COMPLETE +5 +100 +0\/4 +s +f\n$/,
    );
    const lease = leaseTable({
      id: 'L1',
      ttlSeconds: 30,
      remainingSeconds: 12,
      expiresAt: 'e',
      keys: [{ namespace: 'shop', key: 'k' }],
    });
    expect(lease).toContain('remainingSeconds:  12\n');
    expect(lease).toMatch(/NAMESPACE +KEY\nshop +k\n$/);
    const saga = sagaTable({
      id: 's1',
      type: 'steps',
      namespace: 'bank',
      status: 'COMPENSATED',
      executionArn: 'arn',
      startedAt: 's',
      finishedAt: 'f',
      steps: [{ name: 'debit', status: 'FAILED', error: { error: 'Vesta.StepFailed', cause: 'short' }, attempts: 2 }],
    });
    expect(saga).toContain('status:      COMPENSATED\n');
    expect(saga).toMatch(
      /# +STEP +STATUS +ATTEMPTS +ERROR\n0 +debit +FAILED +2 +\{"error":"Vesta.StepFailed","cause":"short"\}\n$/,
    );
  });
});

describe('vesta ... --table', () => {
  function vesta(argv: string[], body: unknown) {
    const fetch = (async () =>
      new Response(JSON.stringify(body), { status: 200, headers: { etag: '"e1"' } })) as typeof globalThis.fetch;
    return runCli(argv, { url: 'http://127.0.0.1:7777', fetch });
  }

  test('get prints JSON by default and a table with --table', async () => {
    expect(JSON.parse((await vesta(['get', 'shop', 'cart/1'], record)).stdout)).toEqual(record);
    const r = await vesta(['get', 'shop', 'cart/1', '--table'], record);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(recordTable(record, '"e1"'));
  });

  test('ls --table names the next page on standard error', async () => {
    const r = await vesta(['--table', 'ls', 'shop'], { items: [{ key: 'a', rev: 1, updatedAt: 't' }], cursor: 'c1' });
    expect(r.stdout).toBe('KEY  REV  UPDATEDAT\na    1    t\n');
    expect(r.stderr).toContain('`vesta ls shop --cursor c1`');
  });

  test('snapshot list --table prints a row per snapshot', async () => {
    const r = await vesta(['snapshot', 'list', '--table'], {
      items: [{ id: 'snap-1', namespace: 'shop', status: 'RUNNING', items: 0, bytes: 0, parts: [] }],
    });
    expect(r.stdout).toMatch(/^ID .*\nsnap-1 +shop +RUNNING/);
  });

  test('a command without a table form exits 2 with --table, naming those that have one', async () => {
    const r = await vesta(['ns', 'get', 'shop', '--table'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'ns get has no table form; it prints JSON or YAML (--table works with get, ttl, ls, lease get, lock ls, saga ls, saga get, snapshot list, dead-letter ls, smoke)',
    );
  });

  test('every command documents the common options in its help', async () => {
    const r = await vesta(['get', '--help'], {});
    for (const option of ['--url URL', '--profile NAME', '--region REGION', '--table', '--etag'])
      expect(r.stdout).toContain(option);
  });
});
