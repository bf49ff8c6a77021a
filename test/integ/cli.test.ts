import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ScalarTag, type Tags, parse as parseYaml } from 'yaml';
import { numberFromText, parseJson, stringifyJson } from '../../src/client';
import { runBin, runCliJson } from '../cli-harness';
import { cliAgainstLocalStack } from './cli-stack';
import { uniqueNs } from './harness';

const cli = cliAgainstLocalStack();
const { vesta, json } = cli;

describe('records', () => {
  test('a record put with the CLI is read back with the same fields and ETag', async () => {
    const ns = uniqueNs('cli');
    const putEtag = await vesta(['put', ns, 'cart/42', '{"qty":3,"sku":"A1"}', '--etag']);
    const got = await json(['get', ns, 'cart/42']);
    const getEtag = await vesta(['get', ns, 'cart/42', '--etag']);

    expect(putEtag.code).toBe(0);
    expect(got).toMatchObject({ namespace: ns, key: 'cart/42', fields: { qty: 3, sku: 'A1' }, rev: 1 });
    expect(getEtag.stdout.trim()).toBe(putEtag.stdout.trim());
    expect(getEtag.stdout.trim()).not.toBe('');
  });

  test('put reads the fields from standard input and from a file', async () => {
    const ns = uniqueNs('cli');
    const file = join(mkdtempSync(join(tmpdir(), 'vesta-cli-')), 'fields.json');
    writeFileSync(file, '{"from": "file"}');

    const fromStdin = await json(['put', ns, 'a', '-'], '{"from": "stdin"}');
    const fromFile = await json(['put', ns, 'b', `@${file}`]);

    expect(fromStdin.fields).toEqual({ from: 'stdin' });
    expect(fromFile.fields).toEqual({ from: 'file' });
  });

  test('get --fields returns only the named fields', async () => {
    const ns = uniqueNs('cli');
    await json(['put', ns, 'k', '{"a":1,"b":2,"c":3}']);

    const got = await json(['get', ns, 'k', '--fields', 'a,c']);

    expect(got.fields).toEqual({ a: 1, c: 3 });
  });

  test('patch increments, sets and removes fields in one write', async () => {
    const ns = uniqueNs('cli');
    await json(['put', ns, 'order/1', '{"qty":1,"draft":true}']);

    const patched = await json([
      'patch',
      ns,
      'order/1',
      '--incr',
      'qty=2',
      '--incr',
      'views',
      '--set',
      'status=paid',
      '--set',
      'code=007',
      '--remove',
      'draft',
      '--require',
      'qty >= 1',
    ]);

    expect(patched.fields).toEqual({ qty: 3, views: 1, status: 'paid', code: '007' });
    expect(patched.rev).toBe(2);
  });

  test('patch takes its body as an argument, as put does, and the flags are added to it', async () => {
    const ns = uniqueNs('cli');
    await json(['put', ns, 'order/1', '{"qty":1}']);

    const patched = await json(['patch', ns, 'order/1', '{"increment":{"qty":2}}', '--set', 'status=paid']);
    const twice = await vesta(['patch', ns, 'order/1', '{"set":{"a":1}}', '--body', '{"set":{"b":2}}']);

    expect(patched.fields).toEqual({ qty: 3, status: 'paid' });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('give the body once');
    expect((await json(['get', ns, 'order/1'])).rev).toBe(2);
  });

  test('the API URL works with or without /v1, as the local stack prints it', async () => {
    const ns = uniqueNs('cli');
    const withV1 = await runCliJson(['put', ns, 'k', '{"a":1}'], { url: `${cli.stack.url}/v1` });
    const without = await runCliJson(['get', ns, 'k', '--url', `${cli.stack.url}/`]);

    expect(withV1.rev).toBe(1);
    expect(without.fields).toEqual({ a: 1 });
  });

  test('a patch whose --require does not hold fails with 412 and writes nothing', async () => {
    const ns = uniqueNs('cli');
    await json(['put', ns, 'stock', '{"qty":0}']);

    const r = await vesta(['patch', ns, 'stock', '--incr', 'qty=-1', '--require', 'qty >= 1']);

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: PreconditionFailed \(412\): /);
    expect(r.stderr).toContain('hint: the --require conditions did not hold');
    expect((await json(['get', ns, 'stock'])).fields).toEqual({ qty: 0 });
  });

  test('a write with a stale --if-match fails with 412 and a hint naming the current ETag', async () => {
    const ns = uniqueNs('cli');
    const stale = (await vesta(['put', ns, 'k', '{"v":1}', '--etag'])).stdout.trim();
    const current = (await vesta(['put', ns, 'k', '{"v":2}', '--etag'])).stdout.trim();

    const r = await vesta(['put', ns, 'k', '{"v":3}', '--if-match', stale]);

    expect(current).not.toBe('');
    expect(current).not.toBe(stale);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: PreconditionFailed \(412\): .+\n/);
    expect(r.stderr).toContain('hint: the record changed; re-read it and retry with the new ETag');
    expect(r.stderr).toContain(current);
    expect((await json(['get', ns, 'k'])).fields).toEqual({ v: 2 });
  });

  test('put --if-none-match creates once and then fails with 412', async () => {
    const ns = uniqueNs('cli');

    const first = await vesta(['put', ns, 'k', '{}', '--if-none-match']);
    const second = await vesta(['put', ns, 'k', '{}', '--if-none-match']);

    expect(first.code).toBe(0);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('PreconditionFailed (412)');
  });

  test('a deleted record is gone: get exits 1 with NotFound on standard error', async () => {
    const ns = uniqueNs('cli');
    await json(['put', ns, 'a/b', '{"x":1}']);

    const deleted = await json(['delete', ns, 'a/b']);
    const r = await vesta(['get', ns, 'a/b']);

    expect(deleted).toEqual({ namespace: ns, key: 'a/b', deleted: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: NotFound \(404\): /);
    expect(r.stderr).toContain('hint: ');
  });
});

