/**
 * Numbers a double cannot hold travel every path without losing a digit: the change log and the
 * events on the bus, snapshot parts and a restore, the typed client (exact mode) and the CLI.
 * A record that once wedged its namespace's change publisher (a counter past 2^53) now flows, and
 * later changes of the namespace flow after it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Decimal, VestaClient, numericText } from '../../src/client';
import { main } from '../../src/cli/main';
import { serve } from '../../src/local/server';
import { type TestFeed, testFeed } from './feed';
import { testApi, uniqueNs } from './harness';

const json = { 'content-type': 'application/json' };
const FIELDS =
  '{"big":12345678901234567890123,"frac":0.12345678901234567890123,"huge":1e125,"tiny":-1e-130,"n":9007199254740991}';
const DIGITS = ['"big":12345678901234567890123', '"frac":0.12345678901234567890123', '"huge":1e+125', '"tiny":-1e-130'];

describe('the change feed', () => {
  let feed: TestFeed;
  beforeAll(async () => {
    feed = await testFeed();
  });
  afterAll(() => feed.close());

  it('publishes a counter past 2^53 exactly, and the namespace flows on after it', async () => {
    const ns = uniqueNs('exact');
    await feed.api.call('PUT', `/v1/ns/${ns}/keys/k`, { body: `{"fields":${FIELDS}}`, headers: json });
    await feed.api.call('PATCH', `/v1/ns/${ns}/keys/k`, { body: '{"increment":{"n":2}}', headers: json });
    await feed.api.call('PUT', `/v1/ns/${ns}/keys/later`, { body: '{"fields":{"ok":true}}', headers: json });
    await feed.poller.drain();
    const page = await feed.api.call('GET', `/v1/ns/${ns}/changes?limit=10`);
    expect(page.status).toBe(200);
    for (const d of DIGITS) expect(page.text).toContain(d);
    expect(page.text).toContain('"n":9007199254740993');
    expect(page.body.items.map((c: { key: string; rev: number }) => `${c.key}@${c.rev}`)).toEqual([
      'k@1',
      'k@2',
      'later@1',
    ]);
    const onBus = feed.events.filter((e) => e.namespace === ns && e.key === 'k');
    expect(onBus.map((e) => numericText(e.fields!.n as never))).toEqual(['9007199254740991', '9007199254740993']);
    expect(onBus[1].fields!.big).toBeInstanceOf(Decimal);
  });
});

describe('snapshots, the client and the CLI', () => {
  const api = testApi();
  let server: Server;
  let url = '';
  beforeAll(async () => {
    server = await serve(api.handler, 0);
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    api.close();
  });

  it('a snapshot part holds every digit and a restore brings them back', async () => {
    const ns = uniqueNs('exact');
    await api.call('PUT', `/v1/ns/${ns}/keys/k`, { body: `{"fields":${FIELDS}}`, headers: json });
    const snap = await api.call('POST', '/v1/snapshots', { body: { namespace: ns } });
    await api.workflows.settled();
    expect((await api.call('GET', `/v1/snapshots/${snap.body.id}`)).body.status).toBe('COMPLETE');
    const dir = join(api.blobDir, 'snapshots', snap.body.id);
    const lines = readdirSync(dir)
      .filter((f) => f.endsWith('.gz'))
      .map((f) => gunzipSync(readFileSync(join(dir, f))).toString('utf8'))
      .join('');
    for (const d of DIGITS) expect(lines).toContain(d);
    const target = uniqueNs('restored');
    const restore = await api.call('POST', `/v1/snapshots/${snap.body.id}/restore`, {
      body: { namespace: target, mode: 'missing' },
    });
    await api.workflows.settled();
    expect((await api.call('GET', `/v1/restores/${restore.body.id}`)).body).toMatchObject({
      status: 'COMPLETE',
      written: 1,
    });
    const back = (await api.call('GET', `/v1/ns/${target}/keys/k`)).text;
    for (const d of DIGITS) expect(back).toContain(d);
  });

  it('the typed client in exact mode reads and writes numbers without loss', async () => {
    const ns = uniqueNs('exact');
    const exact = new VestaClient({ url, numbers: 'exact' });
    await exact.put(ns, 'k', { n: 2n ** 64n, d: Decimal.parse('0.12345678901234567890123'), plain: 3 } as never);
    const record = (await exact.get(ns, 'k')).record as { fields: Record<string, unknown> };
    expect(record.fields.n).toBeInstanceOf(Decimal);
    expect((record.fields.n as Decimal).toBigInt()).toBe(2n ** 64n);
    expect(numericText(record.fields.d as Decimal)).toBe('0.12345678901234567890123');
    expect(record.fields.plain).toBe(3);
    const doubles = new VestaClient({ url });
    expect(((await doubles.get(ns, 'k')).record as { fields: Record<string, unknown> }).fields.n).toBe(
      18446744073709552000,
    );
  });

  it('the CLI prints and sends every digit', async () => {
    const ns = uniqueNs('exact');
    let out = '';
    let err = '';
    const io = {
      out: (t: string) => void (out += t),
      err: (t: string) => void (err += t),
      readStdin: async () => '',
      env: { VESTA_URL: url },
    };
    expect(await main(['put', ns, 'k', '{"n":12345678901234567890123}'], io)).toBe(0);
    expect([await main(['patch', ns, 'k', '--incr', 'n=0.001'], io), err]).toEqual([0, '']);
    out = '';
    expect(await main(['get', ns, 'k'], io)).toBe(0);
    expect(out).toContain('"n": 12345678901234567890123.001');
  });
});