describe('namespaces', () => {
  test('ls --all follows cursors across pages and keeps to the prefix', async () => {
    const ns = uniqueNs('cli');
    for (const key of ['a/1', 'a/2', 'a/3', 'b/1']) await json(['put', ns, key, '{}']);

    const page = await json(['ls', ns, '--prefix', 'a/', '--limit', '1']);
    const all = await json(['ls', ns, '--prefix', 'a/', '--limit', '1', '--all']);
    const withFields = await json(['ls', ns, '--prefix', 'b/', '--fields']);

    expect(page.items.map((i: { key: string }) => i.key)).toEqual(['a/1']);
    expect(page.cursor).toEqual(expect.any(String));
    expect(all.items.map((i: { key: string }) => i.key)).toEqual(['a/1', 'a/2', 'a/3']);
    expect(all.cursor).toBeNull();
    expect(withFields.items).toEqual([expect.objectContaining({ key: 'b/1', fields: {} })]);
  });

  test('ls --cursor continues after a previous page', async () => {
    const ns = uniqueNs('cli');
    for (const key of ['k1', 'k2']) await json(['put', ns, key, '{}']);
    const first = await json(['ls', ns, '--limit', '1']);

    const next = await json(['ls', ns, '--limit', '1', '--cursor', first.cursor]);

    expect(next.items.map((i: { key: string }) => i.key)).toEqual(['k2']);
  });

  test('txn applies its ops together and prints their results', async () => {
    const ns = uniqueNs('cli');
    await json(['put', ns, 'c', '{"qty":2}']);
    const body = {
      require: [{ key: 'c', field: 'qty', op: '>', value: 0 }],
      ops: [
        { op: 'put', key: 'a', fields: { x: 1 } },
        { op: 'patch', key: 'c', increment: { qty: -1 } },
      ],
    };

    const out = await json(['txn', ns, '-'], JSON.stringify(body));

    expect(out.results).toEqual([
      expect.objectContaining({ key: 'a', rev: 1 }),
      expect.objectContaining({ key: 'c', rev: 2 }),
    ]);
    expect((await json(['get', ns, 'c'])).fields).toEqual({ qty: 1 });
  });

  test('the sample txn of the README (examples/bodies/transfer.json) moves the amount, or nothing', async () => {
    const ns = uniqueNs('cli');
    await json(['put', ns, 'acct/a', '{"balance":40}']);
    const sample = `@${join(__dirname, '..', '..', 'examples', 'bodies', 'transfer.json')}`;

    await json(['txn', ns, sample]);
    const again = await vesta(['txn', ns, sample]);

    expect((await json(['get', ns, 'acct/a'])).fields).toEqual({ balance: 10 });
    expect((await json(['get', ns, 'acct/b'])).fields).toEqual({ balance: 30 });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('PreconditionFailed (412)');
  });

  test('a txn whose require fails exits 1 naming the failed entries', async () => {
    const ns = uniqueNs('cli');
    const body = { require: [{ key: 'x', exists: true }], ops: [{ op: 'put', key: 'y', fields: {} }] };

    const r = await vesta(['txn', ns, JSON.stringify(body)]);

    expect(r.code).toBe(1);
    expect(r.stderr).toContain('PreconditionFailed (412)');
    expect(r.stderr).toContain('require entries [0] did not hold and nothing was written');
  });

  test('ns set changes the conflict mode and ns get reads it back', async () => {
    const ns = uniqueNs('cli');

    const before = await json(['ns', 'get', ns]);
    const set = await json(['ns', 'set', ns, '--conflicts', 'siblings']);
    const after = await json(['ns', 'get', ns]);

    expect(before).toEqual({ namespace: ns, conflicts: 'reject' });
    expect(set).toEqual({ namespace: ns, conflicts: 'siblings' });
    expect(after).toEqual({ namespace: ns, conflicts: 'siblings' });
  });

  test('a record with concurrent versions prints its siblings and a note on how to resolve them', async () => {
    const ns = uniqueNs('cli');
    await json(['ns', 'set', ns, '--conflicts', 'siblings']);
    await json(['put', ns, 'k', '{"v":1}']);
    await json(['put', ns, 'k', '{"v":2}']);

    const r = await vesta(['get', ns, 'k']);

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).siblings).toHaveLength(2);
    expect(r.stderr).toContain('note: the record has concurrent versions');
  });
});

describe('tables and health', () => {
  test('get, ls and lease get print tables with --table', async () => {
    const ns = uniqueNs('cli');
    await json(['put', ns, 'cart/1', '{"qty":2,"sku":"A1"}']);
    await json(['put', ns, 'cart/2', '{}']);

    const got = await vesta(['get', ns, 'cart/1', '--table']);
    const listed = await vesta(['ls', ns, '--table', '--fields']);
    const lease = (await json(['lease', 'grant', '--ttl', '30'])).id;
    const leaseTable = await vesta(['lease', 'get', lease, '--table']);

    expect(got.code).toBe(0);
    expect(got.stdout).toContain(`key:        ${ns}/cart/1\n`);
    expect(got.stdout).toMatch(/FIELD +VALUE\nqty +2\nsku +A1\n$/);
    expect(listed.stdout).toMatch(
      /^KEY +REV +UPDATEDAT +FIELDS\ncart\/1 +1 +\S+ +\{.*"qty":2.*\}\ncart\/2 +1 +\S+ +\{\}\n$/,
    );
    expect(leaseTable.stdout).toContain(`id:                ${lease}\n`);
    expect(leaseTable.stdout).toContain('(no records attached)');
  });

  test('--output yaml prints what --output json prints, numbers digit for digit and unquoted', async () => {
    const ns = uniqueNs('cli');
    const fields =
      '{"price":19.990000000000000001,"big":9007199254740993,"code":"123","flag":"true","none":"null","__proto__":{"a b":""}}';
    await vesta(['put', ns, 'k', fields]);

    const json = await vesta(['get', ns, 'k', '--output', 'json']);
    const yaml = await vesta(['get', ns, 'k', '--output', 'yaml']);
    const listed = await vesta(['ls', ns, '--fields', '--output', 'yaml']);
    const listedJson = await vesta(['ls', ns, '--fields']);

    expect([json.code, yaml.code, listed.code]).toEqual([0, 0, 0]);
    expect(yaml.stderr).toBe('');
    expect(yaml.stdout).toContain('  price: 19.990000000000000001\n');
    expect(yaml.stdout).toContain('  big: 9007199254740993\n');
    expect(yaml.stdout).toContain('  code: "123"\n');
    // Numbers read back from their text, never through a double.
    const exact = (tags: Tags): Tags =>
      tags.map((t) =>
        typeof t !== 'string' && /:(int|float)$/.test(t.tag)
          ? { ...(t as ScalarTag), resolve: (text: string) => numberFromText(text) }
          : t,
      );
    const back = parseYaml(yaml.stdout, { customTags: exact });
    expect(stringifyJson(back)).toBe(stringifyJson(parseJson(json.stdout)));
    expect(stringifyJson(parseYaml(listed.stdout, { customTags: exact }))).toBe(
      stringifyJson(parseJson(listedJson.stdout)),
    );
  });

  test('health answers ok from the local stack', async () => {
    const r = await json(['health']);
    expect(r.status).toBe('ok');
  });
});

describe('failures', () => {
  test.each([
    [['get', 'only-ns']],
    [['put', 'ns', 'k', '{"a":']],
    [['patch', 'ns', 'k']],
    [['get', 'ns', 'k', '--bogus']],
    [['ns', 'set', 'ns', '--conflicts', 'sometimes']],
    [['frobnicate']],
  ])('the usage error %j exits 2 and points to the help', async (argv) => {
    const r = await vesta(argv);

    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: .+\nhint: see `vesta .*--help`\n$/);
  });

  test('an API that cannot be reached exits 1 and suggests npm start', async () => {
    const r = await vesta(['get', 'ns', 'k', '--url', 'http://127.0.0.1:9']);

    expect(r.code).toBe(1);
    expect(r.stderr).toContain('could not reach http://127.0.0.1:9');
    expect(r.stderr).toContain('npm start');
  });

  test('a name the API rejects exits 1 with its ValidationError', async () => {
    const r = await vesta(['get', 'Not_A_Namespace', 'k']);

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: ValidationError \(400\): /);
  });
});

describe('the installed command', () => {
  test('bin/vesta.js --help prints the usage and exits 0', async () => {
    const { stdout } = await runBin(['--help']);

    expect(stdout).toMatch(/^usage: vesta <command>/);
    expect(stdout).toContain('ns set');
  });

  test('bin/vesta.js --version prints the package version', async () => {
    const { code, stdout } = await runBin(['--version']);

    expect(code).toBe(0);
    expect(stdout).toBe(`vesta ${require('../../package.json').version}\n`);
  });

  test('bin/vesta.js exits 2 on a usage error', async () => {
    const failure = await runBin(['get']);

    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('get expects <ns> <key>');
  });
});
